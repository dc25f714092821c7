"""Steps and training time from a config: the Trainer's step arithmetic, and the directions time must move in."""

from __future__ import annotations

import math

import pytest

from tuiapp.core.config import FTConfig
from tuiapp.core.estimate.step_time import (
    BASE_MFU,
    METHOD_SPEED,
    attention_forward_flops,
    estimate_steps,
    flops_per_token,
    format_duration,
)
from tuiapp.core.models.catalog import find_in_catalog
from tuiapp.core.models.shape import ModelShape


def shape_of(name: str) -> ModelShape:
    entry = find_in_catalog(name)
    assert entry is not None, name
    return ModelShape.from_hf_config(entry.config, name=entry.name)


LLAMA_8B = shape_of("meta-llama/Llama-3.1-8B-Instruct")
GEMMA2_2B = shape_of("google/gemma-2-2b-it")  # tied embeddings, sliding window on half the layers


def config(method: str = "lora", task: str = "sft", **training: object) -> FTConfig:
    return FTConfig.model_validate(
        {"model": {"name_or_path": "org/m"}, "method": method, "task": task, "training": training}
    )


def seconds(**kwargs: object) -> float:
    """Estimated seconds for Llama 8B, 1000 rows of 500 tokens at 100 TFLOPS, with config changes."""
    shape = kwargs.pop("shape", LLAMA_8B)
    tflops = kwargs.pop("tflops", 100.0)
    result = estimate_steps(shape, config(**kwargs), rows=1000, mean_tokens=500, tflops=tflops)
    assert result.seconds is not None and result.seconds > 0
    return result.seconds


@pytest.mark.parametrize(
    ("rows", "micro", "accum", "steps"),
    [(96, 2, 8, 6), (97, 2, 8, 7), (100, 2, 8, 7), (111, 2, 8, 7), (112, 2, 8, 7), (113, 2, 8, 8), (1, 4, 4, 1)],
)
def test_steps_per_epoch_round_up_over_the_effective_batch(rows: int, micro: int, accum: int, steps: int) -> None:
    result = estimate_steps(LLAMA_8B, config(micro_batch_size=micro, grad_accum=accum), rows=rows)
    assert result.steps_per_epoch == steps
    # The Trainer's own arithmetic: batches per epoch, then optimizer steps over grad_accum, both rounded up.
    assert result.steps_per_epoch == math.ceil(math.ceil(rows / micro) / accum)
    assert result.total_steps == steps  # epochs defaults to 1


def test_max_steps_overrides_epochs() -> None:
    by_epochs = estimate_steps(LLAMA_8B, config(epochs=5), rows=1000, tflops=100)
    capped = estimate_steps(LLAMA_8B, config(epochs=5, max_steps=3), rows=1000, tflops=100)
    assert by_epochs.total_steps == 5 * by_epochs.steps_per_epoch
    assert capped.total_steps == 3 and capped.steps_per_epoch == by_epochs.steps_per_epoch
    assert capped.seconds == pytest.approx(by_epochs.seconds * 3 / by_epochs.total_steps)


@pytest.mark.parametrize(("epochs", "steps"), [(0.5, 4), (0.1, 1), (1.0, 7), (2.5, 18), (3.0, 21)])
def test_fractional_epochs_round_up_the_total(epochs: float, steps: int) -> None:
    result = estimate_steps(LLAMA_8B, config(epochs=epochs), rows=100, tflops=100)  # 7 steps per epoch
    assert result.steps_per_epoch == 7
    assert result.total_steps == steps


def test_gradient_checkpointing_costs_about_one_more_forward() -> None:
    lora_on, lora_off = seconds(gradient_checkpointing=True), seconds(gradient_checkpointing=False)
    full_on = seconds(method="full", gradient_checkpointing=True)
    full_off = seconds(method="full", gradient_checkpointing=False)
    assert lora_on > lora_off and full_on > full_off
    # A forward is a third of full training and a half of LoRA's (forward + input gradients).
    assert 1.25 < full_on / full_off < 1.4
    assert 1.4 < lora_on / lora_off < 1.55


