"""`ftwizard check` and the worker agree on a max length past the model's context: both refuse it, in the same
words, and the worker refuses before loading anything."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tuiapp.cli import main
from tuiapp.core.config import save_config, validate_config
from tuiapp.core.runs import EventWriter, Failed
from tuiapp.core.runs.launcher import prepare_run
from tuiapp.training import worker


def test_the_worker_refuses_what_check_refuses(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FTWIZARD_RUNS_DIR", str(tmp_path / "runs"))
    from tuiapp.core.data.samples import sample_path

    config = validate_config(
        {
            "model": {"name_or_path": str(tiny_model_dir)},
            "dataset": {"source": str(sample_path("alpaca.json"))},
            "training": {"max_length": 4096, "max_steps": 2},
        }
    )  # the tiny model's context is 512 tokens
    save_config(config, tmp_path / "cfg.yaml")
    assert main(["check", str(tmp_path / "cfg.yaml"), "--gpu", "24GB"]) == 2
    said = capsys.readouterr()
    said_by_check = said.out + said.err
    paths = prepare_run(config)
    monkeypatch.setattr(worker, "pick_backend", lambda name: pytest.fail("the worker went on to train"))
    final = worker.run(paths, threading.Event(), EventWriter(paths.events))
    assert isinstance(final, Failed) and final.reason != "unexpected"
    assert "Max length 4,096 is past the model's 512-token context" in final.message
    assert final.message in said_by_check
