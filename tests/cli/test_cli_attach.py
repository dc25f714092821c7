"""`ftwizard attach [RUN]`: which run it opens, and clear messages when there is none."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tuiapp.cli import main
from tuiapp.core.runs import EventWriter, Started
from tuiapp.core.runs.status import write_status

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "runs"


def make_run(root: Path, name: str, started_at: float, alive: bool) -> Path:
    """A run directory whose worker is this test process (alive) or none (never launched)."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text("model: {name_or_path: x}\n", encoding="utf-8")
    with EventWriter(folder / "events.jsonl") as writer:
        writer.write(Started(pid=os.getpid(), step=0, total_steps=10, time=started_at))
    if alive:
        write_status(folder / "status.json", os.getpid(), launched_at=started_at - 1)
    return folder


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The run directories FTWizardApp was opened on (instead of running the app)."""
    from tuiapp.tui.app import FTWizardApp

    runs: list[Path] = []
    monkeypatch.setattr(FTWizardApp, "run", lambda self, *a, **k: runs.append(self._run_dir))
    return runs


def test_attach_by_name_or_path_opens_that_run(tmp_path: Path, opened: list[Path]) -> None:
    run = make_run(tmp_path, "mine", 100.0, alive=False)
    assert main(["attach", "mine", "--runs-dir", str(tmp_path)]) == 0
    assert main(["attach", str(FIXTURES / "tiny-llama-lora")]) == 0
    assert opened == [run.resolve(), (FIXTURES / "tiny-llama-lora").resolve()]


def test_attach_without_a_name_opens_the_newest_running_run(tmp_path: Path, opened: list[Path]) -> None:
    make_run(tmp_path, "older", 100.0, alive=True)
    newest = make_run(tmp_path, "newer", 200.0, alive=True)
    make_run(tmp_path, "newest-but-not-running", 300.0, alive=False)
    assert main(["attach", "--runs-dir", str(tmp_path)]) == 0
    assert opened == [newest]


def ftwizard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tuiapp", *args], capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_unknown_run_and_no_running_run_are_clear_messages(tmp_path: Path) -> None:
    unknown = ftwizard("attach", "no-such-run", "--runs-dir", str(tmp_path))
    assert unknown.returncode == 2, unknown.stderr
    assert f"no run named no-such-run in {tmp_path}" in unknown.stderr and "ftwizard runs" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    make_run(tmp_path, "finished", 100.0, alive=False)
    nothing = ftwizard("attach", "--runs-dir", str(tmp_path))
    assert nothing.returncode == 2
    assert f"no run is training in {tmp_path}" in nothing.stderr


def test_attach_is_listed_in_the_help() -> None:
    assert "attach" in ftwizard("--help").stdout
    result = ftwizard("attach", "--help")
    assert result.returncode == 0 and "default: the newest running run" in " ".join(result.stdout.split())


def test_attach_to_a_run_whose_events_cannot_be_read_says_so(tmp_path: Path, opened: list[Path], capsys) -> None:
    run = make_run(tmp_path, "unreadable", 100.0, alive=False)
    (run / "events.jsonl").unlink()
    (run / "events.jsonl").mkdir()  # open() fails, as it does without read permission
    assert main(["attach", "unreadable", "--runs-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "run unreadable cannot be shown: events.jsonl cannot be read" in err and opened == []


def test_attach_finds_the_running_run_beside_a_damaged_one(tmp_path: Path, opened: list[Path]) -> None:
    live = make_run(tmp_path, "live", 200.0, alive=True)
    torn = make_run(tmp_path, "torn", 300.0, alive=True)
    (torn / "events.jsonl").write_text('{"event": "started", "time": 1e300, "pid": 1, "step": 0}\n')
    (torn / "status.json").write_text('{"pid": ', encoding="utf-8")
    assert main(["attach", "--runs-dir", str(tmp_path)]) == 0
    assert opened == [live.resolve()]
