"""`ftwizard compare`: bad input refused before anything starts, a recorded comparison shown again, and a real
two-method trial of the tiny model on the CPU, detached worker and all."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tuiapp.cli import main
from tuiapp.core.data.samples import sample_path
from tuiapp.core.runs import read_events

ROOT = Path(__file__).resolve().parents[2]
RECORDED = ROOT / "tests" / "fixtures" / "runs" / "compare-demo"
TIMEOUT_S = 150


def write_config(folder: Path, model: Path | str) -> Path:
    path = folder / "tiny.yaml"
    path.write_text(
        f"model: {{name_or_path: {model}}}\n"
        f"dataset: {{source: {sample_path('messages.jsonl')}, format: messages}}\n"
        "training: {max_steps: 40, micro_batch_size: 4, grad_accum: 1, max_length: 128, precision: fp32,\n"
        "           learning_rate: 3.0e-3}\n"
    )
    return path


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--methods", "lora,dora"], "--methods: unknown method 'dora'"),
        (["--methods", ""], "--methods is empty"),
        (["--methods", "full,full"], "names a method twice"),
        (["--steps", "1"], "--steps 1 is out of range: a trial trains 2 to 200 steps"),
        (["--steps", "5000"], "--steps 5000 is out of range"),
    ],
)
def test_bad_flags_are_refused_before_anything_starts(args, said, tmp_path: Path, capsys, tiny_model_dir) -> None:
    runs = tmp_path / "runs"
    code = main(["compare", str(write_config(tmp_path, tiny_model_dir)), *args, "--runs-dir", str(runs)])
    err = capsys.readouterr().err
    assert code == 2 and said in err and "Traceback" not in err
    assert not runs.exists()  # no run folder for a comparison that never started


def test_a_missing_config_and_missing_arguments_are_said(tmp_path: Path, capsys) -> None:
    assert main(["compare", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml" in capsys.readouterr().err
    assert main(["compare"]) == 2
    assert "no config given" in capsys.readouterr().err
    assert main(["compare", "x.yaml", "--open", "y"]) == 2
    assert "not both" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:  # argparse's own usage error for a word that is not a number
        main(["compare", "--steps", "ten"])
    assert caught.value.code == 2 and "'ten' is not a whole number" in capsys.readouterr().err


def test_open_shows_a_recorded_comparison_again(tmp_path: Path, capsys) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(RECORDED, runs / "compare-demo")
    assert main(["compare", "--open", "compare-demo", "--runs-dir", str(runs)]) == 0
    out = capsys.readouterr().out
    assert "10 steps per method on the CPU" in out and "n/a on CPU / 12.2 MiB" in out and "loss@10" in out
    assert "tokens/s (higher is faster)" in out and "572.6 MiB peak RSS" in out
    assert main(["compare", "--open", "compare-demo", "--json", "--runs-dir", str(runs)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["state"] == "completed" and data["methods"]["qlora"]["trial"]["steps"] == 10


def test_open_refuses_a_training_run(tmp_path: Path, capsys) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(ROOT / "tests" / "fixtures" / "runs" / "tiny-llama-lora", runs / "plain")
    assert main(["compare", "--open", "plain", "--runs-dir", str(runs)]) == 2
    assert "is a training run, not a comparison" in capsys.readouterr().err


def ftwizard(*args: str, timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "tuiapp", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=timeout, env=env)


@pytest.mark.slow
def test_two_methods_are_trialled_for_real_and_kept_as_a_run(tiny_model_dir: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    began = time.monotonic()
    result = ftwizard("compare", str(write_config(tmp_path, tiny_model_dir)), "--methods", "lora,full", "--steps", "3",
                      "--runs-dir", str(runs))  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "[1/2] lora: training…" in out and "[2/2] full: training…" in out
    table = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith(("lora ", "full "))}
    assert table["lora"][1] == "completed" and table["full"][1] == "completed"
    assert float(table["lora"][2].replace(",", "")) > 0 and 0 < float(table["full"][3]) < 20  # tokens/s, loss@3
    assert "n/a on CPU" in out and "peak RSS (process)" in out
    (run,) = runs.iterdir()
    assert run.name.startswith(tiny_model_dir.name + "-compare-")
    events = read_events(run / "events.jsonl")
    measured = [event for event in events if event.kind == "trial_measured"]
    assert [event.method for event in measured] == ["lora", "full"]
    for event in measured:
        assert event.steps == 3 and event.peak_rss > 10 * 2**20 and event.estimated["allocated"] > 0
        assert event.batch_shape[0] == 4 and 0 < event.batch_shape[1] <= 128  # the longest batch it really ran
        assert not (run / "trials" / event.method / "final").exists()  # a trial keeps no weights
    assert events[-1].kind == "completed" and (run / "compare.txt").read_text().count("completed") >= 2

    listed = json.loads(ftwizard("runs", "--runs-dir", str(runs), "--json").stdout)
    assert [(entry["name"], entry["state"], entry["skipped_lines"]) for entry in listed] == [(run.name, "completed", 0)]
    again = ftwizard("compare", "--open", run.name, "--runs-dir", str(runs))
    assert again.returncode == 0 and table["lora"][2] in again.stdout
    resume = ftwizard("resume", run.name, "--runs-dir", str(runs))
    assert resume.returncode == 2 and "is a comparison of methods, which is not resumed" in resume.stderr
    assert time.monotonic() - began < 120
