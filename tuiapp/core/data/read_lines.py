"""Line-per-row readers: JSON lines (`.jsonl`, `.jsonl.gz`) and plain text (`.txt`), one line in memory at a time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tuiapp.core.data.lone_surrogates import lone_surrogate, may_hold_surrogates
from tuiapp.core.data.read_common import ReadOptions, decoded_lines
from tuiapp.core.data.records import Record


def json_kind(value: Any) -> str:
    """'a list', 'a string', ... for messages about a JSON value that should have been an object."""
    kinds = {list: "a list", str: "a string", bool: "true/false", type(None): "null", dict: "an object"}
    return kinds.get(type(value), "a number")


def read_jsonl(path: Path, options: ReadOptions) -> Iterator[Record]:
    """One object per non-blank line; a malformed line is named `file:line:column` (or skipped)."""
    for line in decoded_lines(path, options, skippable=True):
        text = line.text.rstrip("\r\n")
        if not text.strip():
            continue
        where = f"{path}:{line.number}"
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            options.bad_row(f"{where}:{exc.colno}", f"invalid JSON: {exc.msg}")
            continue
        except RecursionError:
            options.bad_row(where, "the JSON is nested too deeply to read")
            continue
        except ValueError as exc:  # e.g. an integer with more digits than Python converts
            options.bad_row(where, f"invalid JSON: {exc}")
            continue
        if not isinstance(value, dict):
            options.bad_row(where, f"holds {json_kind(value)}, but each line must be one JSON object {{...}}")
            continue
        problem = lone_surrogate(value) if may_hold_surrogates(text) else None
        if problem:
            options.bad_row(where, problem)
            continue
        yield Record(value, where)


def read_text(path: Path, options: ReadOptions) -> Iterator[Record]:
    """Each non-blank line becomes `{"text": line}` (line ending dropped, the rest kept as written).

    One row per line is how `datasets` loads .txt files too; blank lines are dropped rather than kept as
    empty rows, so a text file with blank lines between paragraphs yields one row per paragraph line.
    """
    for line in decoded_lines(path, options, skippable=True):
        text = line.text.rstrip("\r\n")
        if text.strip():
            yield Record({"text": text}, f"{path}:{line.number}")
