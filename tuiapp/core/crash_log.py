"""Where unexpected errors go: a file with the traceback, so the user sees one line instead."""

from __future__ import annotations

import os
import time
import traceback
from pathlib import Path


def crash_log_dir() -> Path:
    """$FTWIZARD_STATE_DIR, else $XDG_STATE_HOME/ftwizard, else ~/.local/state/ftwizard."""
    if os.environ.get("FTWIZARD_STATE_DIR"):
        return Path(os.environ["FTWIZARD_STATE_DIR"])
    state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state) / "ftwizard"


def write_crash_log(exc: BaseException) -> Path | None:
    """Write the traceback to a new file; None if even that fails (a full disk, say)."""
    try:
        folder = crash_log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
        path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        return path
    except OSError:
        return None


def one_line(exc: BaseException) -> str:
    """The message a user sees for an unexpected error, with where the details went."""
    log = write_crash_log(exc)
    where = f" Details: {log}" if log else ""
    return f"ftwizard: unexpected error: {type(exc).__name__}: {exc}.{where}"
