"""Files cut short by a crash: the next event is never swallowed, resume picks the newest complete checkpoint,
and a torn status file does not stop resume (issue 11, item 8)."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tuiapp.core.runs import EventWriter, Started, Stopped, read_events
from tuiapp.core.runs.checkpoint_check import checkpoint_problem
from tuiapp.core.runs.follow import EventFollower
from tuiapp.core.runs.launcher import resume_run, stop_run, worker_pid
from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.user_error import UserError


def test_an_append_after_a_cut_line_starts_on_a_line_of_its_own(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    with EventWriter(events) as writer:
        writer.write(Stopped(step=4, checkpoint="checkpoint-4"))
    with events.open("a", encoding="utf-8") as handle:  # the worker was killed half-way through a line
        handle.write('{"event": "metrics", "time": 17000, "st')
    with EventWriter(events) as writer:  # the resumed launch
        writer.write(Started(pid=7, step=4, total_steps=10, resumed_from="checkpoint-4"))
        writer.write(Stopped(step=6))
    follower = EventFollower(events)
    assert [event.kind for event in follower.poll()] == ["stopped", "started", "stopped"]
    assert follower.skipped == 1
    assert events.read_bytes().endswith(b"\n")


def test_a_line_past_the_size_cap_is_skipped_without_being_held(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    with EventWriter(events) as writer:
        writer.write(Stopped(step=1))
    with events.open("ab") as handle:
        handle.write(b'{"event": "failed", "message": "' + b"x" * (3 << 20) + b'"}\n')
    with EventWriter(events) as writer:
        writer.write(Stopped(step=2))
    follower = EventFollower(events, max_line_bytes=1 << 20)
    assert [event.step for event in follower.stream()] == [1, 2]
    assert follower.skipped == 1 and len(follower._partial) == 0


def test_an_overlong_line_still_being_written_is_skipped_once_it_ends(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"x" * 300)
    follower = EventFollower(events, max_line_bytes=100)
    assert follower.poll() == [] and follower.skipped == 1
    with events.open("ab") as handle:
        handle.write(b"y" * 300 + b"\n" + json.dumps({"event": "stopped", "time": 5, "step": 3}).encode() + b"\n")
    assert [event.step for event in follower.poll()] == [3] and follower.skipped == 1


# ----- checkpoints ----------------------------------------------------------------------------------------
def safetensors_bytes(values: int) -> bytes:
    """A real safetensors layout: 8-byte header length, JSON header, then the tensor's bytes."""
    header = json.dumps({"w": {"dtype": "F32", "shape": [values], "data_offsets": [0, 4 * values]}}).encode()
    return struct.pack("<Q", len(header)) + header + b"\0" * (4 * values)


