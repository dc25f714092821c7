"""Hostile dataset inputs at the reading layer: pipes and devices refused at once, lone surrogates located,
long names cut in every message, renames that would silently change nothing (or the wrong column) refused."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tuiapp.core.data.formats import check_renames, detect_format
from tuiapp.core.data.inspect_request import parse_mapping
from tuiapp.core.data.records import NOTES_KEPT, DataError, ReadReport
from tuiapp.core.data.shorten import NAME_LIMIT, brief, name_list, shorten
from tuiapp.core.data.sources import read_records

LONG = "c" * 100_000


def finishes(call: Any, seconds: float = 10.0) -> Any:
    """`call()`'s result or exception, or a failure when it is still running after `seconds` (a blocked open)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed to the test
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s (blocked)"
    if "error" in box:
        raise box["error"]
    return box["value"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_refused_at_once_saying_what_it_is(tmp_path: Path) -> None:
    fifo = tmp_path / "rows.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match=r"rows\.jsonl is a FIFO \(named pipe\), not a file") as caught:
        finishes(lambda: list(read_records(fifo)))
    assert "regular files" in str(caught.value)


def test_a_character_device_is_refused_at_once() -> None:
    with pytest.raises(DataError, match=r"/dev/zero is a character device, not a file"):
        finishes(lambda: list(read_records("/dev/zero")))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_link_to_a_fifo_is_refused_and_a_fifo_in_a_folder_is_noted(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.jsonl")
    (tmp_path / "link.jsonl").symlink_to(tmp_path / "pipe.jsonl")
    with pytest.raises(DataError, match="is a FIFO"):
        finishes(lambda: list(read_records(tmp_path / "link.jsonl")))
    (tmp_path / "rows.jsonl").write_text('{"text": "a"}\n')
    report = ReadReport()
    rows = finishes(lambda: list(read_records(tmp_path, report=report)))
    assert [r.data for r in rows] == [{"text": "a"}]
    assert any("not files" in note and "pipe.jsonl" in note for note in report.notes), report.notes


def test_hidden_data_files_in_a_folder_are_noted(tmp_path: Path) -> None:
    (tmp_path / "rows.jsonl").write_text('{"text": "a"}\n')
    (tmp_path / ".more.jsonl").write_text('{"text": "b"}\n')
    report = ReadReport()
    list(read_records(tmp_path, report=report))
    assert any(".more.jsonl" in note and "hidden" in note for note in report.notes), report.notes


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_a_lone_surrogate_names_row_and_column(tmp_path: Path, suffix: str) -> None:
    rows = ['{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x\\ud800y"}]}']
    body = rows[0] if suffix == ".jsonl" else f"[{rows[0]}]"
    path = tmp_path / f"data{suffix}"
    path.write_text('{"text": "fine \\ud83d\\ude00"}\n' + body + "\n" if suffix == ".jsonl" else body)
    with pytest.raises(DataError) as caught:
        list(read_records(path))
    message = str(caught.value)
    assert f"{path}:{2 if suffix == '.jsonl' else 1}" in message
    assert "`messages[1].content` holds a lone surrogate (\\ud800) at character 2" in message
    assert "--skip-bad" in message


def test_skip_bad_leaves_lone_surrogate_rows_out_counted(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text('{"text": "a"}\n{"text": "\\udc00"}\n{"\\ud800": "key"}\n{"text": "b \\ud83d\\ude00"}\n')
    report = ReadReport()
    rows = [r.data for r in read_records(path, skip_bad=True, report=report)]
    assert rows == [{"text": "a"}, {"text": "b \U0001f600"}]  # a well-formed pair is the character it encodes
    assert report.skipped_count == 2
    assert "a key in `the row` holds a lone surrogate" in report.skipped[1].reason


def test_shorten_and_lists_are_bounded() -> None:
    assert shorten("short") == "short"
    cut = shorten(LONG)
    assert cut.startswith("c" * NAME_LIMIT + "…") and "99,940 more characters" in cut and len(cut) < 120
    assert len(brief(LONG)) <= 40 and len(brief([LONG] * 10_000)) <= 40
    listed = name_list([LONG] * 30)
    assert listed.endswith("and 18 more") and len(listed) < 12 * 120


def test_a_huge_column_name_is_cut_in_detection_and_csv_messages(tmp_path: Path) -> None:
    detection = detect_format([{LONG: "x"}])
    assert detection.format is None and len(detection.explanation) < 3000, len(detection.explanation)
    assert all(len(name) < 120 for name in detection.to_json()["columns"])
    path = tmp_path / "wide.csv"
    path.write_text(f"{LONG},{LONG}\na,b\n")
    with pytest.raises(DataError) as caught:
        list(read_records(path))
    assert "twice" in str(caught.value) and len(str(caught.value)) < 500


def test_many_columns_in_a_header_are_checked_in_linear_time(tmp_path: Path) -> None:
    names = [f"c{i}" for i in range(100_000)]
    path = tmp_path / "wide.csv"
    path.write_text(",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")
    start = time.perf_counter()
    rows = list(read_records(path))
    assert len(rows[0].data) == 100_000
    assert time.perf_counter() - start < 10  # names.count per name took minutes


def test_renames_of_missing_columns_are_refused() -> None:
    rows = [{"question": "q", "answer": "a"}]
    check_renames({"question": "instruction", "answer": "output"}, rows, "d.jsonl")
    with pytest.raises(DataError, match=r"the column rename `qustion=instruction` names no column of the first 1 rows"):
        check_renames({"qustion": "instruction"}, rows, "d.jsonl")


def test_renames_that_overwrite_a_column_are_refused() -> None:
    with pytest.raises(DataError, match="would replace the `text` column"):
        check_renames({"body": "text"}, [{"body": "b", "text": "t"}], "d.jsonl")
    with pytest.raises(DataError, match="give two columns one name"):
        check_renames({"a": "text", "b": "text"}, [{"a": "1", "b": "2"}], "d.jsonl")
    check_renames({"body": "text", "text": "old"}, [{"body": "b", "text": "t"}], "d.jsonl")  # a swap is fine


def test_a_column_renamed_twice_is_refused() -> None:
    assert parse_mapping(["a=b", "a=b"]) == {"a": "b"}
    with pytest.raises(DataError, match="renamed twice"):
        parse_mapping(["a=b", "a=c"])


def test_read_notes_are_capped(tmp_path: Path) -> None:
    report = ReadReport()
    for i in range(1000):
        report.note(f"note {i}")
    assert len(report.notes) == NOTES_KEPT + 1 and "left out" in report.notes[-1]
