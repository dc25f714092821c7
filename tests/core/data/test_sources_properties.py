"""Property tests: whatever a file holds, the readers yield Records or raise DataError, nothing else."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuiapp.core.data.read_json import RECORD_LIST_KEYS
from tuiapp.core.data.records import DataError, ReadReport
from tuiapp.core.data.sources import read_records

SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".txt", ".parquet", ".jsonl.gz")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=4)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("properties")


def read_or_data_error(path: Path, skip_bad: bool) -> list[dict] | None:
    """The rows, or None for a DataError; any other exception fails the test."""
    report = ReadReport()
    try:
        records = list(read_records(path, skip_bad=skip_bad, report=report))
    except DataError as exc:
        assert str(exc), "a DataError must say something"
        return None
    assert all(isinstance(record.data, dict) and record.where.startswith(str(path)) for record in records)
    assert report.rows_read == len(records)
    return [record.data for record in records]


@SETTINGS
@given(content=st.binary(max_size=400), suffix=st.sampled_from(SUFFIXES), skip_bad=st.booleans())
def test_random_bytes_give_records_or_a_data_error(scratch: Path, content: bytes, suffix: str, skip_bad: bool) -> None:
    path = scratch / f"bytes{suffix}"
    path.write_bytes(content)
    read_or_data_error(path, skip_bad)


@SETTINGS
@given(content=st.binary(max_size=400), cut=st.integers(min_value=0, max_value=30))
def test_random_gzipped_bytes_give_records_or_a_data_error(scratch: Path, content: bytes, cut: int) -> None:
    path = scratch / "bytes.jsonl.gz"
    packed = gzip.compress(content, mtime=0)
    path.write_bytes(packed[: len(packed) - cut])
    read_or_data_error(path, skip_bad=True)


@pytest.fixture(scope="module")
def parquet_bytes() -> bytes:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    buffer = pa.BufferOutputStream()
    rows = [{"text": f"row {i}", "n": i, "turns": [{"role": "user", "content": "hi"}]} for i in range(50)]
    pq.write_table(pa.Table.from_pylist(rows), buffer, row_group_size=16)
    return buffer.getvalue().to_pybytes()


@SETTINGS
@given(data=st.data())
def test_damaged_parquet_gives_records_or_a_data_error(
    scratch: Path, parquet_bytes: bytes, data: st.DataObject
) -> None:
    damaged = bytearray(parquet_bytes)
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        damaged[data.draw(st.integers(min_value=0, max_value=len(damaged) - 1))] = data.draw(st.integers(0, 255))
    path = scratch / "damaged.parquet"
    path.write_bytes(bytes(damaged[: data.draw(st.integers(min_value=0, max_value=len(damaged)))]))
    read_or_data_error(path, skip_bad=False)


@SETTINGS
@given(content=st.text(alphabet='{}[]",:\\ \n\r\tabc01-.eE\x00é', max_size=200), suffix=st.sampled_from(SUFFIXES[:5]))
def test_json_like_text_gives_records_or_a_data_error(scratch: Path, content: str, suffix: str) -> None:
    path = scratch / f"text{suffix}"
    path.write_text(content, encoding="utf-8", newline="")
    read_or_data_error(path, skip_bad=False)
    read_or_data_error(path, skip_bad=True)


@SETTINGS
@given(values=st.lists(json_values, max_size=8))
def test_json_lines_round_trip_objects_and_refuse_the_rest(scratch: Path, values: list) -> None:
    path = scratch / "values.jsonl"
    path.write_text("".join(json.dumps(v) + "\n" for v in values), encoding="utf-8")
    objects = [v for v in values if isinstance(v, dict)]
    if len(objects) == len(values) and values:
        assert read_or_data_error(path, skip_bad=False) == values
    elif values:
        assert read_or_data_error(path, skip_bad=False) is None
    assert read_or_data_error(path, skip_bad=True) == objects


@SETTINGS
@given(value=json_values | st.lists(json_values | json_objects, max_size=6), indent=st.sampled_from([None, 2]))
def test_json_documents_give_their_records(scratch: Path, value: object, indent: int | None) -> None:
    path = scratch / "document.json"
    path.write_text(json.dumps(value, indent=indent), encoding="utf-8")
    rows = read_or_data_error(path, skip_bad=True)
    if isinstance(value, list):
        assert rows == [v for v in value if isinstance(v, dict)]  # an empty file is skipped, too
    elif isinstance(value, dict) and len(value) > 1 and not set(value) & set(RECORD_LIST_KEYS):
        assert rows == [value]
    elif not isinstance(value, dict):
        assert rows is None


@SETTINGS
@given(
    header=st.lists(st.text("abcdefgh", min_size=1, max_size=5), min_size=1, max_size=4, unique=True),
    cells=st.lists(st.lists(st.text(max_size=12), min_size=4, max_size=4), max_size=6),
    delimiter=st.sampled_from([",", "\t"]),
)
def test_csv_written_by_the_csv_module_round_trips(
    scratch: Path, header: list[str], cells: list, delimiter: str
) -> None:
    table = [row[: len(header)] for row in cells]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(table)
    path = scratch / ("table.csv" if delimiter == "," else "table.tsv")
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    expected = [dict(zip(header, row, strict=True)) for row in table]
    assert read_or_data_error(path, skip_bad=False) == (expected or None)


@SETTINGS
@given(lines=st.lists(st.text(max_size=20).filter(lambda s: "\n" not in s and "\r" not in s), max_size=8))
def test_text_lines_round_trip(scratch: Path, lines: list[str]) -> None:
    path = scratch / "lines.txt"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8", newline="")
    expected = [{"text": line} for line in lines if line.strip()]
    assert read_or_data_error(path, skip_bad=False) == (expected or None)
