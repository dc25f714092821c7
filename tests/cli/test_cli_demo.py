"""`ftwizard demo`: a tiny model trained on CPU end to end, headless and from the wizard's Hardware screen."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tuiapp.core.demo import demo_config, demo_model_dir, ensure_demo_model


@pytest.fixture
def data_home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("FTWIZARD_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path


def test_demo_model_is_built_once_and_reused(data_home) -> None:
    folder = ensure_demo_model()
    assert folder == demo_model_dir() and (folder / "config.json").is_file()
    stamp = (folder / "config.json").stat().st_mtime_ns
    assert ensure_demo_model() == folder and (folder / "config.json").stat().st_mtime_ns == stamp
    config = demo_config(folder)
    assert config.dataset is not None and Path(config.dataset.source).is_file()


@pytest.mark.slow
def test_headless_demo_trains_to_completion_with_falling_loss(data_home) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tuiapp", "demo", "--headless"], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "completed at step 40" in done.stdout and "Traceback" not in done.stdout + done.stderr
    (run,) = (data_home / "runs").iterdir()
    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    losses = [e["loss"] for e in events if e.get("event") == "metrics" and e.get("loss") is not None]
    assert len(losses) >= 30 and sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 0.5
    assert (run / "final" / "adapter_config.json").is_file()


def test_building_is_said_only_when_the_demo_model_is_built(data_home, monkeypatch, capsys) -> None:
    from tuiapp.cli import main, train_command

    ensure_demo_model()
    monkeypatch.setattr(train_command, "_start", lambda *args, **kwargs: 0)  # the run is prepared, not trained
    assert main(["demo", "--headless"]) == 0
    assert "building the demo model" not in capsys.readouterr().err