def test_full_fine_tuning_costs_more_than_lora() -> None:
    for checkpointing in (True, False):
        full = seconds(method="full", gradient_checkpointing=checkpointing)
        lora = seconds(gradient_checkpointing=checkpointing)
        assert full > lora
        assert full / lora < 1.5  # weight gradients add at most half again (attention has none)


def test_quantized_bases_are_slower_than_lora_at_the_same_flops() -> None:
    lora = estimate_steps(LLAMA_8B, config("lora"), rows=1000, tflops=100)
    for method in ("qlora", "lora8"):
        quantized = estimate_steps(LLAMA_8B, config(method), rows=1000, tflops=100)
        assert quantized.flops_per_token == lora.flops_per_token
        assert quantized.seconds is not None and lora.seconds is not None
        assert quantized.seconds / lora.seconds == pytest.approx(METHOD_SPEED["lora"] / METHOD_SPEED[method])
        assert quantized.mfu == pytest.approx(BASE_MFU * METHOD_SPEED[method])


@pytest.mark.parametrize("tflops", [25.0, 312.0, 989.0])
def test_time_scales_inversely_with_tflops(tflops: float) -> None:
    assert seconds(tflops=tflops) * tflops == pytest.approx(seconds(tflops=100.0) * 100.0)
    assert seconds(tflops=tflops * 2) == pytest.approx(seconds(tflops=tflops) / 2)


def test_time_is_unknown_without_tflops_but_steps_are_not() -> None:
    result = estimate_steps(LLAMA_8B, config(), rows=1000, mean_tokens=300)
    assert result.seconds is None and result.seconds_per_step is None
    assert result.total_steps == math.ceil(1000 / 16) and result.tokens_per_step == 16 * 300


def test_no_time_where_the_figure_does_not_apply() -> None:
    assert estimate_steps(LLAMA_8B, config(precision="fp32"), rows=100, tflops=100).seconds is None
    assert estimate_steps(LLAMA_8B, config(task="grpo"), rows=100, tflops=100).seconds is None


def test_time_is_flops_over_the_sustained_rate() -> None:
    result = estimate_steps(LLAMA_8B, config(epochs=2), rows=1000, mean_tokens=500, tflops=100)
    flops = result.total_steps * result.tokens_per_step * result.flops_per_token
    assert result.seconds == pytest.approx(flops / (100e12 * BASE_MFU))
    assert result.seconds_per_step == pytest.approx(result.seconds / result.total_steps)


@pytest.mark.parametrize("shape", [LLAMA_8B, GEMMA2_2B], ids=lambda s: s.name)
def test_full_training_flops_are_six_n_plus_palm_attention(shape: ModelShape) -> None:
    """Counted independently: every decoder matmul and the lm_head (the embedding lookup is free)."""
    weights = sum(spec.params for spec in shape.linear_layers()) + shape.vocab_size * shape.hidden_size
    seq = 1024  # under Gemma 2's 4096 window, so every layer attends over the whole sequence
    attention = 12 * shape.num_layers * shape.num_attention_heads * shape.head_dim * seq
    full = flops_per_token(shape, full=True, seq_len=seq, gradient_checkpointing=False)
    lora = flops_per_token(shape, full=False, seq_len=seq, gradient_checkpointing=False)
    assert full == pytest.approx(6 * weights + attention, rel=1e-3)  # norms are the only difference
    assert full - lora == pytest.approx(2 * weights, rel=1e-3)  # the weight gradients
    assert lora == pytest.approx(4 * weights + attention, rel=1e-3)
    ckpt = flops_per_token(shape, full=False, seq_len=seq, gradient_checkpointing=True)
    assert ckpt - lora == pytest.approx(2 * weights + attention / 3, rel=1e-3)


