"""Generated dataset files through `ftwizard data inspect` (without a model, and with the tiny local tokenizer).

Exit 0 must report exactly the rows that can train (less the eval rows held out); exit 2 must name the file
and the line (or row) of a problem, or the option at fault.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fuzz_data_files import DataDoc, data_documents
from fuzz_profile import fuzz_settings
from fuzz_runner import check_clean, expect_exit, expect_located, expect_true, run_cli, working_dir
from hypothesis import given
from hypothesis import strategies as st

KIND = "dataset"
EVAL_SIZES = st.sampled_from([None, None, None, "0", "0.1", "0.5", "3", "0.99"])


def eval_count(size: float, rows: int) -> int:
    """Rows held out: a fraction below 1 of the rows (at least one), or a whole number of rows."""
    if size <= 0:
        return 0
    return max(1, round(size * rows)) if size < 1 else int(size)


def inspect_case(folder: Path, doc: DataDoc, skip_bad: bool, eval_size: str | None, model: Path | None) -> None:
    path = folder / doc.name
    path.write_bytes(doc.data)
    argv = ["data", "inspect", str(path), "--format", doc.fmt, "--task", "sft", "--json"]
    argv += ["--skip-bad"] if skip_bad else []
    argv += ["--eval-size", eval_size] if eval_size is not None else []
    argv += ["--model", str(model)] if model else []
    with working_dir(folder):
        outcome = run_cli(argv, KIND, {"file": doc.show()})
    if not check_clean(KIND, outcome):
        return
    bad = doc.read_bad + doc.row_bad
    anchors = [f"{path}{place}" for place in doc.places]
    if doc.fatal or (bad and not skip_bad):
        if expect_exit(KIND, outcome, (2,), f"{doc.what}; skip_bad={skip_bad}"):
            expect_located(KIND, outcome, anchors, doc.what)
        return
    held = eval_count(float(eval_size or 0), doc.valid) if doc.valid else 0
    if doc.valid == 0 or held >= doc.valid:
        if expect_exit(KIND, outcome, (2,), f"{doc.what}: no rows left to train on (eval {held})"):
            expect_located(KIND, outcome, [str(path), "eval_size", "--eval-size"], doc.what)
        return
    if not expect_exit(KIND, outcome, (0,), f"{doc.what}; skip_bad={skip_bad}"):
        return
    report = json.loads(outcome.out)
    total = report["rows"]["total"]
    expected = doc.valid - held
    expect_true(KIND, outcome, total == expected, f"reports {total} rows to train on, not {expected} ({doc.what})")
    left_out = report["read"]["skipped"] + report["cleaned"]["dropped"]
    expect_true(KIND, outcome, left_out == bad, f"reports {left_out} rows left out, not {bad} ({doc.what})")
    if model is not None:
        exact = report["stats"]["approximate"] is False
        expect_true(KIND, outcome, exact, "with --model the token counts are still estimates")


@fuzz_settings(190)
@given(doc=data_documents(), skip_bad=st.booleans(), eval_size=EVAL_SIZES)
def test_inspect_generated_files(case_dir: Any, doc: DataDoc, skip_bad: bool, eval_size: str | None) -> None:
    with case_dir() as folder:
        inspect_case(folder, doc, skip_bad, eval_size, model=None)


@fuzz_settings(40)
@given(doc=data_documents(), skip_bad=st.booleans())
def test_inspect_with_a_tokenizer(case_dir: Any, tiny_tokenizer_dir: Path, doc: DataDoc, skip_bad: bool) -> None:
    with case_dir() as folder:
        inspect_case(folder, doc, skip_bad, None, model=tiny_tokenizer_dir)


SOURCES = [
    "missing",
    "empty_folder",
    "folder_without_data",
    "xlsx",
    "no_extension",
    "zero_bytes",
    "blank_lines",
    "folder_named_jsonl",
    "utf16_jsonl",
    "utf16_csv",
    "utf16_txt",
    "two_files",
    "header_only_csv",
    "duplicate_header",
    "unclosed_quote",
    "json_cut_short",
    "json_two_documents",
    "deep_json",
    "deep_jsonl",
    *([] if os.geteuid() == 0 else ["unreadable"]),  # root reads a file without read permission
]


def _make_source(folder: Path, kind: str) -> tuple[Path, int | None]:
    """A source path and the rows it must report (None: it must be refused, naming the path)."""
    rows = [json.dumps({"text": f"row {i}"}) for i in range(3)]
    make: dict[str, Any] = {
        "missing": lambda: (folder / "nope.jsonl", None),
        "xlsx": lambda: (_write(folder / "d.xlsx", b"PK\x03\x04"), None),
        "no_extension": lambda: (_write(folder / "data", "\n".join(rows).encode()), None),
        "zero_bytes": lambda: (_write(folder / "d.jsonl", b""), None),
        "blank_lines": lambda: (_write(folder / "d.jsonl", b"\n  \n\n"), None),
        "utf16_jsonl": lambda: (_write(folder / "d.jsonl", "\n".join(rows).encode("utf-16")), None),
        "utf16_csv": lambda: (_write(folder / "d.csv", "text\na\nb\n".encode("utf-16")), None),
        "utf16_txt": lambda: (_write(folder / "d.txt", "a\nb\n".encode("utf-16")), None),
        "header_only_csv": lambda: (_write(folder / "d.csv", b"text\n"), None),
        "duplicate_header": lambda: (_write(folder / "d.csv", b"text,text\na,b\n"), None),
        "unclosed_quote": lambda: (_write(folder / "d.csv", b'text\n"a\nb\n'), None),
        "json_cut_short": lambda: (_write(folder / "d.json", b'[{"text": "a"}, {"text": '), None),
        "json_two_documents": lambda: (_write(folder / "d.json", b'[{"text": "a"}]\n[{"text": "b"}]'), None),
        "deep_json": lambda: (_write(folder / "d.json", b"[" * 100_000 + b"]" * 100_000), None),
        "deep_jsonl": lambda: (_write(folder / "d.jsonl", b'{"text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"), None),
    }
    if kind in make:
        return make[kind]()
    if kind == "empty_folder":
        (folder / "empty").mkdir()
        return folder / "empty", None
    if kind == "folder_without_data":
        (folder / "docs").mkdir()
        _write(folder / "docs" / "readme.md", b"# notes")
        return folder / "docs", None
    if kind == "folder_named_jsonl":
        (folder / "x.jsonl").mkdir()
        return folder / "x.jsonl", None
    if kind == "unreadable":
        path = _write(folder / "d.jsonl", "\n".join(rows).encode())
        path.chmod(0)
        return path, None
    (folder / "two").mkdir()
    _write(folder / "two" / "a.jsonl", "\n".join(rows).encode())
    _write(folder / "two" / "b.jsonl", "\n".join(rows[:2]).encode())
    return folder / "two", 5


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@fuzz_settings(40)
@given(kind=st.sampled_from(SOURCES), skip_bad=st.booleans())
def test_inspect_sources_that_are_no_dataset(case_dir: Any, kind: str, skip_bad: bool) -> None:
    with case_dir() as folder:
        path, rows = _make_source(folder, kind)
        argv = ["data", "inspect", str(path), "--json", *(["--skip-bad"] if skip_bad else [])]
        outcome = run_cli(argv, KIND, {"source": kind})
        if not check_clean(KIND, outcome):
            return
        if rows is None:
            if expect_exit(KIND, outcome, (2,), f"source {kind}"):
                expect_located(KIND, outcome, [str(path)], f"source {kind}")
            return
        if expect_exit(KIND, outcome, (0,), f"source {kind}"):
            total = json.loads(outcome.out)["rows"]["total"]
            expect_true(KIND, outcome, total == rows, f"{kind}: {total} rows, not {rows}")
