"""framework: axolotl for real: `axolotl train` (0.19, in the side environment scripts/make-tool-venvs.sh builds)
runs from our exported YAML as a child of the detached worker, on the CPU with the tiny model; its progress
reaches the dashboard state the Training screen draws, its adapter lands in final/, and a stop saves a checkpoint
that a resume continues from. Where Axolotl is not found, the Method screen says how to get it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from fault_runs import finish, wait_until

from tuiapp.core.axolotl_tool import HOW_TO_GET, axolotl_offer, find_axolotl, tool_venvs_root
from tuiapp.core.config import validate_config
from tuiapp.core.data.samples import sample_path
from tuiapp.core.runs import Completed, Metrics, RunPaths, Started, Stopped, read_events, summarize_run
from tuiapp.core.runs.dashboard_state import DashboardState
from tuiapp.core.runs.launcher import launch_worker, prepare_run, resume_run, stop_run
from tuiapp.core.user_error import UserError


def axolotl_or_skip() -> Path:
    found = find_axolotl()
    if found is None:
        said = f"no axolotl command (PATH, or {tool_venvs_root() / 'axolotl'}): run scripts/make-tool-venvs.sh"
        if os.environ.get("FTWIZARD_REQUIRE_TOOL_VENVS") == "1":  # scripts/test.sh built it: a miss is a failure
            pytest.fail(said)
        pytest.skip(said)
    return found


def axolotl_config(model: Path, **training: Any) -> Any:
    settings = {"max_steps": 8, "micro_batch_size": 4, "grad_accum": 1, "learning_rate": 5e-3, "max_length": 256}
    settings |= {"save_steps": 4, "warmup_ratio": 0.0, "eval_steps": 4, "precision": "fp32", **training}
    return validate_config(
        {
            "model": {"name_or_path": str(model)},
            "framework": "axolotl",
            "dataset": {"source": str(sample_path("messages.jsonl")), "eval_size": 0.1},
            "training": settings,
            "lora": {"r": 8, "alpha": 16, "dropout": 0.0},
        }
    )


def dashboard(paths: RunPaths) -> DashboardState:
    state = DashboardState(paths.name)
    state.apply(read_events(paths.events))
    return state


@pytest.mark.slow
def test_axolotl_trains_on_cpu_and_the_dashboard_follows(tiny_model_dir: Path, tmp_path: Path) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    axolotl_or_skip()
    paths = prepare_run(axolotl_config(tiny_model_dir), runs_dir=str(tmp_path))
    assert finish(launch_worker(paths), paths) == 0, paths.log.read_text()[-3000:]
    events = read_events(paths.events)
    started = next(e for e in events if isinstance(e, Started))
    assert started.versions["axolotl"].startswith("0.19") and started.hardware["device"] == "cpu"
    assert any("LoRA kernels are off" in note for note in started.notes), started.notes
    metrics = [e for e in events if isinstance(e, Metrics)]
    assert [m.step for m in metrics] == list(range(1, 9)) and all(m.total_steps == 8 for m in metrics)
    assert all(m.loss and m.learning_rate and m.grad_norm for m in metrics)
    assert metrics[-1].tokens and metrics[-1].tokens > 0
    assert [e.step for e in events if e.kind == "checkpoint_saved"] == [4, 8]
    assert {4, 8} <= {e.step for e in events if e.kind == "eval"}
    final = events[-1]
    assert isinstance(final, Completed) and final.artifacts == [str(paths.final)] and final.step == 8

    state = dashboard(paths)  # what the Training screen draws
    assert state.step == 8 and state.total_steps == 8 and isinstance(state.final, Completed)
    assert [step for step, _ in state.series["loss"].points] == list(range(1, 9)) and state.eval_loss is not None
    assert summarize_run(paths).state == "completed"

    assert not (paths.final / "config.json").exists()  # an adapter, as the hf backend leaves it
    tuned = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), paths.final)
    lora_b = [p for name, p in tuned.named_parameters() if "lora_B" in name]
    assert lora_b and any(p.abs().sum() > 0 for p in lora_b), "the adapter did not train"
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    with torch.no_grad():
        ids = torch.tensor([[1, 5, 9, 13]])
        assert not torch.allclose(base(ids).logits, tuned(ids).logits)


@pytest.mark.slow
def test_axolotl_stop_saves_a_checkpoint_and_resume_goes_on(tiny_model_dir: Path, tmp_path: Path) -> None:
    axolotl_or_skip()
    config = axolotl_config(tiny_model_dir, max_steps=300, save_steps=40, eval_steps=None, save_total_limit=2)
    paths = prepare_run(config, runs_dir=str(tmp_path))
    process = launch_worker(paths)
    wait_until(lambda: any(e.kind == "checkpoint_saved" for e in read_events(paths.events)), process, paths)
    stop_run(paths)  # SIGTERM to our worker, which passes it to axolotl: a checkpoint at this step, then stop
    assert finish(process, paths) == 0, paths.log.read_text()[-3000:]
    stopped = read_events(paths.events)[-1]
    assert isinstance(stopped, Stopped) and 40 <= stopped.step < 300, stopped
    assert stopped.checkpoint == str(paths.checkpoints / f"checkpoint-{stopped.step}")
    assert summarize_run(paths).state == "stopped"

    assert finish(resume_run(paths), paths) == 0, paths.log.read_text()[-3000:]
    events = read_events(paths.events)
    assert [e.step for e in events if isinstance(e, Started)] == [0, stopped.step]
    steps = [e.step for e in events if isinstance(e, Metrics)]
    assert sorted(set(steps)) == list(range(1, 301)) and len(steps) == 300, "each step once, across the stop"
    assert isinstance(events[-1], Completed) and (paths.final / "adapter_model.safetensors").is_file()
    assert dashboard(paths).step == 300


def test_without_axolotl_the_method_screen_line_says_how_to_get_it(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("FTWIZARD_TOOL_VENVS", str(tmp_path / "none"))
    assert find_axolotl() is None
    line = axolotl_offer(None)
    assert "scripts/make-tool-venvs.sh" in line and "pip install axolotl" in line and "axolotl_command" in line
    with pytest.raises(UserError, match="no `axolotl` command") as caught:
        from tuiapp.core.axolotl_tool import axolotl_command

        axolotl_command()
    assert caught.value.fix == HOW_TO_GET
    fake = tmp_path / "none" / "axolotl" / "bin" / "axolotl"
    fake.parent.mkdir(parents=True)
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert find_axolotl() == fake and "a trains this option" in axolotl_offer(fake)
    assert find_axolotl(str(tmp_path / "missing")) is None
