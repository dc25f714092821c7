"""Find what looks like a Hugging Face token inside a config: a token never belongs in one (configs are saved
with every run, pasted into issues and pushed with the model card)."""

from __future__ import annotations

from typing import Any

from tuiapp.core.config.errors import TOKEN_PATTERN

Loc = tuple[str | int, ...]

TOKEN_FIX = (
    "a token never goes into a config (it is saved with every run and shared with it): remove it and give "
    "the token through the HF_TOKEN environment variable or `hf auth login`"
)


def token_locations(data: Any) -> list[Loc]:
    """The key paths whose value (or whose key itself) looks like a token, in the order they appear."""
    found: list[Loc] = []
    stack: list[tuple[Loc, Any]] = [((), data)]
    seen: set[int] = set()  # data built in Python may share a list many times (or hold itself): walk it once
    while stack:
        loc, value = stack.pop()
        if isinstance(value, str):
            if TOKEN_PATTERN.search(value):
                found.append(loc)
            continue
        if not isinstance(value, (dict, list, tuple)) or id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, dict):
            for key, item in reversed(value.items()):
                if isinstance(key, str) and TOKEN_PATTERN.search(key):
                    found.append((*loc, key))
                else:
                    stack.append(((*loc, key), item))
        else:
            stack.extend(((*loc, index), item) for index, item in reversed(list(enumerate(value))))
    return found


def token_lines(text: str) -> list[int]:
    """1-based lines of `text` holding something that looks like a token (comments included)."""
    lines: list[int] = []
    line, counted_to = 1, 0
    for match in TOKEN_PATTERN.finditer(text):
        line += text.count("\n", counted_to, match.start())  # counted once over the text, however many match
        counted_to = match.start()
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines
