"""Run a command so that users get a clear message, never a traceback; the details go to a log file."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: `--version` runs through here too
if TYPE_CHECKING:
    from collections.abc import Callable

CLOSED_PIPE_EXIT = 141  # 128 + SIGPIPE: what a shell reports for `yes | head`, a reader that left early


def run_safely(command: Callable[[], int]) -> int:
    """Exit codes: the command's own; 2 for bad input; 130 on Ctrl-C; 1 for an unexpected failure; 141,
    silently, when whoever reads our output has gone (`ftwizard runs | head`)."""
    try:
        try:
            code = _explained(command)
        finally:  # argparse's --help exits through here too
            sys.stdout.flush()  # here, not at interpreter exit, where a closed pipe would print a warning
    except BrokenPipeError:
        _silence_stdout()
        return CLOSED_PIPE_EXIT
    return code


def _explained(command: Callable[[], int]) -> int:
    from tuiapp.core.user_error import UserError

    try:
        return command()
    except BrokenPipeError:
        raise
    except UserError as exc:
        print(f"ftwizard: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ftwizard: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: one line here, the traceback in a file
        from tuiapp.core.crash_log import one_line
        from tuiapp.core.runs.failure import disk_full_errno, disk_full_words, written_path

        if (number := disk_full_errno(exc)) is not None:  # a full disk is the user's to fix, as bad input is
            print(
                f"ftwizard: {disk_full_words(number)}: could not write {written_path(exc) or 'a file'}; free some "
                "space and retry",
                file=sys.stderr,
            )
            return 2
        print(one_line(exc), file=sys.stderr)
        return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the final flush of what is still buffered cannot fail again
    (Python's "Note on SIGPIPE")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout without a file descriptor (a test's capture): nothing to flush later
        pass