def test_sliding_window_layers_attend_over_the_window_only() -> None:
    window = GEMMA2_2B.sliding_window
    assert window is not None and 0 < GEMMA2_2B.sliding_window_layers < GEMMA2_2B.num_layers
    short, long = attention_forward_flops(GEMMA2_2B, window), attention_forward_flops(GEMMA2_2B, 2 * window)
    assert short < long < 2 * short  # global layers double, windowed layers stay
    assert attention_forward_flops(LLAMA_8B, 2 * window) == pytest.approx(2 * attention_forward_flops(LLAMA_8B, window))


def test_mean_tokens_defaults_to_half_of_max_length_and_is_capped() -> None:
    cfg = config(max_length=1024)
    assert estimate_steps(LLAMA_8B, cfg, rows=10).tokens_per_step == 16 * 512
    assert estimate_steps(LLAMA_8B, cfg, rows=10, mean_tokens=5000).tokens_per_step == 16 * 1024
    assert estimate_steps(LLAMA_8B, cfg, rows=10, mean_tokens=100).tokens_per_step == 16 * 100


def test_packing_fills_whole_sequences_and_needs_fewer_steps() -> None:
    plain = estimate_steps(LLAMA_8B, config(max_length=2048), rows=10_000, mean_tokens=256, tflops=100)
    packed = estimate_steps(LLAMA_8B, config(max_length=2048, packing=True), rows=10_000, mean_tokens=256, tflops=100)
    assert packed.tokens_per_step == 16 * 2048
    assert packed.steps_per_epoch == math.ceil(math.ceil(10_000 * 256 / 2048) / 16)
    assert packed.steps_per_epoch < plain.steps_per_epoch
    # Same tokens either way; packed sequences are longer, so attention costs a little more per token.
    assert packed.total_steps * packed.tokens_per_step >= plain.total_steps * plain.tokens_per_step
    assert packed.flops_per_token > plain.flops_per_token


def test_preference_tasks_train_two_sequences_per_row_and_dpo_runs_a_reference() -> None:
    sft = estimate_steps(LLAMA_8B, config(), rows=100, mean_tokens=400, tflops=100)
    dpo = estimate_steps(LLAMA_8B, config(task="dpo"), rows=100, mean_tokens=400, tflops=100)
    orpo = estimate_steps(LLAMA_8B, config(task="orpo"), rows=100, mean_tokens=400, tflops=100)
    assert dpo.steps_per_epoch == orpo.steps_per_epoch == sft.steps_per_epoch  # the batch counts pairs
    assert dpo.tokens_per_step == orpo.tokens_per_step == 2 * sft.tokens_per_step
    assert orpo.flops_per_token == sft.flops_per_token < dpo.flops_per_token


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"rows": 0}, "rows"), ({"rows": 5, "mean_tokens": 0}, "mean_tokens"), ({"rows": 5, "tflops": -1}, "tflops")],
)
def test_impossible_inputs_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        estimate_steps(LLAMA_8B, config(), **kwargs)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.2, "< 1 s"),
        (45, "≈ 45 s"),
        (59.4, "≈ 59 s"),
        (59.6, "≈ 1 min"),
        (90, "≈ 2 min"),
        (45 * 60, "≈ 45 min"),
        (3590, "≈ 1 h"),
        (2 * 3600 + 10 * 60, "≈ 2 h 10 min"),
        (23 * 3600 + 59 * 60 + 40, "≈ 1 d"),
        (3 * 86400 + 4 * 3600, "≈ 3 d 4 h"),
    ],
)
def test_format_duration(value: float, text: str) -> None:
    assert format_duration(value) == text


@pytest.mark.parametrize("value", [-1.0, math.nan, math.inf])
def test_format_duration_refuses_impossible_durations(value: float) -> None:
    with pytest.raises(ValueError):
        format_duration(value)
