"""The parameter ledger against models loaded the backends' own way: bytes by dtype, exactly.

The hf rows: each tiny-model family is loaded by backend_hf._load_model and wrapped by backend_hf.make_trainer
(TRL's SFTTrainer on a 2-row dataset: it adds the LoRA adapters and, on a quantized base, casts them to bf16),
then every parameter, buffer and bitsandbytes quant-state tensor is counted by dtype and compared with
param_ledger for the same setup. Both precisions are loaded on this CPU: fp32 (what the backend trains in
here) and bf16 (what it trains in on a GPU with bf16). The one CPU/GPU difference is where the tensors live
(device_map cpu instead of cuda:0), which moves no byte: bitsandbytes 0.50 packs, scales and stores 4-bit and
8-bit weights identically on both.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tuiapp.core.estimate.closed_form import TrainingSetup, estimate_memory
from tuiapp.core.estimate.param_ledger import ParamLedger, param_ledger
from tuiapp.core.models.shape import ModelShape

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = ("llama", "qwen2")
METHODS = ("full", "lora", "qlora", "lora8")
SHORT = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16", "uint8": "uint8", "int8": "int8"}
Key = tuple[str, str, bool]  # (storage, dtype, trainable)


def measured_bytes(model: Any) -> dict[Key, int]:
    """Bytes by (storage, dtype, trainable) of a loaded model, each tensor once (PEFT's LoRA layers expose
    their base layer's weight again, so quant states are found twice without the dedup)."""
    from tuiapp.training.quant_emulation import quant_state_tensors

    found: Counter[Key] = Counter()
    seen: set[int] = set()

    def add(storage: str, tensor: Any, trainable: bool) -> None:
        if id(tensor) in seen:
            return
        seen.add(id(tensor))
        dtype = SHORT[str(tensor.dtype).removeprefix("torch.")]
        found[(storage, dtype, trainable)] += tensor.numel() * tensor.element_size()

    for param in model.parameters():
        add("parameter", param, param.requires_grad)
    for buffer in model.buffers():
        add("buffer", buffer, False)
    for tensor in quant_state_tensors(model):
        add("quant_state", tensor, False)
    return dict(found)


def ledger_bytes(ledger: ParamLedger) -> dict[Key, int]:
    found: Counter[Key] = Counter()
    for group in ledger.groups:
        if group.nbytes:
            found[(group.storage, group.dtype, group.trainable)] += group.nbytes
    return dict(found)


def tiny_shape(model_dir: Path) -> ModelShape:
    return ModelShape.from_hf_config(json.loads((model_dir / "config.json").read_text()), name=str(model_dir))


def backend_config(model_dir: Path, method: str) -> Any:
    from tuiapp.core.config import validate_config
    from tuiapp.core.data.samples import sample_path

    return validate_config(
        {
            "model": {"name_or_path": str(model_dir)},
            "method": method,
            "dataset": {"source": str(sample_path("messages.jsonl"))},
            "training": {"max_steps": 1, "micro_batch_size": 1, "max_length": 64},
            "lora": {"r": 8, "alpha": 16, "dropout": 0.0},
        }
    )


def load_through_backend(model_dir: Path, method: str, precision: str, tmp_path: Path) -> tuple[Any, list[str]]:
    """The model as backend_hf.train holds it once its trainer is built (no step taken)."""
    from datasets import Dataset
    from transformers import AutoTokenizer

    from tuiapp.core.runs.layout import RunPaths
    from tuiapp.training.backend_hf import _load_model, _sft_args, make_trainer

    config, notes = backend_config(model_dir, method), []
    model = _load_model(config, precision, False, notes)
    args = _sft_args(config, RunPaths(tmp_path / "run"), precision, False, False, notes)
    rows = Dataset.from_list([{"text": "hello world"}, {"text": "the quick brown fox"}])
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    return make_trainer(config, model, tokenizer, args, rows, None, []).model, notes


def ledger_setup(method: str, precision: str, framework: str = "hf") -> TrainingSetup:
    return TrainingSetup(method=method, precision=precision, lora_r=8, framework=framework)  # type: ignore[arg-type]


def _assert_backend_matches_ledger(model_dir: Path, method: str, precision: str, tmp_path: Path) -> None:
    model, _ = load_through_backend(model_dir, method, precision, tmp_path)
    ledger = param_ledger(tiny_shape(model_dir), ledger_setup(method, precision))
    measured, expected = measured_bytes(model), ledger_bytes(ledger)
    print(f"\n{model_dir.name} {method} {precision}: {measured}")
    assert measured == expected
    estimate = estimate_memory(tiny_shape(model_dir), ledger_setup(method, precision))
    assert estimate.static["weights"] + estimate.static.get("adapters", 0) == sum(measured.values())


def test_qlora_bf16_loads_as_the_ledger_says(tiny_model_dirs: dict[str, Path], tmp_path: Path) -> None:
    """The quick one: packed NF4 in bf16 storage, the rest bf16 (no kbit upcast), adapters cast to bf16."""
    _assert_backend_matches_ledger(tiny_model_dirs["llama"], "qlora", "bf16", tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_and_method_loads_as_the_ledger_says(
    tiny_model_dirs: dict[str, Path], tmp_path: Path, family: str, method: str, precision: str
) -> None:
    _assert_backend_matches_ledger(tiny_model_dirs[family], method, precision, tmp_path)


@pytest.mark.parametrize("method", ["full", "lora", "qlora"])
def test_the_simulated_model_holds_what_the_ledger_says(tiny_model_dirs: dict[str, Path], method: str) -> None:
    """The exact check builds its model by the same decisions: same total bytes, same trainable dtypes (its
    emulated 4-bit layers keep packed bytes as uint8 and their scales as buffers, bitsandbytes' storage)."""
    from tuiapp.core.estimate.sim_request import simulation_request
    from tuiapp.training.sim_model import build_meta_model, parse_request, prepare_for_training

    model_dir = tiny_model_dirs["qwen2"]
    setup = ledger_setup(method, "bf16")
    hf_config = json.loads((model_dir / "config.json").read_text())
    request = parse_request(simulation_request(hf_config, setup))
    measured = measured_bytes(prepare_for_training(build_meta_model(request), request))
    expected = ledger_bytes(param_ledger(tiny_shape(model_dir), setup))
    assert sum(measured.values()) == sum(expected.values())
    assert {k: v for k, v in measured.items() if k[2]} == {k: v for k, v in expected.items() if k[2]}


def test_another_stacks_setup_upcasts_in_the_simulation_too(tiny_model_dirs: dict[str, Path]) -> None:
    """kbit_upcast and fp32 adapters (a published measurement's stack): the rest and the adapters are fp32."""
    from tuiapp.core.estimate.sim_request import simulation_request
    from tuiapp.training.sim_model import build_meta_model, parse_request, prepare_for_training

    model_dir = tiny_model_dirs["llama"]
    setup = TrainingSetup(method="qlora", lora_r=8, kbit_upcast=True, adapter_dtype="fp32")
    hf_config = json.loads((model_dir / "config.json").read_text())
    request = parse_request(simulation_request(hf_config, setup))
    measured = measured_bytes(prepare_for_training(build_meta_model(request), request))
    ledger = param_ledger(tiny_shape(model_dir), setup)
    assert ledger.rest_dtype == ledger.trained_dtype == "fp32"
    assert sum(measured.values()) == sum(ledger_bytes(ledger).values())
    assert not any(dtype == "bf16" for _, dtype, _ in measured)


UNSLOTH_PROBE = """
import json, sys
from tuiapp.training.backend_unsloth import _add_adapter, _load, import_unsloth
import_unsloth([])
from tests.training.test_param_ledger import backend_config, measured_bytes
config = backend_config(__import__("pathlib").Path(sys.argv[1]), sys.argv[2])
model, _ = _load(config, sys.argv[3], True)
if config.uses_adapter:
    model = _add_adapter(model, config, True)
print(json.dumps([[list(key), value] for key, value in measured_bytes(model).items()]))
"""


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("unsloth") is None, reason="Unsloth is not installed")
@pytest.mark.parametrize("method", ["lora", "qlora"])
def test_unsloth_loads_as_the_ledger_says(tiny_model_dirs: dict[str, Path], method: str) -> None:
    """The Unsloth rows come from its code: FastLlamaModel.patch_peft_model (unsloth/models/llama.py) calls
    unsloth_zoo/training_utils.py prepare_model_for_training, which upcasts LoRA A/B to fp32 and leaves every
    frozen parameter as loaded; its patched SFTTrainer drops TRL's bf16 cast (unsloth/models/rl.py). That
    path needs CUDA: without it Unsloth 2026.10 falls back to stock transformers + PEFT (unsloth/_cpu_init.py),
    which is not the code these rows describe, so this test runs on a GPU only."""
    import torch

    if not torch.cuda.is_available():
        pytest.skip("Unsloth's FastLanguageModel path needs CUDA; on CPU it falls back to stock transformers + PEFT")
    model_dir = tiny_model_dirs["llama"]
    probe = [sys.executable, "-c", UNSLOTH_PROBE, str(model_dir), method, "bf16"]
    done = subprocess.run(probe, capture_output=True, text=True, cwd=ROOT, check=False, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    measured = {tuple(key): value for key, value in json.loads(done.stdout.strip().splitlines()[-1])}
    expected = ledger_bytes(param_ledger(tiny_shape(model_dir), ledger_setup(method, "bf16", "unsloth")))
    assert measured == expected
