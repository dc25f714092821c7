"""The shipped example datasets: each reads cleanly, has the columns its format needs, and matches its script."""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import sys
from contextlib import nullcontext
from pathlib import Path

import pytest

from tuiapp.core.data.records import DataError, ReadReport
from tuiapp.core.data.samples import list_samples, sample_path, samples_dir
from tuiapp.core.data.sources import count_records, peek, read_records

ROOT = Path(__file__).resolve().parents[3]
# file -> the keys every row has
EXPECTED = {
    "alpaca.csv": {"instruction", "input", "output"},
    "alpaca.json": {"instruction", "input", "output"},
    "alpaca.parquet": {"instruction", "input", "output"},
    "grpo_math.jsonl": {"prompt", "answer"},
    "kto.jsonl": {"prompt", "completion", "label"},
    "messages.jsonl": {"messages"},
    "plain_text.jsonl": {"text"},
    "preference.jsonl": {"prompt", "chosen", "rejected"},
    "preference_messages.jsonl": {"chosen", "rejected"},
    "prompt_completion.jsonl": {"prompt", "completion"},
    "sharegpt.json": {"conversations"},
    "text.txt": {"text"},
}


def test_every_sample_is_listed_and_found() -> None:
    assert list_samples() == sorted(EXPECTED)
    assert sample_path("kto.jsonl") == samples_dir() / "kto.jsonl"
    with pytest.raises(DataError, match=re.escape("no example dataset named 'nope.jsonl'; there are: alpaca.csv")):
        sample_path("nope.jsonl")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_reads_without_error_and_has_its_columns(name: str) -> None:
    report = ReadReport()
    records = list(read_records(sample_path(name), report=report))
    assert 40 <= len(records) <= 200
    assert report.skipped_count == 0 and report.notes == []
    assert all(EXPECTED[name] <= set(record.data) for record in records)


def test_samples_hold_what_their_formats_promise() -> None:
    messages = [r.data for r in read_records(sample_path("messages.jsonl"))]
    roles = [m["role"] for row in messages for m in row["messages"]]
    assert {"system", "user", "assistant", "tool"} <= set(roles)
    assert sum("tools" in row for row in messages) >= 2
    sharegpt = [t["from"] for r in read_records(sample_path("sharegpt.json")) for t in r.data["conversations"]]
    assert set(sharegpt) == {"system", "human", "gpt"}
    alpaca = [r.data for r in read_records(sample_path("alpaca.json"))]
    assert any(row["input"] == "" for row in alpaca) and any(row["input"] for row in alpaca)
    assert any("\n" in row["input"] for row in (r.data for r in read_records(sample_path("alpaca.csv"))))
    assert [r.data for r in read_records(sample_path("alpaca.parquet"))] == alpaca
    kto = {r.data["label"] for r in read_records(sample_path("kto.jsonl"))}
    assert kto == {True, False}
    answers = [r.data["answer"] for r in read_records(sample_path("grpo_math.jsonl"))]
    assert all(isinstance(a, str) and a.lstrip("-").isdigit() for a in answers)
    pairs = [r.data for r in read_records(sample_path("preference_messages.jsonl"))]
    assert all(p["chosen"][:-1] == p["rejected"][:-1] != [] and p["chosen"] != p["rejected"] for p in pairs)


def test_samples_stay_small() -> None:
    assert sum(sample_path(name).stat().st_size for name in list_samples()) < 300_000


def test_samples_match_the_script_that_writes_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    script = importlib.import_module("make_sample_data")
    monkeypatch.setattr(script, "OUT", tmp_path)
    script.main()
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(set(EXPECTED) - {"alpaca.parquet"})
    assert all((tmp_path / name).read_bytes() == sample_path(name).read_bytes() for name in written)
    sys.modules.pop("make_sample_data", None)
    sys.modules.pop("sample_content", None)


def _fingerprints(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        str(p): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_reading_never_modifies_the_source_files(tmp_path: Path) -> None:
    for name in list_samples():
        (tmp_path / name).write_bytes(sample_path(name).read_bytes())
    (tmp_path / "bad.jsonl").write_bytes(b'{"a": 1}\nnot json\n\xff\xfe\n')
    (tmp_path / "bad.csv").write_text("a,b\n1,2,3\n", encoding="utf-8")
    (tmp_path / "misnamed.json").write_text(json.dumps({"a": 1}) + "\n" + json.dumps({"a": 2}) + "\n")
    before = _fingerprints(tmp_path)
    for path in sorted(tmp_path.iterdir()):
        peek(path, 3, skip_bad=True)
        count_records(path, skip_bad=True)
        with pytest.raises(DataError) if path.stem.startswith("bad") else nullcontext():
            list(read_records(path))
    count_records(tmp_path, skip_bad=True)
    assert _fingerprints(tmp_path) == before
