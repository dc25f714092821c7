"""Column readers: `.csv`/`.tsv` through the csv module (quoted line breaks, first row the header), and
`.parquet` through pyarrow in batches. Both stream; CSV cells stay strings, as written.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from tuiapp.core.data.read_common import ReadOptions, decoded_lines, open_binary
from tuiapp.core.data.records import DataError, Record
from tuiapp.core.data.shorten import name_list

if TYPE_CHECKING:
    from _csv import Reader

PARQUET_BATCH_ROWS = 1024
FIELD_LIMIT = 2**31 - 1  # the csv module refuses cells over 128 KiB by default; a long document is not an error
QUOTE_HINT = 'a value holding a quote, a separator or a line break must be in double quotes, inner quotes doubled ("")'
_AFTER_LONE_CR = re.compile(r"(?<=\r)(?!\n)")  # old Mac files end lines with a bare \r


def _physical_lines(path: Path, options: ReadOptions) -> Iterator[str]:
    for line in decoded_lines(path, options, skippable=False):
        yield from (piece for piece in _AFTER_LONE_CR.split(line.text) if piece)


def _rows(reader: Reader, path: Path, options: ReadOptions) -> Iterator[tuple[int, list[str]]]:
    """(line where the row starts, cells) for each row that is not an empty line."""
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if str(exc) == "unexpected end of data":
                raise DataError(f"{path}:{start}: a quote opened in this row is never closed; {QUOTE_HINT}") from None
            options.bad_row(f"{path}:{start}", f"cannot read this row as CSV ({exc}); {QUOTE_HINT}")
            continue
        if row:
            yield start, row


def _column_names(header: list[str], where: str) -> list[str]:
    """Header cells, trimmed; an empty one is named `column_N`; a name used twice is an error."""
    names = [cell.strip() or f"column_{i}" for i, cell in enumerate(header, 1)]
    twice = sorted(name for name, count in Counter(names).items() if count > 1)  # one pass: 100k columns are fine
    if twice:
        names_twice = name_list(twice, quote="'")
        raise DataError(f"{where}: the header names {names_twice} twice; give each column its own name")
    return names


def read_delimited(path: Path, options: ReadOptions, delimiter: str) -> Iterator[Record]:
    """Rows of a CSV (`,`) or TSV (`\\t`) file as {column: cell}; a row with the wrong cell count is named."""
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    reader = csv.reader(_physical_lines(path, options), delimiter=delimiter, strict=True)
    rows = _rows(reader, path, options)
    first = next(rows, None)
    if first is None:
        return
    header_line, header = first
    columns = _column_names(header, f"{path}:{header_line}")
    hint = QUOTE_HINT.replace("a separator", {",": "a comma", "\t": "a tab"}.get(delimiter, repr(delimiter)))
    for start, row in rows:
        if len(row) == 1 and len(columns) > 1 and not row[0].strip():
            continue  # a line of spaces between rows
        if len(row) == len(columns):
            yield Record(dict(zip(columns, row, strict=True)), f"{path}:{start}")
            continue
        options.bad_row(
            f"{path}:{start}",
            f"{len(row)} cells, but the header (line {header_line}) has {len(columns)} columns "
            f"({name_list(columns, limit=6, quote='')}); {hint}",
        )


def read_parquet(path: Path, options: ReadOptions) -> Iterator[Record]:
    """Rows of a Parquet file, `PARQUET_BATCH_ROWS` at a time; values are Python objects as pyarrow gives them."""
    try:
        import pyarrow
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(f"{path}: reading .parquet files needs pyarrow: pip install pyarrow") from None
    with open_binary(path) as stream:
        try:
            batches = pq.ParquetFile(stream).iter_batches(batch_size=PARQUET_BATCH_ROWS)
            number = 0
            for batch in batches:
                for data in batch.to_pylist():
                    number += 1
                    yield Record(data, f"{path} (row {number})")
        except (pyarrow.ArrowException, OSError, ValueError, TypeError, IndexError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise DataError(f"{path}: cannot read it as Parquet ({first}); is it a complete .parquet file?") from None
