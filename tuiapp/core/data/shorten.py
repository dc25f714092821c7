"""Cut names and values from a user's data to a few dozen characters before they go into a message.

A column name or a cell can be 100,000 characters long; a message echoes at most `NAME_LIMIT` of it and
says how much was left out, so no message line grows with the input.
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterable
from typing import Any

NAME_LIMIT = 60  # a column name, a role, a file name from inside a folder
VALUE_LIMIT = 40  # a bad value's repr
LIST_LIMIT = 12  # names listed in one message before "and N more"

_bounded = reprlib.Repr()  # keyword arguments arrive in Python 3.12
_bounded.maxstring = _bounded.maxother = VALUE_LIMIT * 2
_bounded.maxlist = _bounded.maxdict = 6


def shorten(text: str, limit: int = NAME_LIMIT) -> str:
    """`text`, or its first `limit` characters and `… (N more characters)`."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def brief(value: Any, limit: int = VALUE_LIMIT) -> str:
    """`repr(value)` cut to `limit` characters; the repr is bounded first, so a huge value costs nothing."""
    text = _bounded.repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def name_list(names: Iterable[Any], limit: int = LIST_LIMIT, quote: str = "`") -> str:
    """`a`, `b`, `c` (each name shortened), at most `limit` of them, then `and N more`."""
    items = list(names)
    shown = ", ".join(f"{quote}{shorten(str(name))}{quote}" for name in items[:limit])
    return shown + (f" and {len(items) - limit:,} more" if len(items) > limit else "")
