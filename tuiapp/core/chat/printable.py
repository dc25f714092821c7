"""Model text made safe for a terminal: a model (a random one above all) can emit control characters."""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` with control characters (bar newline and tab) shown as `·`, so none can drive the terminal."""
    return CONTROL.sub("·", text)
