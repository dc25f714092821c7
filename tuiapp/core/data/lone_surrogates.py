"""Find a lone surrogate (JSON's "\\ud800" without its pair) in a parsed row, with the field it sits in.

JSON may escape half of a UTF-16 pair on its own; Python's json module turns it into a string that is
not valid Unicode, which no tokenizer, Arrow table or UTF-8 file accepts. UTF-8 files, CSV, Parquet and
Hub rows cannot hold one, so only the JSON readers check, and only when the raw text has such an escape.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # \ud800 to \udfff: paired (emoji) or lone


def may_hold_surrogates(raw_json: str) -> bool:
    """Whether JSON text escapes a surrogate at all (a cheap scan that skips the check for most rows)."""
    return "\\u" in raw_json and _SURROGATE_ESCAPE.search(raw_json) is not None


def _field(path: tuple[str | int, ...]) -> str:
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path).lstrip(".")
    return text or "the row"


def _bad_index(text: str) -> int | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def lone_surrogate(row: Any) -> str | None:
    """Why the row cannot be used when a string or key in it holds a lone surrogate (where, which), else None."""
    from tuiapp.core.data.shorten import shorten

    stack: list[tuple[tuple[str | int, ...], Any]] = [((), row)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            index = _bad_index(value)
            if index is not None:
                code = f"\\u{ord(value[index]):04x}"
                where = shorten(_field(path))
                return (
                    f"`{where}` holds a lone surrogate ({code}) at character {index + 1}: half of a UTF-16 pair, "
                    "not text, so it cannot be tokenized or saved; write the character itself or its full pair "
                    "(e.g. \\ud83d\\ude00)"
                )
        elif isinstance(value, dict):
            children = []
            for key, item in value.items():
                key_text = str(key)
                if _bad_index(key_text) is not None:
                    return f"a key in `{shorten(_field(path))}` holds a lone surrogate: rename it to plain text"
                children.append(((*path, key_text), item))
            stack.extend(reversed(children))  # the first bad place is the one named
        elif isinstance(value, list):
            stack.extend(reversed([((*path, i), item) for i, item in enumerate(value)]))
    return None
