"""The Unsloth backend: a real CPU LoRA run through the worker (Unsloth 2026.10's CPU fallback), and the
failed events a person sees when Unsloth is missing or cannot load the architecture.

Unsloth patches transformers / TRL when imported, so this test process never imports it: the worker does.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from worker_runs import run_to_end

from tuiapp.core.config import validate_config
from tuiapp.core.data.samples import sample_path
from tuiapp.core.runs import Completed, EventWriter, Failed, Metrics, Started, read_events, summarize_run
from tuiapp.core.runs.events import Phase
from tuiapp.core.runs.failure import classify_failure
from tuiapp.core.runs.launcher import prepare_run
from tuiapp.core.user_error import UserError
from tuiapp.training.backend_unsloth import unsupported_model_error

RUN_TIMEOUT_S = 240
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
UNSLOTH_MISSING = next(
    (name for name in ("unsloth", "unsloth_zoo") if importlib.util.find_spec(name) is None),
    None,
)
needs_unsloth = pytest.mark.skipif(
    UNSLOTH_MISSING is not None,
    reason=f"{UNSLOTH_MISSING} is not installed (scripts/setup-venv.sh dev installs Unsloth CPU-only from "
    "constraints/unsloth-cpu.txt)",
)


def make_config(model: Path, method: str = "lora", **training: Any) -> Any:
    """A small, fast Unsloth config on the bundled messages.jsonl."""
    settings = {"max_steps": 20, "micro_batch_size": 4, "grad_accum": 1, "learning_rate": 5e-3, "max_length": 256}
    settings |= {"save_steps": 10, "eval_steps": 10, "warmup_ratio": 0.0, **training}
    return validate_config(
        {
            "model": {"name_or_path": str(model)},
            "method": method,
            "framework": "unsloth",
            "dataset": {"source": str(sample_path("messages.jsonl")), "eval_size": 0.1},
            "training": settings,
            "lora": {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": TARGETS},
        }
    )


def test_picking_the_unsloth_backend_imports_nothing_heavy() -> None:
    """Unsloth must be imported before transformers / TRL / PEFT: the worker may load none of them first."""
    probe = (
        "import sys, json\n"
        "from tuiapp.training.worker import pick_backend\n"
        "from tuiapp.core.config import validate_config\n"
        "train = pick_backend('unsloth')\n"
        "print(json.dumps([train.__module__, sorted(sys.modules)]))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    module, loaded = json.loads(out.splitlines()[-1])
    assert module == "tuiapp.training.backend_unsloth"
    heavy = {"torch", "transformers", "trl", "peft", "datasets", "accelerate", "unsloth", "unsloth_zoo"}
    assert not heavy & {name.split(".")[0] for name in loaded}


def test_missing_unsloth_fails_with_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tuiapp.training.worker import run

    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}", encoding="utf-8")
    paths = prepare_run(make_config(model), runs_dir=str(tmp_path / "runs"))
    monkeypatch.setitem(sys.modules, "unsloth", None)  # `import unsloth` now fails as if it were not installed
    with EventWriter(paths.events) as writer:
        final = run(paths, threading.Event(), writer)
    assert isinstance(final, Failed)
    assert final.reason == "missing_dependency"
    assert "pip install 'ftwizard[unsloth]'" in final.message and "framework: hf" in final.message


def test_unsloth_that_cannot_start_fails_with_what_to_change(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unsloth raises at import where it finds a GPU driver but torch has no GPU support."""
    from importlib.abc import Loader, MetaPathFinder
    from importlib.machinery import ModuleSpec

    from tuiapp.training.backend_unsloth import import_unsloth

    class Refuses(Loader, MetaPathFinder):
        def find_spec(self, name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
            return ModuleSpec(name, self) if name == "unsloth" else None

        def exec_module(self, module: Any) -> None:
            raise NotImplementedError("Unsloth cannot find any torch accelerator? You need a GPU.")

    monkeypatch.delitem(sys.modules, "unsloth", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Refuses(), *sys.meta_path])
    with pytest.raises(UserError) as caught:
        import_unsloth([])
    message = str(caught.value)
    assert message.startswith("Unsloth cannot start on this machine (Unsloth cannot find any torch accelerator?")
    assert "set framework: hf" in message and classify_failure(caught.value).reason == "bad_input"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (NotImplementedError("Unsloth: vision / audio models are not supported on the CPU backend yet."), True),
        (ValueError("`org/m` is not supported yet in `transformers==5.17.0`.\nPlease update transformers"), True),
        (ValueError("Unrecognized configuration class <class 'T5Config'> for this kind of AutoModel"), True),
        (ValueError("Cannot use chat template functions because tokenizer.chat_template is not set"), False),
    ],
)
def test_unsupported_architecture_becomes_a_clear_error(error: Exception, expected: bool) -> None:
    result = unsupported_model_error("org/m", error)
    assert (result is not None) == expected
    if result is not None:
        assert str(result).startswith("Unsloth cannot load org/m: ") and "\n" not in str(result)
        assert "Set framework: hf" in str(result)
        assert classify_failure(result).reason == "bad_input"


