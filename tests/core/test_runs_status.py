"""Run directories without training: layout, runs root, status from pid + events, listing, preparing a run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tuiapp.core.config import load_config, validate_config
from tuiapp.core.runs import (
    CheckpointSaved,
    Completed,
    EventWriter,
    Failed,
    Metrics,
    RunPaths,
    Started,
    Stopped,
    find_run,
    list_runs,
    read_status,
    resolve_runs_root,
    run_state,
    summarize_run,
)
from tuiapp.core.runs.launcher import prepare_run, resume_run, stop_run
from tuiapp.core.runs.layout import create_run_dir, default_runs_root, run_name_for
from tuiapp.core.runs.status import WorkerStatus, is_alive, write_status
from tuiapp.core.user_error import UserError


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def status_for(pid: int, launched_at: float = 100.0) -> WorkerStatus:
    return WorkerStatus(pid, None, launched_at)


def test_state_comes_from_the_last_final_event_since_launch_and_the_pid() -> None:
    me = os.getpid()
    assert run_state(None, []) == "created"
    assert run_state(status_for(me), [Started(pid=me, step=0, total_steps=5, time=101)]) == "running"
    assert run_state(status_for(dead_pid()), [Started(pid=1, step=0, total_steps=5, time=101)]) == "died"
    for final in (Completed(step=5, time=102), Stopped(step=2, time=102), Failed(reason="e", message="m", time=102)):
        assert run_state(status_for(dead_pid()), [final]) == final.kind
    # Resumed: the earlier `stopped` predates this launch, so the live worker decides.
    assert run_state(status_for(me, launched_at=200), [Stopped(step=2, time=150)]) == "running"
    assert run_state(status_for(dead_pid(), launched_at=200), [Stopped(step=2, time=150)]) == "died"


def test_a_reused_pid_or_a_zombie_is_not_alive(tmp_path: Path) -> None:
    assert is_alive(write_status(tmp_path / "status.json", os.getpid()))
    assert not is_alive(WorkerStatus(os.getpid(), pid_started=12.0, launched_at=0.0))  # same pid, other process
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while Path(f"/proc/{zombie.pid}").exists() and "Z" not in Path(f"/proc/{zombie.pid}/stat").read_text().split()[2]:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert not is_alive(WorkerStatus(zombie.pid, None, 0.0))
    zombie.wait()


def test_status_file_round_trips_and_tolerates_damage(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    written = write_status(path, os.getpid(), launched_at=5.0)
    assert read_status(path) == written and written.pid_started is not None
    path.write_text("{half")
    assert read_status(path) is None
    assert read_status(tmp_path / "missing.json") is None


def test_runs_root_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("FTWIZARD_RUNS_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_runs_root() == tmp_path / "data" / "ftwizard" / "runs"
    monkeypatch.setenv("FTWIZARD_RUNS_DIR", str(tmp_path / "env"))
    assert resolve_runs_root() == tmp_path / "env"
    assert resolve_runs_root(configured=str(tmp_path / "cfg")) == tmp_path / "cfg"
    assert resolve_runs_root(str(tmp_path / "flag"), str(tmp_path / "cfg")) == tmp_path / "flag"


def test_run_names_are_readable_and_unique(tmp_path: Path) -> None:
    name = run_name_for("Qwen/Qwen2.5-0.5B/", "qlora", now=0)
    assert name.startswith("Qwen2.5-0.5B-qlora-19")
    assert [create_run_dir(tmp_path, "r", exact=False).name for _ in range(3)] == ["r", "r-2", "r-3"]
    with pytest.raises(UserError, match="ftwizard resume r"):
        create_run_dir(tmp_path, "r", exact=True)


def write_run(root: Path, name: str, events: list, pid: int | None) -> RunPaths:
    paths = RunPaths(root / name)
    paths.root.mkdir(parents=True)
    paths.config.write_text("model: {name_or_path: m}\n")
    if pid is not None:
        write_status(paths.status, pid, launched_at=0.0)
    with EventWriter(paths.events) as writer:
        for event in events:
            writer.write(event)
    return paths


def test_summary_and_listing(tmp_path: Path) -> None:
    checkpoint = tmp_path / "done" / "checkpoints" / "checkpoint-4"
    done = write_run(
        tmp_path,
        "done",
        [
            Started(pid=1, step=0, total_steps=4),
            Metrics(step=2, total_steps=4, loss=2.0),
            Metrics(step=4, total_steps=4, loss=1.5),
            CheckpointSaved(step=4, path=str(checkpoint)),
            Completed(step=4, artifacts=["final"]),
        ],
        dead_pid(),
    )
    checkpoint.mkdir(parents=True)
    (checkpoint / "trainer_state.json").write_text('{"global_step": 4}')
    (checkpoint / "adapter_model.safetensors").write_bytes(b"\x02" + b"\0" * 7 + b"{}")  # no tensors, complete
    (checkpoint.parent / "checkpoint-9").mkdir()  # no trainer state: an unfinished save, not resumable
    summary = summarize_run(done)
    assert (summary.state, summary.step, summary.total_steps, summary.loss) == ("completed", 4, 4, 1.5)
    assert summary.artifacts == ["final"] and summary.checkpoint == str(checkpoint)
    write_run(tmp_path, "live", [Started(pid=os.getpid(), step=0, total_steps=9)], os.getpid())
    (tmp_path / "not-a-run").mkdir()
    listed = {run.name: run for run in list_runs(tmp_path)}
    assert set(listed) == {"done", "live"}
    assert listed["live"].state == "running" and listed["live"].pid == os.getpid()
    assert list_runs(tmp_path / "nothing-here") == []
    assert find_run("done", tmp_path).root == done.root
    assert find_run(str(done.root), tmp_path / "elsewhere").root == done.root
    with pytest.raises(UserError, match="ftwizard runs"):
        find_run("nope", tmp_path)


def test_stop_and_resume_refuse_what_they_cannot_do(tmp_path: Path) -> None:
    finished = write_run(tmp_path, "finished", [Completed(step=1)], dead_pid())
    with pytest.raises(UserError, match="not running"):
        stop_run(finished)
    with pytest.raises(UserError, match="has completed"):
        resume_run(finished)
    live = write_run(tmp_path, "live", [], os.getpid())
    with pytest.raises(UserError, match="still running"):
        resume_run(live)


def test_prepare_run_writes_a_resolved_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "data.jsonl").write_text('{"text": "hi"}\n')
    config = validate_config(
        {"model": {"name_or_path": "model"}, "dataset": {"source": "data.jsonl"}, "output": {"runs_root": "out"}}
    )
    paths = prepare_run(config, base=tmp_path)
    assert paths.root.parent == tmp_path / "out"
    saved = load_config(paths.config)
    assert saved.model.name_or_path == str(tmp_path / "model")
    assert saved.dataset is not None and saved.dataset.source == str(tmp_path / "data.jsonl")
    assert (saved.output.runs_root, saved.output.run_name) == (str(tmp_path / "out"), paths.name)
    hub = validate_config({"model": {"name_or_path": "Qwen/Qwen2.5-0.5B"}, "dataset": {"source": "org/set"}})
    saved = load_config(prepare_run(hub, runs_dir=str(tmp_path / "flag"), base=tmp_path).config)
    assert (saved.model.name_or_path, saved.dataset.source) == ("Qwen/Qwen2.5-0.5B", "org/set")
    with pytest.raises(UserError, match="no dataset"):
        prepare_run(validate_config({"model": {"name_or_path": "m"}}), runs_dir=str(tmp_path))


def test_run_name_must_be_one_folder_name() -> None:
    from tuiapp.core.config import ConfigError

    with pytest.raises(ConfigError, match="run_name"):
        validate_config({"model": {"name_or_path": "m"}, "output": {"run_name": "../escape"}})
