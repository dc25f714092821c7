"""Checkpoints stored already quantized: config.json's quantization_config read into the shape, sized as stored,
and planned without full fine-tuning."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tuiapp.core.estimate.closed_form import TrainingSetup, estimate_memory
from tuiapp.core.estimate.param_ledger import param_ledger
from tuiapp.core.estimate.planner import PlanRequest, make_plan
from tuiapp.core.hardware import resolve_gpu
from tuiapp.core.models.catalog import derived_entries, find_in_catalog
from tuiapp.core.models.families import UnsupportedModelError
from tuiapp.core.models.resolve import resolve_model
from tuiapp.core.models.shape import ModelShape
from tuiapp.core.models.stored_quant import read_stored_quantization

LLAMA_8B = find_in_catalog("meta-llama/Llama-3.1-8B-Instruct")
assert LLAMA_8B is not None
PLAIN = ModelShape.from_hf_config(LLAMA_8B.config, name=LLAMA_8B.name)
GPTQ = {"quant_method": "gptq", "bits": 4, "group_size": 128, "desc_act": False, "sym": True}
AWQ = {"quant_method": "awq", "bits": 4, "group_size": 128, "zero_point": True, "version": "gemm"}
FP8 = {"quant_method": "fp8", "activation_scheme": "dynamic", "weight_block_size": [128, 128]}
COMPRESSED = {
    "quant_method": "compressed-tensors",
    "format": "pack-quantized",
    "config_groups": {
        "group_0": {"targets": ["Linear"], "weights": {"num_bits": 4, "strategy": "group", "group_size": 128}}
    },
    "ignore": ["lm_head"],
}


def stored(quantization: dict[str, Any]) -> ModelShape:
    assert LLAMA_8B is not None
    return ModelShape.from_hf_config({**LLAMA_8B.config, "quantization_config": quantization}, name="stored")


def test_a_catalogued_bnb_4bit_mirror_is_stored_4bit_and_sized_like_qlora() -> None:
    mirror = find_in_catalog("unsloth/Llama-3.1-8B-Instruct-bnb-4bit")
    assert mirror is not None
    shape = ModelShape.from_hf_config(mirror.config, name=mirror.name)
    assert shape.stored_quantization is not None
    assert (shape.stored_quantization.format, shape.stored_quantization.double_quant) == ("bnb-4bit", True)
    as_stored = estimate_memory(shape, TrainingSetup(method="qlora"))
    quantized_here = estimate_memory(PLAIN, TrainingSetup(method="qlora"))
    assert as_stored.static == quantized_here.static  # the same weights whoever quantized them
    assert as_stored.peak_alloc_bytes == quantized_here.peak_alloc_bytes


@pytest.mark.parametrize("entry", [e for e in derived_entries() if e.config.get("quantization_config")], ids=str)
def test_every_catalogued_quantized_mirror_reads_as_stored(entry: Any) -> None:
    shape = ModelShape.from_hf_config(entry.config, name=entry.name)
    assert shape.stored_quantization is not None and shape.stored_quantization.format == "bnb-4bit"
    lora = estimate_memory(shape, TrainingSetup(method="lora"))
    assert any("stored as bitsandbytes 4-bit" in note for note in lora.notes)
    # 4-bit: well under a byte a value; an MoE's fused experts stay 16-bit (bitsandbytes quantizes nn.Linear only)
    assert lora.static["weights"] < (2 if shape.num_experts else 1) * shape.total_params


def test_lora_on_a_stored_4bit_checkpoint_is_qlora_and_full_is_not_offered() -> None:
    shape = stored({"quant_method": "bitsandbytes", "load_in_4bit": True, "bnb_4bit_use_double_quant": True})
    plan = make_plan(shape, resolve_gpu("RTX 4090").as_gpu(), PlanRequest(methods=("full", "lora", "qlora")))
    assert [option.method for option in plan.options] == ["qlora"]
    assert any(note.startswith("full fine-tuning is not offered") for note in plan.notes), plan.notes
    assert any("LoRA here is QLoRA" in note for note in plan.notes), plan.notes
    full = estimate_memory(shape, TrainingSetup(method="full"))
    assert full.trainable_params < shape.total_params // 100  # adapters only
    assert any("full would need its 16-bit weights" in note for note in full.notes)


@pytest.mark.parametrize(
    ("quantization", "fmt", "bits_per_value"),
    [(GPTQ, "gptq", 4.0), (AWQ, "awq", 4.0), (FP8, "fp8", 8.0), (COMPRESSED, "compressed-tensors", 4.0)],
    ids=["gptq", "awq", "fp8", "compressed-tensors"],
)
def test_other_formats_are_sized_as_stored(quantization: dict[str, Any], fmt: str, bits_per_value: float) -> None:
    shape = stored(quantization)
    assert shape.stored_quantization is not None and shape.stored_quantization.format == fmt
    ledger = param_ledger(shape, TrainingSetup(method="lora"))
    linear = next(group for group in ledger.groups if group.name == "quantized linears")
    assert linear.nbytes == linear.values * bits_per_value / 8
    scales = next(group for group in ledger.groups if group.name == "quantization scales")
    assert 0 < scales.nbytes < linear.nbytes / 8  # a 16-bit scale per 128 values, or an fp32 one per 128 x 128
    plan = make_plan(shape, resolve_gpu("RTX 4090").as_gpu(), PlanRequest())
    assert [option.method for option in plan.options] == ["lora"]
    assert any("QLoRA here is LoRA" in note and "no second quantization" in note for note in plan.notes)


def test_gptq_groups_cost_what_its_tensors_hold() -> None:
    """Per matrix: int32-packed values, fp16 scales and packed zeros per group of 128 inputs, an int32 g_idx."""
    shape = stored(GPTQ)
    ledger = param_ledger(shape, TrainingSetup(method="lora"))
    scales = next(group for group in ledger.groups if group.name == "quantization scales")
    expected = sum(
        s.count * ((s.in_features // 128) * s.out_features * (2 + 0.5) + 4 * s.in_features)
        for s in shape.linear_layers()
    )
    assert scales.nbytes == expected


def test_skip_modules_keep_matrices_16_bit_by_transformers_rule() -> None:
    bnb = {"quant_method": "bitsandbytes", "load_in_4bit": True}
    everything = param_ledger(stored(bnb), TrainingSetup(method="qlora"))
    skipped = param_ledger(
        stored({**bnb, "llm_int8_skip_modules": ["lm_head", "model.layers.0.mlp", "down_proj"]}),
        TrainingSetup(method="qlora"),
    )
    hidden, inter, layers = 4096, 14336, 32
    # layer 0's gate and up, and every layer's down_proj, stay bf16 (down_proj of layer 0 counted once).
    kept = 2 * hidden * inter + layers * inter * hidden
    rest = {g.name: g.values for g in skipped.groups}["not quantized"]
    assert rest - {g.name: g.values for g in everything.groups}["not quantized"] == kept


def test_a_16bit_config_has_no_stored_quantization_and_bad_ones_are_refused() -> None:
    assert PLAIN.stored_quantization is None
    assert read_stored_quantization({"quantization_config": {}}) is None
    with pytest.raises(UnsupportedModelError, match="quantization_config must be an object"):
        read_stored_quantization({"quantization_config": "4bit"})
    with pytest.raises(UnsupportedModelError, match="bits must be a whole number"):
        read_stored_quantization({"quantization_config": {"quant_method": "gptq", "bits": 99}})
    unknown = read_stored_quantization({"quantization_config": {"quant_method": "somethingnew"}})
    assert unknown is not None and unknown.bits is None
    as_16bit = param_ledger(stored({"quant_method": "somethingnew"}), TrainingSetup(method="lora"))
    assert as_16bit.weights_bytes >= 2 * PLAIN.total_params  # unknown: sized as 16-bit, to be safe


def test_a_folder_with_a_stored_quantization_resolves_with_it(tmp_path: Any) -> None:
    import json

    assert LLAMA_8B is not None
    config = {**LLAMA_8B.config, "quantization_config": {"quant_method": "bitsandbytes", "load_in_8bit": True}}
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    resolved = resolve_model(str(tmp_path))
    assert resolved.shape.stored_quantization is not None
    assert resolved.shape.stored_quantization.adapter_method == "lora8"
    assert any("stored already quantized (bitsandbytes 8-bit)" in note for note in resolved.notes)


def test_unsloth_rows_keep_fp32_adapters_on_a_quantized_base() -> None:
    hf = param_ledger(PLAIN, TrainingSetup(method="qlora"))
    unsloth = param_ledger(PLAIN, replace(TrainingSetup(method="qlora"), framework="unsloth"))
    assert (hf.trained_dtype, unsloth.trained_dtype) == ("bf16", "fp32")
    assert hf.rest_dtype == unsloth.rest_dtype == "bf16"
    full = param_ledger(PLAIN, replace(TrainingSetup(method="full"), framework="unsloth"))
    assert {g.name: g.dtype for g in full.groups}["norm weights"] == "fp32"
