"""A checkpoint saved quantized (bitsandbytes' CPU 4-bit) goes the way a `unsloth/*-bnb-4bit` mirror does:
resolve reads its quantization_config, the plan offers adapters only, the backend loads it as stored (no
second quantization config) and what it holds is what the ledger and the estimate count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_param_ledger import ledger_bytes, ledger_setup, load_through_backend, measured_bytes

from tuiapp.core.estimate.closed_form import estimate_memory
from tuiapp.core.estimate.param_ledger import param_ledger
from tuiapp.core.estimate.planner import PlanRequest, make_plan
from tuiapp.core.hardware import resolve_gpu
from tuiapp.core.models.resolve import resolve_model
from tuiapp.core.user_error import UserError


@pytest.fixture(scope="module")
def bnb_4bit_dir(tiny_model_dirs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Llama loaded in 4-bit (NF4, double quant, bf16 compute) on the CPU and saved as it is."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

    source, folder = tiny_model_dirs["llama"], tmp_path_factory.mktemp("tiny-bnb-4bit")
    quantization = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
    )
    model = AutoModelForCausalLM.from_pretrained(
        source, dtype=torch.bfloat16, quantization_config=quantization, device_map={"": "cpu"}
    )
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(source).save_pretrained(folder)
    return folder


def test_resolve_and_plan_read_the_stored_precision(bnb_4bit_dir: Path) -> None:
    resolved = resolve_model(str(bnb_4bit_dir))
    stored = resolved.shape.stored_quantization
    assert stored is not None and (stored.format, stored.double_quant, stored.quant_storage) == (
        "bnb-4bit",
        True,
        "uint8",
    )
    assert any("stored already quantized" in note for note in resolved.notes)
    plan = make_plan(resolved.shape, resolve_gpu("RTX 4090").as_gpu(), PlanRequest(seq_len=64))
    assert [option.method for option in plan.options] == ["qlora"]
    assert plan.recommended is not None and plan.recommended.method == "qlora"
    assert any("full fine-tuning is not offered" in note for note in plan.notes)


@pytest.mark.parametrize("method", ["qlora", "lora", "lora8"])
def test_the_backend_loads_it_as_stored_and_the_ledger_agrees(bnb_4bit_dir: Path, tmp_path: Path, method: str) -> None:
    import bitsandbytes as bnb

    model, notes = load_through_backend(bnb_4bit_dir, method, "bf16", tmp_path)
    layers = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert len(layers) == 14 and all(layer.weight.dtype.itemsize == 1 for layer in layers)  # uint8, as saved
    said = next(note for note in notes if "stored as bitsandbytes 4-bit" in note)
    assert ("quantize the weights again" in said) == (method == "lora8")
    shape = resolve_model(str(bnb_4bit_dir)).shape
    setup = ledger_setup(method, "bf16")
    assert measured_bytes(model) == ledger_bytes(param_ledger(shape, setup))
    estimate = estimate_memory(shape, setup)
    assert estimate.static["weights"] + estimate.static["adapters"] == sum(measured_bytes(model).values())


def test_full_fine_tuning_on_it_is_refused_with_the_way_out(bnb_4bit_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="full fine-tuning needs 16-bit weights") as caught:
        load_through_backend(bnb_4bit_dir, "full", "bf16", tmp_path)
    assert caught.value.fix is not None and "method: qlora" in caught.value.fix


@pytest.mark.slow
def test_a_worker_run_trains_adapters_on_it(bnb_4bit_dir: Path, tmp_path: Path) -> None:
    from test_worker import make_config
    from worker_runs import run_to_end

    from tuiapp.core.runs import Completed, Started, read_events
    from tuiapp.core.runs.launcher import prepare_run

    paths = prepare_run(make_config(bnb_4bit_dir, "qlora", max_steps=4), runs_dir=str(tmp_path))
    code, _ = run_to_end(paths, 240)
    assert code == 0, paths.log.read_text()
    events = read_events(paths.events)
    assert isinstance(events[-1], Completed)
    started = next(event for event in events if isinstance(event, Started))
    assert any("loaded as stored, with no second quantization" in note for note in started.notes)
    adapter = json.loads((paths.final / "adapter_config.json").read_text())
    assert adapter["peft_type"] == "LORA"
