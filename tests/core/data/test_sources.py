"""The local readers: every format, folders, limits, and the located message for every bad input."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tuiapp.core.data import read_common
from tuiapp.core.data.records import DataError, ReadReport
from tuiapp.core.data.sources import SUPPORTED_SUFFIXES, count_records, peek, read_records, source_files


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


def rows(path: Path, **kwargs: object) -> list[tuple[str, dict]]:
    return [(r.where, r.data) for r in read_records(path, **kwargs)]  # type: ignore[arg-type]


def error(path: Path, **kwargs: object) -> str:
    with pytest.raises(DataError) as caught:
        list(read_records(path, **kwargs))  # type: ignore[arg-type]
    return str(caught.value)


# --- every format -------------------------------------------------------------------------------------------------


def test_jsonl_rows_name_their_line_and_skip_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", '\ufeff{"a": 1}\r\n\n   \n{"a": "é"}\n')
    assert rows(path) == [(f"{path}:1", {"a": 1}), (f"{path}:4", {"a": "é"})]


def test_jsonl_gz_reads_like_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"a": 1}\n{"a": 2}\n'))
    assert [data for _, data in rows(path)] == [{"a": 1}, {"a": 2}]


def test_damaged_gzip_is_a_located_error(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl.gz", gzip.compress(b'{"a": 1}\n' * 1000)[:-40])
    assert "gzip data is damaged or cut short" in error(path)
    assert "gzip" in error(write(tmp_path / "e.jsonl.gz", b"not gzip at all"))


def test_json_array_items_carry_line_and_item_number(tmp_path: Path) -> None:
    path = write(tmp_path / "d.json", '[\n  {"a": 1},\n  {"a": 2}\n]\n')
    assert rows(path) == [(f"{path}:2 (item 1)", {"a": 1}), (f"{path}:3 (item 2)", {"a": 2})]


def test_json_records_under_train_are_read_and_the_rest_noted(tmp_path: Path) -> None:
    document = {"version": 2, "test": [{"a": 9}], "train": [{"a": 1}, {"a": 2}]}
    path = write(tmp_path / "d.json", json.dumps(document, indent=1))
    report = ReadReport()
    assert [data for _, data in rows(path, report=report)] == [{"a": 1}, {"a": 2}]
    assert rows(path)[0][0] == f"{path}:9 (item 1)"  # the line of its "{"
    assert report.notes == [f"{path}: read the records under 'train'; 'test' left out"]


def test_json_single_unknown_key_holding_records_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / "d.json", '{"questions": [{"q": "x"}, {"q": "y"}]}')
    assert [data for _, data in rows(path)] == [{"q": "x"}, {"q": "y"}]


def test_json_single_object_is_one_record_even_a_conversation(tmp_path: Path) -> None:
    conversation = {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]}
    path = write(tmp_path / "d.json", "\n" + json.dumps(conversation))
    assert rows(path) == [(f"{path}:2", conversation)]


def test_json_lines_misnamed_json_are_read_line_by_line(tmp_path: Path) -> None:
    path = write(tmp_path / "d.json", '{"a": 1}\n{"a": 2}\n')
    report = ReadReport()
    assert rows(path, report=report) == [(f"{path}:1", {"a": 1}), (f"{path}:2", {"a": 2})]
    assert "JSON lines" in report.notes[0]


def test_csv_keeps_quoted_line_breaks_and_names_the_row_start(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", ' instruction ,output\n"two\nlines","say ""hi"""\n\nx,y\n')
    assert rows(path) == [
        (f"{path}:2", {"instruction": "two\nlines", "output": 'say "hi"'}),
        (f"{path}:5", {"instruction": "x", "output": "y"}),
    ]


def test_csv_with_old_mac_line_endings_and_a_long_cell(tmp_path: Path) -> None:
    long = "w" * 300_000  # over the csv module's default 128 KiB cell limit
    path = write(tmp_path / "d.csv", f"a,b\r1,{long}\r2,3\r")
    assert [data for _, data in rows(path)] == [{"a": "1", "b": long}, {"a": "2", "b": "3"}]


def test_tsv_and_an_unnamed_column(tmp_path: Path) -> None:
    path = write(tmp_path / "d.tsv", "prompt\t\nhi, there\tx\n")
    assert [data for _, data in rows(path)] == [{"prompt": "hi, there", "column_2": "x"}]


