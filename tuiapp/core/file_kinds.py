"""What a path is, in words: opening a FIFO waits for a writer forever, a device never ends, and replacing
either (`merge -o /dev/null`) would break the machine. Every reader and writer of user paths asks here first."""

from __future__ import annotations

import os
import stat

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISREG, "a file"),
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def kind_of(mode: int) -> str:
    """A file mode in words: "a folder", "a file", "a FIFO (named pipe)", "a character device", …"""
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")


def special_kind(mode: int) -> str | None:
    """What a file that is neither a regular file nor a folder is, in words (None for those two)."""
    return None if stat.S_ISREG(mode) or stat.S_ISDIR(mode) else kind_of(mode)


def not_a_folder(path: str | os.PathLike[str]) -> str | None:
    """What `path` is when something other than a folder is there (links not followed), else None (a folder,
    or nothing yet): the question to ask before writing a folder into that place."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    return None if stat.S_ISDIR(mode) else kind_of(mode)
