"""Hostile events files: every field is type-checked and bounded when read, and one damaged run never hides
the others from `ftwizard runs` (issue 11, item 7)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tuiapp.cli import main
from tuiapp.core.runs import EventWriter, Metrics, Started, parse_event
from tuiapp.core.runs.listing import list_runs
from tuiapp.core.runs.status import write_status

GOOD = {"event": "started", "time": 1_700_000_000.0, "pid": 7, "step": 0, "total_steps": 10}

# Each is one line another program (or a person with an editor) might leave in events.jsonl.
HOSTILE_LINES = {
    "time past the clock": '{"event":"started","time":1e300,"pid":7,"step":0,"total_steps":10}',
    "time NaN": '{"event":"started","time":NaN,"pid":7,"step":0,"total_steps":10}',
    "negative time": '{"event":"started","time":-5,"pid":7,"step":0,"total_steps":10}',
    "step as a string": '{"event":"metrics","time":1,"step":"12","total_steps":10}',
    "negative step": '{"event":"metrics","time":1,"step":-5,"total_steps":-10}',
    "step past a float": '{"event":"metrics","time":1,"step":' + "1" * 400 + ',"total_steps":10,"loss":1.0}',
    "loss infinite": '{"event":"metrics","time":1,"step":3,"total_steps":10,"loss":Infinity}',
    "loss as a string": '{"event":"metrics","time":1,"step":3,"total_steps":10,"loss":"NaN"}',
    "negative learning rate": '{"event":"metrics","time":1,"step":3,"total_steps":10,"learning_rate":-1.0}',
    "pid as a bool": '{"event":"action_started","time":1,"action":"merge","action_id":"a","pid":true}',
    "pid past any": '{"event":"action_started","time":1,"action":"merge","action_id":"a","pid":1e30}',
    "progress past a float": '{"event":"action_progress","time":1,"action":"merge","action_id":"a","phase":"x",'
    '"done":' + "9" * 320 + ',"total":1}',
    "lone surrogate": '{"event":"failed","time":1,"reason":"x","message":"bad \\ud800 text"}',
    "versions of numbers": '{"event":"started","time":1,"pid":7,"step":0,"total_steps":10,"versions":{"torch":2}}',
    "eval metrics of text": '{"event":"eval","time":1,"step":3,"metrics":{"acc":"high"}}',
    "notes of numbers": '{"event":"started","time":1,"pid":7,"step":0,"total_steps":10,"notes":[1,2]}',
    "hardware nested deep": '{"event":"started","time":1,"pid":7,"step":0,"total_steps":10,"hardware":'
    + "[" * 40
    + "]" * 40
    + "}",
    "artifacts not a list": '{"event":"completed","time":1,"step":10,"artifacts":"final"}',
}


@pytest.mark.parametrize("line", HOSTILE_LINES.values(), ids=HOSTILE_LINES.keys())
def test_a_field_out_of_type_or_bounds_is_not_an_event(line: str) -> None:
    assert parse_event(json.loads(line)) is None


def test_numbers_that_may_be_negative_still_read() -> None:
    """An RL loss and a reward margin are below zero; counts, times and rates are not."""
    metrics = parse_event({"event": "metrics", "time": 5, "step": 3, "total_steps": 10, "loss": -0.25})
    assert isinstance(metrics, Metrics) and metrics.loss == -0.25
    evaluated = parse_event({"event": "eval", "time": 5, "step": 3, "metrics": {"rewards/margins": -1.5}})
    assert evaluated is not None and evaluated.metrics == {"rewards/margins": -1.5}
    assert isinstance(parse_event(GOOD), Started)


def make_run(root: Path, name: str, lines: list[str], mtime: float) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text("model: {name_or_path: x}\n", encoding="utf-8")
    (folder / "events.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    write_status(folder / "status.json", 31337, launched_at=0.0)  # no such worker: a run without a final died
    os.utime(folder, (mtime, mtime))
    return folder


@pytest.mark.parametrize("line", HOSTILE_LINES.values(), ids=HOSTILE_LINES.keys())
def test_one_mistyped_line_leaves_every_run_listed(tmp_path: Path, line: str, capsys: pytest.CaptureFixture) -> None:
    good = json.dumps(GOOD)
    make_run(tmp_path, "a-good-run", [good], mtime=2_000_000)
    make_run(tmp_path, "the-edited-run", [good, line], mtime=1_000_000)
    assert main(["runs", "--runs-dir", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "a-good-run" in table and "the-edited-run" in table and "1 unreadable event line skipped" in table
    assert main(["runs", "--json", "--runs-dir", str(tmp_path)]) == 0
    listed = json.loads(capsys.readouterr().out)  # strict JSON: no NaN or Infinity got through
    for run in listed:
        assert type(run["step"]) is int and run["step"] >= 0
        assert run["total_steps"] is None or (type(run["total_steps"]) is int and run["total_steps"] >= 0)
        assert run["started_at"] is None or 0 <= run["started_at"] < 3e11
        assert run["loss"] is None or isinstance(run["loss"], float)
    assert [run["skipped_lines"] for run in listed] == [0, 1]


def test_unreadable_files_make_a_run_damaged_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    good = json.dumps(GOOD)
    make_run(tmp_path, "fine", [good], mtime=4_000_000)
    torn_status = make_run(tmp_path, "torn-status", [good], mtime=3_000_000)
    (torn_status / "status.json").write_text('{"pid": 12', encoding="utf-8")
    torn_config = make_run(tmp_path, "torn-config", [good], mtime=2_000_000)
    (torn_config / "config.yaml").write_text("model: {name_or_path: [x\n", encoding="utf-8")
    no_events = make_run(tmp_path, "events-unreadable", [], mtime=1_000_000)
    (no_events / "events.jsonl").unlink()
    (no_events / "events.jsonl").mkdir()  # open() fails with IsADirectoryError, as with no permission
    runs = {run.name: run for run in list_runs(tmp_path)}
    assert runs["fine"].state == "died" and runs["fine"].damaged is None and runs["fine"].total_steps == 10
    assert runs["torn-status"].state == "damaged" and "status.json" in str(runs["torn-status"].damaged)
    assert runs["torn-status"].total_steps == 10  # what could be read is still shown
    torn_config_run = runs["torn-config"]
    assert torn_config_run.state == "damaged" and "config.yaml is not valid YAML" in str(torn_config_run.damaged)
    assert runs["events-unreadable"].state == "damaged"
    assert "events.jsonl cannot be read" in str(runs["events-unreadable"].damaged)

    assert main(["runs", "--runs-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "fine " in out and "(4 in " in out
    reason = "config.yaml is not valid YAML at line 2 (cut short, or edited)"
    assert f"damaged torn-config: {reason} (in {torn_config}" in out


def test_a_status_file_with_an_absurd_pid_is_damaged_not_a_crash(tmp_path: Path) -> None:
    folder = make_run(tmp_path, "absurd", [json.dumps(GOOD)], mtime=1)
    (folder / "status.json").write_text('{"pid": 1e30, "pid_started": null, "launched_at": 1}', encoding="utf-8")
    (run,) = list_runs(tmp_path)
    assert run.state == "damaged" and "out of range" in str(run.damaged)


def test_a_runs_root_that_is_a_file_or_unreadable_says_so(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    afile = tmp_path / "runs"
    afile.write_text("not a folder", encoding="utf-8")
    assert main(["runs", "--runs-dir", str(afile)]) == 2
    err = capsys.readouterr().err
    assert f"the runs folder {afile} is a file, not a folder" in err and "--runs-dir DIR" in err
    assert "unexpected" not in err


def test_a_folder_name_that_is_not_utf8_prints(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    name = os.fsdecode(b"run-\xff")  # a surrogate escape: print() of it alone raises UnicodeEncodeError
    make_run(tmp_path, name, [json.dumps(GOOD)], mtime=1)
    assert main(["runs", "--runs-dir", str(tmp_path)]) == 0
    assert "run-\\udcff" in capsys.readouterr().out


def test_events_a_writer_appends_read_back_unchanged(tmp_path: Path) -> None:
    """The checks accept everything our own worker writes (a field left out or added would show here)."""
    with EventWriter(tmp_path / "events.jsonl") as writer:
        writer.write(Started(pid=7, step=0, total_steps=10, versions={"torch": "2.13"}, hardware={"gpus": [{"i": 0}]}))
        writer.write(Metrics(step=1, total_steps=10, loss=2.5, learning_rate=1e-4, gpu_memory_reserved=2**34))
    lines = (tmp_path / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert all(parse_event(json.loads(line)) is not None for line in lines)
