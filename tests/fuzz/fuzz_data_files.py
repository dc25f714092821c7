"""Generated dataset files: rows that are good or bad in known ways, written as jsonl/json/csv/tsv/txt/parquet
in a chosen encoding, with the row count `data inspect` must report and the first place a refusal must name."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

FIELDS_OF = {"text": ("text",), "prompt_completion": ("prompt", "completion"), "alpaca": ("instruction", "output")}
# Text a person writes, in any script; no NUL or lone surrogates (those are bad rows below).
VALUE = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=60
).filter(lambda s: s.strip() != "")
LINE_VALUE = VALUE.filter(lambda s: "\n" not in s and "\r" not in s)
# What makes a row unusable: (kind, value for the field); None means the field is left out.
ROW_BAD = st.sampled_from(["missing", "null", "bool", "list", "dict", "empty", "blank", "surrogate", "number_list"])


@dataclass
class RowSpec:
    kind: str  # good | a ROW_BAD kind | a LINE_BAD kind | blank_line
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class DataDoc:
    """A dataset file and what `data inspect` must say about it."""

    name: str
    data: bytes
    valid: int  # rows that can train
    read_bad: int  # lines the reader cannot use
    row_bad: int  # rows read but unusable for the format
    places: list[str]  # the first place of each kind of problem (":LINE" or " (row N)"); a refusal names one
    fatal: bool  # a problem --skip-bad cannot skip (a whole-file problem or an unskippable line)
    fmt: str
    what: str

    def show(self) -> str:
        return (
            f"{self.name}: "
            + repr(self.data[:700])
            + (f" ... ({len(self.data):,} bytes)" if len(self.data) > 700 else "")
        )


def _bad_value(kind: str) -> Any:
    return {
        "null": None,
        "bool": True,
        "list": ["a", "b"],
        "dict": {"a": "b"},
        "empty": "",
        "blank": " \t ",
        "surrogate": "broken \ud800 text",
        "number_list": [1, 2],
    }[kind]


KINDS = {  # the row kinds each file type can hold, besides "good"
    ".jsonl": ("bad", "not_json", "array", "number", "latin1", "blank_line"),
    ".txt": ("latin1", "blank_line"),
    ".json": ("bad", "array", "latin1"),
    ".csv": ("empty", "blank", "cells", "latin1"),
    ".tsv": ("empty", "blank", "cells", "latin1"),
    ".parquet": ("null", "empty", "blank"),
}
READ_BAD = {"not_json", "array", "number", "latin1", "cells"}  # the reader cannot use the line or item
FATAL = {".json": {"latin1"}, ".csv": {"latin1"}, ".tsv": {"latin1"}}  # not skippable: the whole file stops


@st.composite
def row_specs(draw: Any, fmt: str, suffix: str) -> list[RowSpec]:
    """Up to 25 rows, mostly good, with the kinds of bad rows this file type can hold."""
    rows = []
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(["good"] * 12 + list(KINDS[suffix]) * 2))
        kind = draw(ROW_BAD) if kind == "bad" else kind
        value = LINE_VALUE if suffix in (".txt", ".csv", ".tsv") else VALUE  # the tables' line numbers stay simple
        rows.append(RowSpec(kind, {name: draw(value) for name in FIELDS_OF[fmt]}))
    return rows


def _row_dict(spec: RowSpec, fmt: str) -> dict[str, Any]:
    """The row as an object, its last field broken the way its kind says."""
    row: dict[str, Any] = dict(spec.values)
    target = FIELDS_OF[fmt][-1]
    if spec.kind == "missing":
        row.pop(target)
    elif spec.kind in ("null", "bool", "list", "dict", "empty", "blank", "surrogate", "number_list"):
        row[target] = _bad_value(spec.kind)
    return row


def _line(spec: RowSpec, fmt: str, suffix: str) -> bytes:
    """One row as its line of a jsonl, txt, csv or tsv file, or as its item of a .json list."""
    if suffix == ".txt":
        return b"caf\xe9" if spec.kind == "latin1" else spec.values["text"].encode()
    if suffix in (".csv", ".tsv"):
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="," if suffix == ".csv" else "\t", lineterminator="")
        row = _row_dict(spec, fmt)
        cells = [row.get(name) if isinstance(row.get(name), str) else "" for name in FIELDS_OF[fmt]]
        writer.writerow([*cells, "one cell too many"] if spec.kind == "cells" else cells)
        line = buffer.getvalue().encode()
        return b"caf\xe9" + line if spec.kind == "latin1" else line
    special = {"not_json": b'{"text": "unterminated', "array": b'["a", "b"]', "number": b"42"}
    if spec.kind in special:
        return special[spec.kind]
    line = json.dumps(_row_dict(spec, fmt)).encode()  # ASCII escapes: a lone surrogate stays \\ud800
    return line[:-1] + b', "note": "caf\xe9"}' if spec.kind == "latin1" else line


def build(specs: list[RowSpec], fmt: str, suffix: str, crlf: bool, bom: bool, torn: bool) -> DataDoc:
    """Write the rows as `suffix` (one row a line) and count what the doctor must find."""
    header = [("," if suffix == ".csv" else "\t").join(FIELDS_OF[fmt]).encode()] if suffix in (".csv", ".tsv") else []
    lines = header + ([b"["] if suffix == ".json" else [])
    valid, read_places, row_places, fatal_places = 0, [], [], []
    for index, spec in enumerate(specs):
        place = f" (row {index + 1})" if suffix == ".parquet" else f":{len(lines) + 1}"
        blank_text = suffix == ".txt" and spec.kind in ("empty", "blank")
        if spec.kind == "blank_line" or blank_text:
            lines.append(b"   ")  # no row at all
            continue
        line = _line(spec, fmt, suffix)
        if suffix == ".json" and index < len(specs) - 1:
            line += b","
        lines.append(line)
        if spec.kind == "good":
            valid += 1
        elif spec.kind in FATAL.get(suffix, ()):
            fatal_places.append(place)
        elif spec.kind in READ_BAD:
            read_places.append(place)
        else:
            row_places.append(place)
    what = f"{suffix} {fmt}"
    if torn and suffix == ".jsonl" and specs[-1].kind == "good" and lines[-1] != b"   ":
        lines[-1] = lines[-1][: max(1, len(lines[-1]) // 2)]
        valid -= 1
        read_places.append(f":{len(lines)}")
        what += ", the last line cut short"
    if suffix == ".json":
        lines.append(b"]")
    data = (
        parquet_bytes(specs, fmt)
        if suffix == ".parquet"
        else b"".join(line + (b"\r\n" if crlf else b"\n") for line in lines)
    )
    if bom and suffix != ".parquet":
        data = b"\xef\xbb\xbf" + data
    places = [found[0] for found in (fatal_places, read_places, row_places) if found]
    what += f": {valid} good, {len(read_places)} unreadable, {len(row_places)} unusable, {len(fatal_places)} fatal"
    return DataDoc(
        f"data{suffix}", data, valid, len(read_places), len(row_places), places, bool(fatal_places), fmt, what
    )


def parquet_bytes(specs: list[RowSpec], fmt: str) -> bytes:
    """The rows as a Parquet file (string columns; a bad row's field is null or empty)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [_row_dict(spec, fmt) for spec in specs]
    columns = {n: [r.get(n) if isinstance(r.get(n), str) else None for r in rows] for n in FIELDS_OF[fmt]}
    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue()


@st.composite
def data_documents(draw: Any) -> DataDoc:
    """A dataset file of any supported type: a few rows (sometimes repeated into thousands), now and then one
    huge field, CRLF endings, a UTF-8 BOM or a last line cut short."""
    suffix = draw(st.sampled_from([".jsonl", ".jsonl", ".jsonl", ".json", ".csv", ".tsv", ".txt", ".parquet"]))
    fmt = "text" if suffix == ".txt" else draw(st.sampled_from(sorted(FIELDS_OF)))
    specs = draw(row_specs(fmt, suffix))
    specs = [RowSpec(s.kind, dict(s.values)) for s in specs * draw(st.sampled_from([1, 1, 1, 1, 1, 10, 100]))]
    if draw(st.integers(0, 7)) == 0:
        good = [s for s in specs if s.kind == "good"]
        if good:
            size = draw(st.sampled_from([100_000, 400_000, 1_500_000]))
            good[0].values[FIELDS_OF[fmt][-1]] = ("long text " * (size // 10))[:size]
    crlf, bom, torn = draw(st.booleans()), draw(st.integers(0, 5)) == 0, draw(st.integers(0, 5)) == 0
    return build(specs, fmt, suffix, crlf, bom, torn)
