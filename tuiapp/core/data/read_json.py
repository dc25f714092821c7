"""The `.json` reader: an array of records, `{"train": [...]}`-style records, one record, or misnamed JSON lines.

A JSON document has to be parsed whole, so the file's text is held in memory (a 1 GB .json needs a few GB;
JSON lines do not). Items of an array are then decoded one at a time, each with its line number.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from tuiapp.core.data.lone_surrogates import lone_surrogate, may_hold_surrogates
from tuiapp.core.data.read_common import UTF8_BOM, UTF16_BOMS, ReadOptions, decoded_lines, not_utf8, open_binary
from tuiapp.core.data.read_lines import json_kind, read_jsonl
from tuiapp.core.data.records import DataError, Record

# Keys under which a JSON object keeps its list of records, most likely first.
RECORD_LIST_KEYS = ("train", "data", "rows", "records", "examples", "items", "instances", "samples", "dataset")
# Keys whose list belongs to one record (a conversation, a preference pair), never a list of records.
ROW_FIELDS = frozenset({"messages", "conversations", "chosen", "rejected", "prompt", "completion", "tools", "text"})
_SPACE = re.compile(r"[ \t\n\r]*")
FIX_HINT = "a .json file is one document, so this cannot be skipped: fix it (python -m json.tool FILE points at it)"

_decoder = json.JSONDecoder()


def _skip_space(text: str, pos: int) -> int:
    return _SPACE.match(text, pos).end()  # type: ignore[union-attr]  # `*` always matches


def _located(path: Path, text: str, pos: int, message: str) -> DataError:
    error = json.JSONDecodeError(message, text, pos)
    return DataError(f"{path}:{error.lineno}:{error.colno}: invalid JSON: {message}; {FIX_HINT}")


def _decode(path: Path, text: str, pos: int) -> tuple[Any, int]:
    """One JSON value starting at `pos`, and the position after it."""
    try:
        return _decoder.raw_decode(text, pos)
    except json.JSONDecodeError as exc:
        raise _located(path, text, exc.pos, exc.msg) from None
    except RecursionError:
        raise _located(path, text, pos, "nested too deeply to read") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise _located(path, text, pos, str(exc)) from None


def _expect(path: Path, text: str, pos: int, allowed: str, message: str) -> str:
    if pos >= len(text) or text[pos] not in allowed:
        raise _located(path, text, pos, message)
    return text[pos]


def _array_items(path: Path, text: str, pos: int, *, whole: bool) -> Iterator[tuple[int, Any]]:
    """(start, value) for each item of the array whose `[` is at `pos`; `whole`: nothing may follow it."""
    pos = _skip_space(text, pos + 1)
    while text[pos : pos + 1] != "]":
        value, end = _decode(path, text, pos)
        yield pos, value
        pos = _skip_space(text, end)
        if _expect(path, text, pos, ",]", "Expecting ',' delimiter") == ",":
            pos = _skip_space(text, pos + 1)
            if text[pos : pos + 1] == "]":
                raise _located(path, text, pos, "Expecting value (a comma before ']')")
    if whole:
        _check_end(path, text, pos + 1)


def _member_start(text: str, pos: int, wanted: str) -> int:
    """Where the value of the (last) member `wanted` starts in the valid object whose `{` is at `pos`."""
    found = pos
    pos = _skip_space(text, pos + 1)
    while text[pos] != "}":
        key, pos = _decoder.raw_decode(text, pos)
        start = _skip_space(text, _skip_space(text, pos) + 1)
        found = start if key == wanted else found
        pos = _skip_space(text, _decoder.raw_decode(text, start)[1])
        pos = _skip_space(text, pos + 1) if text[pos] == "," else pos
    return found


def _check_end(path: Path, text: str, pos: int) -> None:
    pos = _skip_space(text, pos)
    if pos < len(text):
        raise _located(
            path, text, pos, "Extra data: a second JSON value starts here (wrap all records in one list [...])"
        )


def _is_record_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value)


def _record_list_key(document: dict[str, Any]) -> str | None:
    """Which member holds the records: a known key, or the only member if it is a list of objects."""
    for key in RECORD_LIST_KEYS:
        if isinstance(document.get(key), list):
            return key
    if len(document) == 1:
        ((key, value),) = document.items()
        if key not in ROW_FIELDS and _is_record_list(value):
            return key
    return None


def _is_json_lines(path: Path, options: ReadOptions) -> bool:
    """True if the first non-blank line is a whole JSON object and more lines follow: JSON lines, misnamed."""
    with closing(decoded_lines(path, options, skippable=False)) as lines:
        try:
            texts = (line.text for line in lines if line.text.strip())
            first = next(texts, "").strip()
            if not (first.startswith("{") and first.endswith("}")):
                return False
            return isinstance(json.loads(first), dict) and next(texts, None) is not None
        except (DataError, ValueError, RecursionError):
            return False


def _read_document(path: Path) -> str:
    with open_binary(path) as stream:
        data = stream.read()
    if data.startswith(UTF16_BOMS):
        raise DataError(f"{path} is UTF-16 text; re-save it as UTF-8 (e.g. iconv -f utf-16 -t utf-8)")
    start = len(UTF8_BOM) if data.startswith(UTF8_BOM) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = start + exc.start
        line_start = data.rfind(b"\n", 0, bad) + 1
        line = data.count(b"\n", 0, line_start) + 1
        reason = not_utf8(data[line_start : bad + 1], bad - line_start, line_start)
        raise DataError(f"{path}:{line}: {reason}") from None


class _Lines:
    """Line numbers of increasing positions in one text, counted incrementally."""

    def __init__(self, text: str) -> None:
        self.text, self.pos, self.line = text, 0, 1

    def at(self, pos: int) -> int:
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


def _records(path: Path, text: str, items: Iterator[tuple[int, Any]], options: ReadOptions) -> Iterator[Record]:
    lines = _Lines(text)
    escapes = may_hold_surrogates(text)
    for number, (pos, value) in enumerate(items, 1):
        where = f"{path}:{lines.at(pos)} (item {number})"
        problem = lone_surrogate(value) if escapes and isinstance(value, dict) else None
        if problem:
            options.bad_row(where, problem)
        elif isinstance(value, dict):
            yield Record(value, where)
        else:
            options.bad_row(where, f"holds {json_kind(value)}, but each item of the list must be an object {{...}}")


def read_json(path: Path, options: ReadOptions) -> Iterator[Record]:
    """Records of a .json file, see the module docstring; an empty file yields nothing."""
    if _is_json_lines(path, options):
        options.report.note(f"{path} holds JSON lines (one object per line), so it was read line by line")
        yield from read_jsonl(path, options)
        return
    text = _read_document(path)
    start = _skip_space(text, 0)
    if start == len(text):
        return
    if text[start] == "[":
        yield from _records(path, text, _array_items(path, text, start, whole=True), options)
        return
    document, end = _decode(path, text, start)
    _check_end(path, text, end)
    if not isinstance(document, dict):
        raise DataError(f"{path} holds {json_kind(document)}, not records: write a list of objects [{{...}}, ...]")
    key = _record_list_key(document)
    if key is None:
        where = f"{path}:{_Lines(text).at(start)}"
        problem = lone_surrogate(document) if may_hold_surrogates(text) else None
        if problem:
            options.bad_row(where, problem)
            return
        yield Record(document, where)
        return
    others = sorted(k for k, v in document.items() if k != key and _is_record_list(v))
    if others:
        options.report.note(f"{path}: read the records under {key!r}; {', '.join(map(repr, others))} left out")
    del document
    items = _array_items(path, text, _member_start(text, start, key), whole=False)
    yield from _records(path, text, items, options)
