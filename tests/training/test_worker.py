"""The training worker for real, on CPU with the tiny model: LoRA, full and QLoRA runs, and a failed start."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from worker_runs import run_to_end

from tuiapp.core.config import validate_config
from tuiapp.core.data.samples import sample_path
from tuiapp.core.runs import Completed, Failed, Metrics, RunPaths, Started, read_events, summarize_run
from tuiapp.core.runs.events import FIRST_STEP, LOADING_LIBRARIES, LOADING_MODEL, PREPARING_DATASET, Phase
from tuiapp.core.runs.launcher import prepare_run

RUN_TIMEOUT_S = 120


def make_config(model: Path, method: str = "lora", **training: Any) -> Any:
    """A small, fast config on the bundled messages.jsonl."""
    settings = {"max_steps": 20, "micro_batch_size": 4, "grad_accum": 1, "learning_rate": 5e-3, "max_length": 256}
    settings |= {"save_steps": 10, "warmup_ratio": 0.0, **training}
    return validate_config(
        {
            "model": {"name_or_path": str(model)},
            "method": method,
            "dataset": {"source": str(sample_path("messages.jsonl")), "eval_size": 0.1},
            "training": settings,
            "lora": {"r": 8, "alpha": 16, "dropout": 0.0},
        }
    )


def check_event_log(paths: RunPaths) -> list[Any]:
    """Every line is one JSON object of a known kind; only phases come before started, the final event last."""
    lines = paths.events.read_text(encoding="utf-8").splitlines()
    assert all(isinstance(json.loads(line), dict) for line in lines)
    events = read_events(paths.events)
    assert len(events) == len(lines), "an event line did not parse"
    first = next(e for e in events if not isinstance(e, Phase))
    assert isinstance(first, Started)
    assert events[-1].kind in ("completed", "stopped", "failed")
    assert [e.time for e in events] == sorted(e.time for e in events)
    return events


def losses(events: list[Any]) -> list[float]:
    return [e.loss for e in events if isinstance(e, Metrics) and e.loss is not None]


@pytest.mark.slow
def test_lora_run_lowers_loss_and_adapter_reloads(tiny_model_dir: Path, tmp_path: Path) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    paths = prepare_run(make_config(tiny_model_dir, eval_steps=10), runs_dir=str(tmp_path))
    code, seconds = run_to_end(paths, RUN_TIMEOUT_S)
    assert code == 0, paths.log.read_text()
    events = check_event_log(paths)
    metrics = [e for e in events if isinstance(e, Metrics)]
    assert [m.step for m in metrics] == list(range(1, 21))
    assert all(m.total_steps == 20 and m.learning_rate and m.grad_norm for m in metrics)
    assert all(m.tokens_per_s and m.samples_per_s for m in metrics[1:])
    loss = losses(events)
    assert sum(loss[-5:]) < 0.9 * sum(loss[:5]), loss
    assert [e.step for e in events if e.kind == "eval"] == [10, 20]
    assert [e.step for e in events if e.kind == "checkpoint_saved"] == [10, 20]
    final = events[-1]
    assert isinstance(final, Completed) and final.artifacts == [str(paths.final)]
    assert final.train_loss == pytest.approx(sum(loss) / 20) and final.tokens == metrics[-1].tokens > 0
    phases = [e for e in events if isinstance(e, Phase)]
    names = list(dict.fromkeys(e.name for e in phases))
    assert names == [LOADING_LIBRARIES, LOADING_MODEL, PREPARING_DATASET, FIRST_STEP], names
    started_at = next(i for i, e in enumerate(events) if isinstance(e, Started))
    assert all(isinstance(e, Phase) for e in events[:started_at]) and isinstance(events[started_at + 1], Phase)
    tokenizing = [e for e in phases if e.detail and e.detail.startswith("tokenizing train")]
    assert tokenizing and tokenizing[-1].done == tokenizing[-1].total > 0, [e.detail for e in phases]
    print(f"LoRA: 20 steps in {seconds:.1f} s wall (launch included); train runtime {final.runtime_s:.2f} s")

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    tuned = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), paths.final)
    lora_b = [p for name, p in tuned.named_parameters() if "lora_B" in name]
    assert lora_b and any(p.abs().sum() > 0 for p in lora_b), "the adapter did not train"
    ids = torch.tensor([[1, 5, 9, 13]])
    with torch.no_grad():
        assert not torch.allclose(base(ids).logits, tuned(ids).logits)
    assert summarize_run(paths).state == "completed"


@pytest.mark.slow
def test_full_finetune_lowers_loss_and_saves_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM

    paths = prepare_run(make_config(tiny_model_dir, "full", learning_rate=2e-3), runs_dir=str(tmp_path))
    code, _ = run_to_end(paths, RUN_TIMEOUT_S)
    assert code == 0, paths.log.read_text()
    loss = losses(check_event_log(paths))
    assert len(loss) == 20 and sum(loss[-5:]) < 0.8 * sum(loss[:5]), loss
    assert (paths.final / "model.safetensors").is_file()
    assert (paths.final / "tokenizer.json").is_file()
    AutoModelForCausalLM.from_pretrained(paths.final)


@pytest.mark.slow
def test_qlora_quantizes_the_base_and_trains_on_cpu(tiny_model_dir: Path, tmp_path: Path) -> None:
    import bitsandbytes as bnb

    from tuiapp.training.backend_hf import _load_model

    config = make_config(tiny_model_dir, "qlora", max_steps=8)
    model = _load_model(config, "fp32", cuda=False)
    quantized = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert len(quantized) == 14  # q, k, v, o, gate, up, down in each of the 2 layers
    assert quantized[0].weight.quant_state.quant_type == "nf4"
    assert quantized[0].weight.quant_state.nested  # double quantization

    paths = prepare_run(config, runs_dir=str(tmp_path))
    code, _ = run_to_end(paths, RUN_TIMEOUT_S)
    assert code == 0, paths.log.read_text()
    events = check_event_log(paths)
    assert isinstance(events[-1], Completed)
    assert len(losses(events)) == 8
    assert (paths.final / "adapter_model.safetensors").is_file()


def test_bad_model_path_fails_fast_with_a_clear_event(tmp_path: Path) -> None:
    paths = prepare_run(make_config(tmp_path / "no-such-model"), runs_dir=str(tmp_path / "runs"))
    code, seconds = run_to_end(paths, RUN_TIMEOUT_S)
    assert code == 1
    events = read_events(paths.events)
    assert len(events) == 1 and isinstance(events[0], Failed)
    assert events[0].reason == "model_not_found"
    assert "no-such-model" in events[0].message and "config.json" in events[0].message
    assert events[0].traceback_tail
    assert summarize_run(paths).state == "failed"
    assert seconds < 60


def test_offline_hub_model_missing_from_the_cache_fails_in_words_with_one_fix(tmp_path: Path) -> None:
    """HF_HUB_OFFLINE is set for the tests, and the tests' Hugging Face cache is empty."""
    paths = prepare_run(make_config(Path("nobody/not-cached-model")), runs_dir=str(tmp_path / "runs"))
    code, seconds = run_to_end(paths, RUN_TIMEOUT_S)
    assert code == 1
    (failed,) = read_events(paths.events)  # before any phase: nothing heavy was imported
    assert isinstance(failed, Failed) and failed.reason == "model_not_cached"
    assert failed.message.startswith("model nobody/not-cached-model: HF_HUB_OFFLINE is set and the model is not in")
    assert failed.hint and "hf download nobody/not-cached-model" in failed.hint
    assert failed.hint not in failed.message and seconds < 60
