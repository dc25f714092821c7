"""The closed-form estimate: published measurements, and the directions every term must move in."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from tuiapp.core.estimate.closed_form import TrainingSetup, estimate_memory
from tuiapp.core.models.shape import ModelShape
from tuiapp.core.units import GIB

# Mistral-7B v0.1's config.json (the model the published A100 figures were measured on).
MISTRAL_7B = ModelShape.from_hf_config(
    {
        "architectures": ["MistralForCausalLM"],
        "model_type": "mistral",
        "vocab_size": 32000,
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "max_position_embeddings": 32768,
        "tie_word_embeddings": False,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "torch_dtype": "bfloat16",
    },
    name="mistralai/Mistral-7B-v0.1",
)
# Source: fms-acceleration's A100-80GB reference table, scripts/benchmarks/refs/a100_80gb.csv at commit 24bdadb
# (https://github.com/foundation-model-stack/fms-acceleration/blob/24bdadb228e2d55bc0c69deec034b86a73da6917/
# scripts/benchmarks/refs/a100_80gb.csv, Feb 2025). Its stack (refs/requirements.txt): torch 2.4.1, transformers
# 4.48.1, trl 0.13.0, peft 0.13.2, bitsandbytes 0.43.3, flash-attn 2.7.3, fms-hf-tuning 2.5.0. Rows: Mistral-7B-v0.1,
# 1 GPU, per_device_train_batch_size 4, max_seq_len 4096 packed (benchmark.py's defaults), gradient checkpointing,
# adamw_torch, flash attention (defaults.yaml), torch_dtype bfloat16; LoRA and QLoRA r 16, alpha 16, dropout 0.1
# on q,k,v,o (scenarios.yaml). `allocated` is mem_peak_torch_mem_alloc_in_bytes (torch.cuda.max_memory_allocated),
# `nvidia_smi_mib` mem_nvidia_mem_reserved.
MEASURED_SETUP = TrainingSetup(
    seq_len=4096,
    micro_batch=4,
    gradient_checkpointing=True,
    optimizer="adamw_torch",
    precision="bf16",
    lora_r=16,
    lora_targets=("q_proj", "k_proj", "v_proj", "o_proj"),
    lora_dropout=0.1,
    attn_implementation="flash_attention_2",
    # The measured stack, not our TRL 1.16 backend: TRL 0.13's SFTTrainer takes the model's own loss, and
    # transformers 4.48 computes the (4, 4096, 32000) logits and upcasts them in ForCausalLMLoss; PEFT 0.13's
    # get_peft_model keeps adapters fp32 (autocast_adapter_dtype) and TRL 0.13 does not cast them.
    loss_path="full_logits",
    adapter_dtype="fp32",
    kbit_upcast=False,
)


@dataclass(frozen=True)
class PublishedRow:
    """One measured run, what our setup options say its stack did, and how close the estimate must come."""

    framework_config: str
    """fms-acceleration's framework_config column (none: plain fms-hf-tuning)."""
    allocated_bytes: int
    nvidia_smi_mib: int
    setup: TrainingSetup
    tolerance: float
    """Just above today's error (the estimate, 2026-12, against this row)."""


PUBLISHED = {
    "full": PublishedRow("none", 72_434_837_504, 77_256, replace(MEASURED_SETUP, method="full"), 0.005),
    # -4.5% today: the peak is the start of the backward, 1.1 GiB short, not yet explained.
    "lora": PublishedRow("none", 26_704_571_904, 29_576, replace(MEASURED_SETUP, method="lora"), 0.05),
    # baseline-peft-bnb (bf16: True) sets no_peft_model: true, so fms-acceleration's own non-upcasting prepare is
    # skipped and TRL 0.13 calls PEFT's prepare_model_for_kbit_training on the 4-bit model: every non-quantized
    # parameter upcast to fp32 (kbit_upcast). TRL then casts embed_tokens and lm_head back to bf16
    # (peft_module_casting_to_bf16); no setup option says that: ours holds them fp32, 0.49 GiB more weights.
    "qlora": PublishedRow(
        "baseline-peft-bnb", 20_669_338_112, 26_056, replace(MEASURED_SETUP, method="qlora", kbit_upcast=True), 0.01
    ),
}


@pytest.mark.parametrize("method", sorted(PUBLISHED))
def test_matches_published_mistral_7b_measurements(method: str) -> None:
    row = PUBLISHED[method]
    estimate = estimate_memory(MISTRAL_7B, row.setup)
    ours, published = estimate.peak_alloc_bytes / GIB, row.allocated_bytes / GIB
    print(
        f"Mistral-7B {method} ({row.framework_config}): estimate {ours:.2f} GiB, published {published:.2f} GiB, "
        f"error {ours / published - 1:+.2%} within ±{row.tolerance:.1%} (peak phase: {estimate.peak_phase})"
    )
    assert ours == pytest.approx(published, rel=row.tolerance)


def peak(**changes: object) -> int:
    return estimate_memory(MISTRAL_7B, replace(TrainingSetup(), **changes)).peak_alloc_bytes


def test_longer_sequences_and_bigger_batches_cost_more() -> None:
    assert peak(seq_len=512) < peak(seq_len=2048) < peak(seq_len=8192)
    assert peak(micro_batch=1) < peak(micro_batch=2) < peak(micro_batch=8)


def test_checkpointing_saves_memory() -> None:
    assert peak(gradient_checkpointing=True, seq_len=4096) < peak(gradient_checkpointing=False, seq_len=4096)


def test_methods_order_by_memory() -> None:
    assert peak(method="qlora") < peak(method="lora8") < peak(method="lora") < peak(method="full")


def test_eight_bit_optimizer_shrinks_full_fine_tuning() -> None:
    assert peak(method="full", optimizer="adamw_8bit") < peak(method="full", optimizer="adamw_torch")


def test_unsloth_fused_loss_removes_the_logits_peak() -> None:
    hf = estimate_memory(MISTRAL_7B, TrainingSetup(seq_len=8192, micro_batch=2))
    unsloth = estimate_memory(MISTRAL_7B, TrainingSetup(seq_len=8192, micro_batch=2, framework="unsloth"))
    assert unsloth.peak_alloc_bytes < hf.peak_alloc_bytes
    assert any("fused cross-entropy" in note for note in unsloth.notes)


def test_double_quant_saves_about_three_eighths_of_a_bit_per_weight() -> None:
    single = estimate_memory(MISTRAL_7B, TrainingSetup(method="qlora", double_quant=False)).static["weights"]
    double = estimate_memory(MISTRAL_7B, TrainingSetup(method="qlora", double_quant=True)).static["weights"]
    linear = sum(s.in_features * s.out_features * s.count for s in MISTRAL_7B.linear_layers())
    assert (single - double) / linear * 8 == pytest.approx(0.373, abs=0.01)


def test_lora_trainable_params_match_peft_for_qkvo() -> None:
    estimate = estimate_memory(MISTRAL_7B, MEASURED_SETUP)
    # r * (in + out) per module: q, o = 4096->4096; k, v = 4096->1024; 32 layers.
    assert estimate.trainable_params == 16 * (2 * 8192 + 2 * 5120) * 32


def test_fit_rule_uses_the_nvidia_smi_figure_and_a_margin() -> None:
    estimate = estimate_memory(MISTRAL_7B, TrainingSetup())
    assert estimate.nvidia_smi_bytes > estimate.peak_reserved_bytes > estimate.peak_alloc_bytes
    assert estimate.fits(int(estimate.nvidia_smi_bytes / 0.95) + 1)
    assert not estimate.fits(estimate.nvidia_smi_bytes)
