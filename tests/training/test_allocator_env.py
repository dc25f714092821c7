"""A real worker records the allocator setting it ran with in its started event."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_worker import check_event_log, make_config
from worker_runs import run_to_end

from tuiapp.core.runs import Started
from tuiapp.core.runs.launcher import prepare_run


@pytest.mark.slow
def test_worker_runs_with_expandable_segments(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTORCH_CUDA_ALLOC_CONF", raising=False)
    monkeypatch.delenv("PYTORCH_ALLOC_CONF", raising=False)
    paths = prepare_run(make_config(tiny_model_dir, max_steps=2, save_steps=2), runs_dir=str(tmp_path))
    code, _ = run_to_end(paths, 120)
    assert code == 0, paths.log.read_text()
    started = next(e for e in check_event_log(paths) if isinstance(e, Started))
    assert started.allocator_conf == "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True"
