"""A path as a user typed it (`~/data`, `~alice/x`), expanded without the surprises of `Path.expanduser`."""

from __future__ import annotations

import os
from pathlib import Path

from tuiapp.core.user_error import UserError

SHOWN_CHARS = 120  # how much of a refused path a message repeats


def user_path(typed: str | os.PathLike[str]) -> Path:
    """`typed` with `~` expanded; a `~name` for no such user, or a NUL the file system refuses, is a UserError
    (pathlib raises RuntimeError and ValueError, which read as crashes)."""
    text = os.fspath(typed)
    shown = text[:SHOWN_CHARS] + ("…" if len(text) > SHOWN_CHARS else "")
    if "\0" in text:
        raise UserError(f"the path {shown!r} holds a NUL character", "give a plain path")
    try:
        return Path(text).expanduser()
    except RuntimeError:
        user = text[1:].split("/", 1)[0]
        raise UserError(
            f"the path {shown!r} starts with ~{user}, but there is no user {user!r} here",
            "write the folder out in full, or use ~/ for your own home",
        ) from None
