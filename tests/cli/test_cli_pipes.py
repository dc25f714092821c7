"""A reader that leaves early (`ftwizard runs | head`) ends any command quietly: no message, no crash log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tuiapp.cli.safety import CLOSED_PIPE_EXIT
from tuiapp.core.runs import EventWriter, Metrics, Started

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    """Forty finished-looking runs: more lines than `head -1` takes."""
    root = tmp_path / "runs"
    for index in range(40):
        run = root / f"run-{index:02d}"
        run.mkdir(parents=True)
        (run / "config.yaml").write_text("model: {name_or_path: Qwen/Qwen2.5-0.5B}\n")
        with EventWriter(run / "events.jsonl") as writer:
            writer.write(Started(pid=1, step=0, total_steps=10, time=1.0))
            writer.write(Metrics(step=3, total_steps=10, loss=1.25, time=2.0))
    return root


def _env(state: Path) -> dict[str, str]:
    return {**os.environ, "FTWIZARD_STATE_DIR": str(state), "COLUMNS": "100"}


def to_closed_pipe(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ftwizard with stdout a pipe nobody reads any more (its reader closed before the first write)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "tuiapp", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=_env(state),
            timeout=60,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "args",
    [("runs",), ("runs", "--json"), ("gpu", "--list"), ("gpu", "--gpu", "24GB"), ("--version",)],
    ids=["runs", "runs-json", "gpu-list", "gpu-planned", "version"],
)
def test_a_closed_pipe_ends_the_command_quietly(args: tuple[str, ...], runs_dir: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    extra = ("--runs-dir", str(runs_dir)) if args[0] == "runs" else ()
    result = to_closed_pipe(state, *args, *extra)
    assert result.stderr == ""  # neither "unexpected error" nor Python's "Exception ignored ... BrokenPipeError"
    assert result.returncode == CLOSED_PIPE_EXIT
    assert not list(state.glob("crash-*.log"))


@pytest.mark.parametrize("command", ["runs --runs-dir {runs}", "gpu --list"])
def test_piped_into_head(command: str, runs_dir: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    line = f"{sys.executable} -m tuiapp {command.format(runs=runs_dir)} | head -1"
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", line], capture_output=True, text=True, cwd=ROOT, env=_env(state), timeout=60
    )
    assert result.stderr == "" and len(result.stdout.splitlines()) == 1
    assert result.returncode in (0, CLOSED_PIPE_EXIT)  # 0 when head had read it all before it closed
    assert not list(state.glob("crash-*.log"))
