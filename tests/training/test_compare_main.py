"""The comparison worker's bookkeeping after a trial, without training: a trial as the trial process leaves it on
a GPU (recorded events, measured.json) becomes trial_measured and, when a peak misses its estimate by more than
5%, estimate_mismatch events carrying the setup and the versions; the trial's weights are removed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tuiapp.core.compare.run_dir import trial_paths
from tuiapp.core.config import save_config
from tuiapp.core.demo import demo_config
from tuiapp.core.runs.compare_events import EstimateMismatch, TrialMeasured
from tuiapp.core.runs.events import EventWriter, Started
from tuiapp.core.runs.follow import read_events
from tuiapp.core.runs.layout import RunPaths
from tuiapp.training.compare_main import Comparison

RECORDED_TRIAL = Path(__file__).resolve().parents[1] / "fixtures" / "runs" / "tiny-llama-lora"


def test_a_gpu_trial_off_its_estimate_is_recorded_for_a_bug_report(tmp_path: Path, tiny_model_dir: Path) -> None:
    root = tmp_path / "compare-x"
    trial = trial_paths(root, "lora")
    trial.root.mkdir(parents=True)
    save_config(demo_config(tiny_model_dir), trial.config)
    with EventWriter(trial.events) as writer:
        writer.write(Started(pid=1, step=0, total_steps=40, versions={"torch": "2.11.0", "trl": "1.16.0"}))
    with trial.events.open("a", encoding="utf-8") as events:
        events.write((RECORDED_TRIAL / "events.jsonl").read_text(encoding="utf-8"))
    measured = {"allocated": 100 * 2**30, "reserved": None, "nvidia_smi": None, "peak_rss": 2**30,
                "batch_shape": [4, 200]}  # fmt: skip
    (trial.root / "measured.json").write_text(json.dumps(measured), encoding="utf-8")
    (trial.final).mkdir()
    (trial.final / "adapter_model.safetensors").write_bytes(b"weights")
    comparison = Comparison(RunPaths(root), {"methods": ["lora"], "steps": 40, "device": "cuda", "gpu": "H200"})
    with EventWriter(root / "events.jsonl") as writer:
        assert comparison.measure("lora", trial, writer)  # the recorded trial completed
    written = read_events(root / "events.jsonl")
    assert [event.kind for event in written] == ["trial_measured", "estimate_mismatch"]
    figures, mismatch = written
    assert isinstance(figures, TrialMeasured) and figures.measured["allocated"] == 100 * 2**30
    assert figures.batch_shape == [4, 200] and 0 < figures.estimated["allocated"] < 2**30
    assert isinstance(mismatch, EstimateMismatch) and mismatch.figure == "allocated" and mismatch.gpu == "H200"
    assert mismatch.ratio > 100 and mismatch.versions == {"torch": "2.11.0", "trl": "1.16.0"}
    assert mismatch.setup["method"] == "lora" and mismatch.setup["batch_shape"] == [4, 200]
    assert mismatch.setup["seq_len"] == 256  # the config's; the estimate itself used the trial's batch
    assert not trial.final.exists()
    shutil.rmtree(root)
