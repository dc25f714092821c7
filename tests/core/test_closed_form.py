"""The closed-form estimate: published measurements, and the directions every term must move in."""

from __future__ import annotations

from dataclasses import replace

import pytest
from published_figures import MEASURED_SETUP, MISTRAL_7B, PUBLISHED

from tuiapp.core.estimate.closed_form import TrainingSetup, estimate_memory
from tuiapp.core.units import GIB


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