def test_parquet_streams_in_batches_with_row_numbers(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "d.parquet"
    table = pa.Table.from_pylist([{"text": f"row {i}", "n": i, "tags": ["x"] * (i % 3)} for i in range(2500)])
    pq.write_table(table, path, row_group_size=700)
    records = list(read_records(path))
    assert len(records) == 2500 and records[-1].data == {"text": "row 2499", "n": 2499, "tags": []}
    assert records[1300].where == f"{path} (row 1301)"


def test_corrupt_parquet_is_a_data_error(tmp_path: Path) -> None:
    message = error(write(tmp_path / "d.parquet", b"PAR1 this is not a parquet file PAR1"))
    assert "cannot read it as Parquet" in message


def test_text_has_one_row_per_non_blank_line(tmp_path: Path) -> None:
    path = write(tmp_path / "d.txt", "  indented line \r\n\n\t\nsecond\n")
    assert rows(path) == [(f"{path}:1", {"text": "  indented line "}), (f"{path}:4", {"text": "second"})]


def test_folder_reads_supported_files_in_sorted_order_and_notes_the_rest(tmp_path: Path) -> None:
    write(tmp_path / "b.txt", "from b\n")
    write(tmp_path / "a.jsonl", '{"text": "from a"}\n')
    write(tmp_path / "README.md", "# not data\n")
    write(tmp_path / ".hidden.jsonl", "broken\n")
    (tmp_path / "nested").mkdir()
    write(tmp_path / "nested" / "c.jsonl", '{"text": "not read"}\n')
    report = ReadReport()
    assert [data["text"] for _, data in rows(tmp_path, report=report)] == ["from a", "from b"]
    assert source_files(tmp_path) == [tmp_path / "a.jsonl", tmp_path / "b.txt"]
    assert any("README.md" in note for note in report.notes)
    assert any("nested/" in note for note in report.notes)


def test_limit_peek_and_count_read_lazily(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", '{"a": 1}\n{"a": 2}\n{"a": 3}\nnot json\n')
    assert [r.data for r in peek(path, 2)] == [{"a": 1}, {"a": 2}]  # never reaches the broken line
    assert list(read_records(path, limit=0)) == []
    report = ReadReport()
    assert count_records(path, skip_bad=True, report=report) == 3
    assert (report.rows_read, report.skipped_count) == (3, 1)


# --- bad input ----------------------------------------------------------------------------------------------------


def test_malformed_jsonl_line_names_file_line_column_and_offers_skip(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", '{"a": 1}\n{"a": 2}\n{"a": 3,}\n')
    message = error(path)
    assert message.startswith(f"{path}:3:9: invalid JSON: Expecting property name enclosed in double quotes")
    assert "--skip-bad" in message
    report = ReadReport()
    assert len(rows(path, skip_bad=True, report=report)) == 2
    assert report.skipped_count == 1 and report.skipped[0].where == f"{path}:3:9"


def test_jsonl_line_that_is_not_an_object(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", '{"a": 1}\n[1, 2]\n"text"\n')
    assert error(path).startswith(f"{path}:2: holds a list, but each line must be one JSON object")
    report = ReadReport()
    assert len(rows(path, skip_bad=True, report=report)) == 1 and report.skipped_count == 2


def test_deeply_nested_json_is_a_data_error(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", "[" * 100_000 + "]" * 100_000 + "\n" + '{"a": 1}\n')
    report = ReadReport()
    assert rows(path, skip_bad=True, report=report) == [(f"{path}:2", {"a": 1})] and report.skipped_count == 1
    assert error(path).startswith(f"{path}:1: the JSON is nested too deeply to read")
    assert "nested too deeply" in error(write(tmp_path / "d.json", "[" * 100_000 + "]" * 100_000))


@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".csv", ".tsv", ".txt", ".parquet"])
def test_empty_file(tmp_path: Path, suffix: str) -> None:
    path = write(tmp_path / f"d{suffix}", b"")
    assert error(path) == f"{path} is empty (0 bytes): there are no rows to read; check it is the file you meant"


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("d.jsonl", "\n  \n", "has only blank lines"),
        ("d.json", "[]", "holds no records"),
        ("d.json", '{"train": []}', "holds no records"),
        ("d.csv", "a,b\n", "has no rows below its header"),
    ],
)
def test_file_without_rows(tmp_path: Path, name: str, text: str, reason: str) -> None:
    assert reason in error(write(tmp_path / name, text))


def test_empty_file_in_a_folder_can_be_skipped(tmp_path: Path) -> None:
    write(tmp_path / "a.jsonl", '{"a": 1}\n')
    write(tmp_path / "b.jsonl", "")
    assert "remove it from the folder or skip it with --skip-bad" in error(tmp_path)
    report = ReadReport()
    assert len(rows(tmp_path, skip_bad=True, report=report)) == 1 and report.skipped_count == 1


def test_non_utf8_names_line_byte_offset_and_re_encoding(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", b'{"a": "ok"}\n{"a": "caf' + b"\xe9" + b'"}\n{"a": "fine"}\n')
    message = error(path)
    assert message.startswith(f"{path}:2: byte 0xe9 at byte offset 22 (column 11) is not UTF-8")
    assert "re-save it as UTF-8" in message
    assert [data for _, data in rows(path, skip_bad=True)] == [{"a": "ok"}, {"a": "fine"}]


@pytest.mark.parametrize("suffix", [".json", ".csv", ".txt"])
def test_non_utf8_is_located_in_other_formats(tmp_path: Path, suffix: str) -> None:
    body = {".json": b'[\n{"a": "caf\xe9"}\n]', ".csv": b"a,b\n1,caf\xe9\n", ".txt": b"ok\ncaf\xe9\n"}[suffix]
    message = error(write(tmp_path / f"d{suffix}", body))
    assert message.startswith(f"{tmp_path / ('d' + suffix)}:2: byte 0xe9 at byte offset")
    assert "not UTF-8" in message


def test_utf16_file_is_named_as_such(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", '{"a": 1}\n'.encode("utf-16"))
    assert "is UTF-16 text; re-save it as UTF-8" in error(path)


def test_a_50_mb_line_is_read(tmp_path: Path) -> None:
    big = "x" * 50_000_000
    path = write(tmp_path / "d.jsonl", b'{"text": "' + big.encode() + b'"}\n{"text": "small"}\n')
    texts = [record.data["text"] for record in read_records(path)]
    assert len(texts[0]) == 50_000_000 and texts[1] == "small"


def test_a_line_over_the_limit_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(read_common, "MAX_LINE_BYTES", 1000)
    path = write(tmp_path / "d.txt", "short\n" + "y" * 5000 + "\n")
    assert error(path) == (
        f"{path}:2: this line is longer than 1,000 bytes; each row must be one line: "
        "is this really a JSON-lines/CSV/text file?"
    )


def test_csv_ragged_row_is_located_or_skipped(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "instruction,output\nhi,there\nhello, world,again\nok,fine\n")
    message = error(path)
    assert message.startswith(f"{path}:3: 3 cells, but the header (line 1) has 2 columns (instruction, output)")
    assert "must be in double quotes" in message and "--skip-bad" in message
    report = ReadReport()
    assert len(rows(path, skip_bad=True, report=report)) == 2 and report.skipped[0].where == f"{path}:3"


def test_csv_unclosed_quote_and_duplicate_header(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", 'a,b\n1,"open\n2,3\n')
    assert error(path).startswith(f"{path}:2: a quote opened in this row is never closed")
    assert "'a' twice" in error(write(tmp_path / "e.csv", "a,b,a\n1,2,3\n"))


@pytest.mark.parametrize(
    ("name", "hint"),
    [("d.xlsx", "export the sheet as CSV"), ("d.csv.gz", "decompress it first"), ("d.yaml", "convert it")],
)
def test_unsupported_extension_lists_the_supported_ones(tmp_path: Path, name: str, hint: str) -> None:
    message = error(write(tmp_path / name, "x"))
    assert "files are not supported" in message and hint in message
    assert all(suffix in message for suffix in SUPPORTED_SUFFIXES)


def test_file_without_extension(tmp_path: Path) -> None:
    assert "has no extension" in error(write(tmp_path / "data", "x"))


def test_missing_path_fails_before_iterating(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file or folder; check the path"):
        read_records(tmp_path / "nope.jsonl")


def test_folder_without_data_points_at_subfolders_with_some(tmp_path: Path) -> None:
    write(tmp_path / "notes.md", "x")
    assert "no data files directly in this folder (supported: .jsonl" in error(tmp_path)
    (tmp_path / "data").mkdir()
    write(tmp_path / "data" / "train.parquet", b"")
    assert "its subfolders data/ hold some: point at one of them" in error(tmp_path)


def test_permission_denied_is_a_data_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "d.jsonl", '{"a": 1}\n')
    real_open = Path.open

    def refuse(self: Path, *args: object, **kwargs: object) -> object:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(DataError, match="permission denied; make it readable"):
        read_records(path)


def test_unreadable_folder_is_a_data_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Path) -> object:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "iterdir", refuse)
    with pytest.raises(DataError, match="permission denied"):
        read_records(tmp_path)