def zip_bytes(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00.")


def make_checkpoint(folder: Path, step: int) -> Path:
    checkpoint = folder / f"checkpoint-{step}"
    checkpoint.mkdir(parents=True)
    (checkpoint / "adapter_model.safetensors").write_bytes(safetensors_bytes(64))
    zip_bytes(checkpoint / "optimizer.pt")
    (checkpoint / "trainer_state.json").write_text(json.dumps({"global_step": step}), encoding="utf-8")
    return checkpoint


def cut(path: Path, keep: int) -> None:
    path.write_bytes(path.read_bytes()[:keep])


TORN = {
    "no trainer state": lambda c: (c / "trainer_state.json").unlink(),
    "trainer state cut": lambda c: cut(c / "trainer_state.json", 5),
    "weights cut": lambda c: cut(c / "adapter_model.safetensors", 100),
    "weights missing": lambda c: (c / "adapter_model.safetensors").unlink(),
    "optimizer cut": lambda c: cut(c / "optimizer.pt", 30),
    "empty weights": lambda c: (c / "adapter_model.safetensors").write_bytes(b""),
}


@pytest.mark.parametrize("tear", TORN.values(), ids=TORN.keys())
def test_resume_picks_the_newest_complete_checkpoint(tmp_path: Path, tear) -> None:
    paths = RunPaths(tmp_path)
    make_checkpoint(paths.checkpoints, 10)
    complete = make_checkpoint(paths.checkpoints, 20)
    torn = make_checkpoint(paths.checkpoints, 30)
    assert paths.last_checkpoint() == torn
    tear(torn)
    assert checkpoint_problem(torn) is not None
    assert paths.last_checkpoint() == complete


def test_real_torch_and_safetensors_files_are_recognised(tmp_path: Path) -> None:
    """The checks read the formats torch.save and safetensors really write (made in a child: core stays pure)."""
    checkpoint = tmp_path / "checkpoints" / "checkpoint-5"
    checkpoint.mkdir(parents=True)
    script = (
        "import sys, torch; from safetensors.torch import save_file; d = sys.argv[1];"
        "save_file({'a': torch.ones(3, 4), 'b': torch.zeros(7)}, d + '/adapter_model.safetensors');"
        "torch.save({'state': {0: torch.ones(5)}}, d + '/optimizer.pt');"
        "torch.save(torch.get_rng_state(), d + '/rng_state.pth')"
    )
    subprocess.run([sys.executable, "-c", script, str(checkpoint)], check=True)
    (checkpoint / "trainer_state.json").write_text('{"global_step": 5, "log_history": []}', encoding="utf-8")
    assert checkpoint_problem(checkpoint) is None
    cut(checkpoint / "rng_state.pth", (checkpoint / "rng_state.pth").stat().st_size - 1)
    assert "rng_state.pth is cut short" in str(checkpoint_problem(checkpoint))


def test_sharded_weights_need_every_shard(tmp_path: Path) -> None:
    checkpoint = make_checkpoint(tmp_path, 3)
    (checkpoint / "adapter_model.safetensors").unlink()
    (checkpoint / "model-1.safetensors").write_bytes(safetensors_bytes(8))
    index = {"weight_map": {"a": "model-1.safetensors", "b": "model-2.safetensors"}}
    (checkpoint / "model.safetensors.index.json").write_text(json.dumps(index), encoding="utf-8")
    assert checkpoint_problem(checkpoint) == "model-2.safetensors is missing"
    (checkpoint / "model-2.safetensors").write_bytes(safetensors_bytes(8))
    assert checkpoint_problem(checkpoint) is None


# ----- a torn status file ---------------------------------------------------------------------------------
def stopped_run(root: Path) -> RunPaths:
    paths = RunPaths(root / "run")
    paths.root.mkdir(parents=True)
    paths.config.write_text("model: {name_or_path: x}\n", encoding="utf-8")
    with EventWriter(paths.events) as writer:
        writer.write(Started(pid=7, step=0, total_steps=10, time=100.0))
        writer.write(Stopped(step=4, time=200.0))
    paths.status.write_text('{"pid": 7, "pid_st', encoding="utf-8")  # torn (it is written atomically: by hand)
    return paths


def test_a_torn_status_file_does_not_stop_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = stopped_run(tmp_path)
    launched: list[RunPaths] = []
    monkeypatch.setattr("tuiapp.core.runs.launcher.launch_worker", lambda p: launched.append(p) or "worker")
    assert resume_run(paths) == "worker" and launched == [paths]


def test_a_torn_config_stops_resume_with_what_and_where(tmp_path: Path) -> None:
    paths = stopped_run(tmp_path)
    paths.config.write_text("model: [", encoding="utf-8")
    with pytest.raises(UserError, match=r"cannot be resumed: config.yaml is not valid YAML .*Restore that file"):
        resume_run(paths)


def test_a_torn_status_file_still_finds_and_stops_a_live_worker(tmp_path: Path) -> None:
    """A run whose status file is lost: its worker is found by its command line, so resume refuses a second
    worker and stop reaches the first."""
    paths = stopped_run(tmp_path)
    with EventWriter(paths.events) as writer:
        writer.write(Started(pid=7, step=4, total_steps=10, time=300.0))
    command = [sys.executable, "-c", "import time; time.sleep(30)", "tuiapp.training.worker", str(paths.root)]
    worker = subprocess.Popen(command)
    try:
        for _ in range(100):
            if worker_pid(paths) == worker.pid:
                break
        assert worker_pid(paths) == worker.pid
        with pytest.raises(UserError, match=rf"still running \(pid {worker.pid}\)"):
            resume_run(paths)
        assert stop_run(paths) == worker.pid
        assert worker.wait(timeout=10) == -15
    finally:
        worker.kill()
        worker.wait()
    assert worker_pid(paths) is None


def test_read_events_of_a_file_that_cannot_be_read_is_empty_and_says_why(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").mkdir()
    follower = EventFollower(tmp_path / "events.jsonl")
    assert follower.poll() == [] and "cannot read" in str(follower.problem)
    assert read_events(tmp_path / "events.jsonl") == []
    assert os.path.isdir(tmp_path / "events.jsonl")