@needs_unsloth
@pytest.mark.slow
def test_unsloth_lora_run_on_cpu_lowers_loss_and_adapter_reloads(tiny_model_dir: Path, tmp_path: Path) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    paths = prepare_run(make_config(tiny_model_dir), runs_dir=str(tmp_path))
    code, seconds = run_to_end(paths, RUN_TIMEOUT_S)
    log = paths.log.read_text(encoding="utf-8")
    assert code == 0, log
    assert "training on CPU" in log  # Unsloth's own banner: its CPU fallback ran, not plain transformers
    events = [e for e in read_events(paths.events) if not isinstance(e, Phase)]  # phases: tests/training/test_worker
    started = events[0]
    assert isinstance(started, Started) and "unsloth" in started.versions
    assert "framework unsloth" in started.notes
    assert not any("imported after" in note for note in started.notes), started.notes
    metrics = [e for e in events if isinstance(e, Metrics)]
    assert [m.step for m in metrics] == list(range(1, 21))
    loss = [m.loss for m in metrics if m.loss is not None]
    assert len(loss) == 20 and sum(loss[-5:]) < 0.9 * sum(loss[:5]), loss
    assert [e.step for e in events if e.kind == "eval"] == [10, 20]
    assert [e.step for e in events if e.kind == "checkpoint_saved"] == [10, 20]
    final = events[-1]
    assert isinstance(final, Completed) and final.artifacts == [str(paths.final)]
    print(f"Unsloth LoRA: 20 steps in {seconds:.1f} s wall (launch included); train runtime {final.runtime_s:.2f} s")

    adapter = json.loads((paths.final / "adapter_config.json").read_text(encoding="utf-8"))
    assert sorted(adapter["target_modules"]) == sorted(TARGETS) and adapter["r"] == 8
    assert (paths.final / "tokenizer.json").is_file()
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    tuned = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), paths.final)
    lora_b = [p for name, p in tuned.named_parameters() if "lora_B" in name]
    assert len(lora_b) == 14 and all(p.abs().sum() > 0 for p in lora_b), "the adapter did not train"
    ids = torch.tensor([[1, 5, 9, 13]])
    with torch.no_grad():
        assert not torch.allclose(base(ids).logits, tuned(ids).logits)
    assert summarize_run(paths).state == "completed"


@needs_unsloth
@pytest.mark.slow
def test_unsloth_full_finetune_on_cpu_lowers_loss_and_saves_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM

    paths = prepare_run(make_config(tiny_model_dir, "full", learning_rate=2e-3), runs_dir=str(tmp_path))
    code, _ = run_to_end(paths, RUN_TIMEOUT_S)
    assert code == 0, paths.log.read_text(encoding="utf-8")
    events = read_events(paths.events)
    loss = [e.loss for e in events if isinstance(e, Metrics) and e.loss is not None]
    assert len(loss) == 20 and sum(loss[-5:]) < 0.8 * sum(loss[:5]), loss
    assert isinstance(events[-1], Completed)
    assert (paths.final / "model.safetensors").is_file() and not (paths.final / "adapter_config.json").exists()
    AutoModelForCausalLM.from_pretrained(paths.final)


@needs_unsloth
@pytest.mark.slow
def test_unsloth_refuses_an_architecture_it_cannot_load(tmp_path: Path) -> None:
    model = tmp_path / "t5"
    model.mkdir()
    config = {"model_type": "t5", "d_model": 64, "d_ff": 128, "num_layers": 1, "num_heads": 2, "vocab_size": 128}
    (model / "config.json").write_text(json.dumps(config), encoding="utf-8")
    paths = prepare_run(make_config(model), runs_dir=str(tmp_path / "runs"))
    code, _ = run_to_end(paths, RUN_TIMEOUT_S)
    assert code == 1
    events = [e for e in read_events(paths.events) if not isinstance(e, Phase)]  # it failed loading the model
    assert len(events) == 1 and isinstance(events[0], Failed), paths.log.read_text(encoding="utf-8")
    assert events[0].reason == "bad_input"
    assert events[0].message.startswith(f"Unsloth cannot load {model}: ")
    assert "T5Config" in events[0].message and "Set framework: hf" in events[0].message
