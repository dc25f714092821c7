"""Run a command so that users get a clear message, never a traceback; the details go to a log file."""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path


def crash_log_dir() -> Path:
    """Where unexpected errors are written ($FTWIZARD_STATE_DIR, else ~/.local/state/ftwizard)."""
    base = (
        os.environ.get("FTWIZARD_STATE_DIR")
        or Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "ftwizard"
    )
    return Path(base)


def _write_crash_log(exc: BaseException) -> Path | None:
    try:
        folder = crash_log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
        path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        return path
    except OSError:
        return None


def run_safely(command: Callable[[], int]) -> int:
    """Exit codes: the command's own; 2 for bad input; 130 on Ctrl-C; 1 for an unexpected failure."""
    from tuiapp.core.config import ConfigError
    from tuiapp.core.hardware import UnknownGpuError

    try:
        return command()
    except (ConfigError, UnknownGpuError) as exc:
        print(f"ftwizard: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ftwizard: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: a message, and the traceback in a file
        log = _write_crash_log(exc)
        where = f" Details: {log}" if log else ""
        print(f"ftwizard: unexpected error: {type(exc).__name__}: {exc}.{where}", file=sys.stderr)
        return 1
