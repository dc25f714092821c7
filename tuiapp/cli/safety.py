"""Run a command so that users get a clear message, never a traceback; the details go to a log file."""

from __future__ import annotations

import sys
from collections.abc import Callable


def run_safely(command: Callable[[], int]) -> int:
    """Exit codes: the command's own; 2 for bad input; 130 on Ctrl-C; 1 for an unexpected failure."""
    from tuiapp.core.crash_log import one_line
    from tuiapp.core.user_error import UserError

    try:
        return command()
    except UserError as exc:
        print(f"ftwizard: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ftwizard: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: one line here, the traceback in a file
        print(one_line(exc), file=sys.stderr)
        return 1
