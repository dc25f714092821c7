"""Per-GPU memory over several GPUs: the ZeRO paper's model-state figures, and the directions each strategy
must move the peak in."""

from __future__ import annotations

from dataclasses import replace

import pytest
from published_figures import MISTRAL_7B

from tuiapp.core.estimate.closed_form import MemoryEstimate, TrainingSetup, estimate_memory
from tuiapp.core.estimate.param_ledger import param_ledger
from tuiapp.core.estimate.sharding import Sharding, shard_estimate

FULL = TrainingSetup(method="full", seq_len=2048, micro_batch=1, gradient_checkpointing=True)


def model_states(sharded: MemoryEstimate, unit_gradients: int) -> int:
    """Weights + gradients + optimizer states on one GPU, less the one layer's gradients held before they are
    reduced (the paper counts steady state)."""
    gradients = sharded.phases["optimizer step"]["gradients"]
    gradients -= unit_gradients if gradients and sharded.static.get("reduce buckets") else 0
    return sharded.static["weights"] + sharded.static["optimizer states"] + gradients


@pytest.mark.parametrize(
    ("strategy", "published_gb"),
    [("ddp", 120.0), ("zero2", 16.6), ("zero3", 1.9)],
)
def test_the_zero_papers_model_states_for_7_5b_on_64_gpus(strategy: str, published_gb: float) -> None:
    """Rajbhandari et al. 2020, Figure 1: Ψ = 7.5B, K = 12, N = 64: baseline 120 GB, P_os+g 16.6 GB, P_os+g+p
    1.9 GB (fp16 weights and gradients 2Ψ each, Adam's fp32 states 12Ψ)."""
    psi = 7_500_000_000
    single = MemoryEstimate(
        static={"weights": 2 * psi, "optimizer states": 12 * psi},
        phases={"optimizer step": {"gradients": 2 * psi}},
        peak_phase="optimizer step",
        trainable_params=psi,
        total_params=psi,
    )
    sharded = shard_estimate(MISTRAL_7B, FULL, single, Sharding(64, strategy))  # type: ignore[arg-type]
    unit = param_ledger(MISTRAL_7B, FULL).trainable_bytes // MISTRAL_7B.num_layers
    ours = model_states(sharded, unit) / 1e9
    print(f"{strategy}: {ours:.2f} GB of model states per GPU, published {published_gb} GB")
    assert ours == pytest.approx(published_gb, abs=0.05)


def per_gpu(setup: TrainingSetup, sharding: Sharding) -> MemoryEstimate:
    return shard_estimate(MISTRAL_7B, setup, estimate_memory(MISTRAL_7B, setup), sharding)


def test_each_strategy_splits_more_and_activations_stay_a_whole_micro_batch() -> None:
    single = estimate_memory(MISTRAL_7B, FULL)
    peaks = {name: per_gpu(FULL, Sharding(4, name)).peak_alloc_bytes for name in ("ddp", "zero2", "zero3", "fsdp2")}
    assert peaks["ddp"] > single.peak_alloc_bytes  # a second copy of the gradients in DDP's buckets
    assert peaks["ddp"] > peaks["zero2"] > peaks["zero3"] == peaks["fsdp2"]
    for name in ("ddp", "zero2", "fsdp2"):
        sharded = per_gpu(FULL, Sharding(4, name))
        for phase, parts in single.phases.items():
            assert sharded.phases[phase].get("activations") == parts.get("activations"), (name, phase)


def test_more_gpus_hold_less_each_down_to_what_cannot_be_split() -> None:
    peaks = [per_gpu(FULL, Sharding(n, "fsdp2")).peak_alloc_bytes for n in (2, 4, 8, 16, 64)]
    assert peaks == sorted(peaks, reverse=True) and len(set(peaks)) == len(peaks)
    sixty_four = per_gpu(FULL, Sharding(64, "fsdp2"))
    assert sixty_four.static["gathered layers"] > sixty_four.static["weights"]  # the floor: what runs, whole


def test_lora_under_fsdp_splits_the_frozen_base_and_zero2_does_not() -> None:
    lora = replace(FULL, method="lora")
    single = estimate_memory(MISTRAL_7B, lora)
    assert per_gpu(lora, Sharding(4, "zero2")).static["weights"] == single.static["weights"]
    assert per_gpu(lora, Sharding(4, "fsdp2")).static["weights"] == single.static["weights"] // 4


def test_offload_moves_states_to_the_host_and_says_how_much() -> None:
    single = estimate_memory(MISTRAL_7B, FULL)
    optimizer = per_gpu(FULL, Sharding(4, "zero2", "optimizer"))
    assert optimizer.static["optimizer states"] == 0
    assert optimizer.phases["optimizer step"].get("optimizer temporaries", 0) == 0
    host = single.static["optimizer states"] / 2**30
    assert any(f"{host:.1f} GiB in CPU memory" in note for note in optimizer.notes), optimizer.notes
    everything = per_gpu(FULL, Sharding(4, "fsdp2", "all"))
    assert everything.static["weights"] == 0 and everything.static["optimizer states"] == 0
    assert everything.peak_alloc_bytes < per_gpu(FULL, Sharding(4, "fsdp2")).peak_alloc_bytes


@pytest.mark.parametrize(
    ("sharding", "method", "said"),
    [
        (Sharding(1), "lora", "give 2 to 64"),
        (Sharding(65), "lora", "give 2 to 64"),
        (Sharding(2, "zero2", "all"), "lora", "it can: none, optimizer"),
        (Sharding(2, "fsdp2", "optimizer"), "full", "it can: none, all"),
        (Sharding(2, "ddp", "optimizer"), "full", "it can: none"),
        (Sharding(2, "fsdp2"), "lora8", "8-bit weights cannot be split"),
    ],
)
def test_what_a_sharding_cannot_do_is_said(sharding: Sharding, method: str, said: str) -> None:
    assert said in (sharding.problem(method) or "")


def test_what_it_can_do_has_no_problem() -> None:
    assert Sharding(2, "zero3", "all").problem("qlora") is None
    assert Sharding(8, "ddp").problem("lora8") is None
