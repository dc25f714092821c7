"""The closed-form estimate against the exact simulation over a grid of shapes and setups: within 10%.

Catalogue shapes are cut to two decoder layers, for both sides: every layer-dependent term of both is a
per-layer sum, so the comparison stays honest while the fixed terms (logits, embeddings, optimizer
states) weigh more than they do at full size. `benchmarks/estimate_grid.py` runs the full-size grid.
The simulations are not cached: the exact check's disk cache is keyed by the request and the library
versions, not by our simulator's code, so a cached answer would hide a change to it.

Reserved memory is compared at full size, on a seeded sample of the smaller shapes: the caching allocator's
holes are not a per-layer sum (a freed block is reused by the next layer's requests, so two layers fragment
less than thirty: the replay holds 2-6% over the allocated peak at two layers, 5-8% at full depth, which the
closed form's allocator term was fitted to), so a cut model would test the term against a model it was not
meant for. `benchmarks/estimate_grid.py` compares both figures at full size on every shape.
"""

from __future__ import annotations

import itertools
import random
import statistics
from typing import Any

import pytest

from tuiapp.core.estimate.closed_form import TrainingSetup, estimate_memory
from tuiapp.core.estimate.sim_request import simulation_request
from tuiapp.core.models.catalog import find_in_catalog
from tuiapp.core.models.shape import ModelShape
from tuiapp.core.units import GIB

TOLERANCE = 0.10
# Setups held to a looser bound by name until the closed form models them (none now: the 0.5B full
# 8192x8 ckpt and the Phi-3.5 QLoRA q,k,v,o gaps were fixed in activation_bytes, -10.0% -> -1.5%, +11.1% -> -1.3%).
KNOWN_GAPS: tuple[tuple[str, str], ...] = ()
KNOWN_GAP_TOLERANCE = 0.12
LAYERS = 2
SHAPES = (  # 0.5B to 70B, every dense family in the catalogue
    "Qwen/Qwen2.5-0.5B-Instruct",
    "meta-llama/Llama-3.2-1B-Instruct",
    "google/gemma-3-1b-it",
    "microsoft/Phi-3.5-mini-instruct",
    "mistralai/Mistral-7B-Instruct-v0.3",
    "meta-llama/Llama-3.1-8B-Instruct",
    "Qwen/Qwen3-8B",
    "google/gemma-2-9b-it",
    "Qwen/Qwen2.5-14B-Instruct",
    "mistralai/Mistral-Small-24B-Instruct-2501",
    "Qwen/Qwen2.5-32B-Instruct",
    "meta-llama/Llama-3.1-70B-Instruct",
)
FULL_SIZE_SHAPES = SHAPES[:4]  # 0.5B-3.8B: a few seconds a setup at full depth
FULL_SIZE_CASES = 24
KINDS = ("allocated", "reserved")
METHODS = ("full", "lora", "qlora")
SEQ_LENS, BATCHES, CHECKPOINTING = (512, 2048, 8192), (1, 2, 4, 8), (True, False)
SAMPLE_SEED = 12  # issue 12: a fixed sample, so a failure reproduces
RANDOM_CASES = 50
ATTENTION_ONLY = ("q_proj", "k_proj", "v_proj", "o_proj")
MISTRAL_7B_V03 = "mistralai/Mistral-7B-Instruct-v0.3"
MISTRAL_7B_V01 = "mistralai/Mistral-7B-v0.1"
MIXTURE = "mistralai/Mixtral-8x7B-Instruct-v0.1"  # full only: PEFT's all-linear LoRA wraps fused experts
PUBLISHED_TOLERANCE = 0.02


def _reduced(config: dict[str, Any], layers: int) -> dict[str, Any]:
    """config.json cut to `layers` layers (per-layer lists dropped: they no longer fit)."""
    kept = {key: value for key, value in config.items() if key not in ("layer_types", "mlp_only_layers")}
    return {**kept, "num_hidden_layers": layers}


def _setup(method: str, seq: int, batch: int, ckpt: bool, targets: object = "all-linear") -> TrainingSetup:
    return TrainingSetup(
        method=method,  # type: ignore[arg-type]
        seq_len=seq,
        micro_batch=batch,
        gradient_checkpointing=ckpt,
        lora_targets=targets,  # type: ignore[arg-type]
    )


def _sampled_grid() -> list[tuple[str, TrainingSetup]]:
    """A fixed sample of the grid (12 shapes x 3 methods x 3 sequences x 4 micro-batches x checkpointing):
    every corner (shortest/longest sequence x smallest/largest micro-batch x checkpointing on/off) for
    every method, on the smallest and the largest shape and one more in turn; RANDOM_CASES more drawn with a
    seeded generator; LoRA and QLoRA on the attention only on a few shapes (the MLP frozen, and quantized);
    the mixture of experts for full fine-tuning at its longest corner. ~130 setups, ~1 s each."""
    cases: list[tuple[str, TrainingSetup]] = []
    corners = list(itertools.product((SEQ_LENS[0], SEQ_LENS[-1]), (BATCHES[0], BATCHES[-1]), CHECKPOINTING))
    for i, (method, (seq, batch, ckpt)) in enumerate(itertools.product(METHODS, corners)):
        for name in (SHAPES[0], SHAPES[-1], SHAPES[1 + i % (len(SHAPES) - 2)]):
            cases.append((name, _setup(method, seq, batch, ckpt)))
    everything = list(itertools.product(SHAPES, METHODS, SEQ_LENS, BATCHES, CHECKPOINTING))
    for name, method, seq, batch, ckpt in random.Random(SAMPLE_SEED).sample(everything, RANDOM_CASES):
        cases.append((name, _setup(method, seq, batch, ckpt)))
    for i, name in enumerate(SHAPES[::3]):
        seq, batch = SEQ_LENS[i % 3], BATCHES[(i + 1) % 4]
        cases += [(name, _setup(method, seq, batch, i % 2 == 0, ATTENTION_ONLY)) for method in ("lora", "qlora")]
    cases += [(MIXTURE, _setup("full", 8192, 1, ckpt)) for ckpt in CHECKPOINTING]
    return list(dict.fromkeys(cases))  # a drawn setup that is also a corner runs once


def _config(name: str, layers: int | None = LAYERS) -> dict[str, Any]:
    """A catalogue model's config.json cut to `layers` layers (None: as it is); MISTRAL_7B_V01 is the v0.3
    entry with v0.1's 32k vocabulary and 4k sliding window."""
    entry = find_in_catalog(MISTRAL_7B_V03 if name == MISTRAL_7B_V01 else name)
    assert entry is not None, name
    config = entry.config if layers is None else _reduced(entry.config, layers)
    return {**config, "vocab_size": 32000, "sliding_window": 4096} if name == MISTRAL_7B_V01 else config


def _full_size_sample(count: int) -> list[tuple[str, TrainingSetup]]:
    """`count` setups drawn with a seed from the full-size grid of the shapes up to 3.8B (seconds each)."""
    everything = list(itertools.product(FULL_SIZE_SHAPES, METHODS, SEQ_LENS, BATCHES, CHECKPOINTING))
    drawn = random.Random(SAMPLE_SEED).sample(everything, count)
    return [(name, _setup(method, seq, batch, ckpt)) for name, method, seq, batch, ckpt in drawn]


def _errors(cases: list[tuple[str, TrainingSetup]], kinds: tuple[str, ...] = KINDS, layers: int | None = LAYERS):
    """(allocated or reserved, closed form / simulation - 1, a label) per case and figure in `kinds`, the
    models cut to `layers` layers (None: full size)."""
    from tuiapp.training.memory_sim import simulate_training_step

    rows: list[tuple[str, float, str]] = []
    for name, setup in cases:
        config = _config(name, layers)
        estimate = estimate_memory(ModelShape.from_hf_config(config, name=name), setup)
        simulated = simulate_training_step(simulation_request(config, setup))
        ckpt = "ckpt" if setup.gradient_checkpointing else "no-ckpt"
        if setup.lora_targets != "all-linear" and setup.method != "full":
            ckpt += " " + ",".join(setup.lora_targets)
        pairs = {
            "allocated": (estimate.peak_alloc_bytes, simulated["peak_bytes"]),
            "reserved": (estimate.peak_reserved_bytes, simulated["reserved_bytes"]),
        }
        for kind in kinds:
            closed, exact = pairs[kind]
            label = f"{name} {setup.method} {setup.seq_len}x{setup.micro_batch} {ckpt}: {closed / GIB:.2f} vs "
            rows.append((kind, closed / exact - 1, label + f"{exact / GIB:.2f} GiB {kind}"))
    return rows


def _within_bounds(rows: list[tuple[str, float, str]]) -> bool:
    """Every error within TOLERANCE, the known gap within its own bound."""

    def bound(label: str) -> float:
        known = any(all(part in label for part in gap) for gap in KNOWN_GAPS)
        return KNOWN_GAP_TOLERANCE if known else TOLERANCE

    return all(abs(error) <= bound(label) for _, error, label in rows)


def _summary(rows: list[tuple[str, float, str]]) -> str:
    lines = []
    for kind in ("allocated", "reserved"):
        errors = [abs(error) for k, error, _ in rows if k == kind]
        if errors:
            median, worst = statistics.median(errors), max(errors)
            lines.append(f"{kind}: {len(errors)} setups, median |error| {median:.2%}, worst {worst:.2%}")
    worst_rows = sorted(rows, key=lambda row: -abs(row[1]))[:5]
    return "\n".join([*lines, "worst:"] + [f"  {error:+.1%} {label}" for _, error, label in worst_rows])


@pytest.mark.slow
def test_closed_form_stays_within_ten_percent_of_the_simulation_across_the_grid() -> None:
    rows = _errors(_sampled_grid(), ("allocated",))
    rows += _errors(_full_size_sample(FULL_SIZE_CASES), ("reserved",), layers=None)
    summary = _summary(rows)
    print(f"\n{summary}")
    assert _within_bounds(rows), summary


def test_closed_form_tracks_the_simulation_on_a_few_setups() -> None:
    """The quick version of the grid, for runs that skip slow tests."""
    cases = [case for i, case in enumerate(_sampled_grid()) if i % 17 == 0]
    rows = _errors(cases, ("allocated",)) + _errors(_full_size_sample(3), ("reserved",), layers=None)
    summary = _summary(rows)
    print(f"\n{summary}")
    assert _within_bounds(rows), summary


@pytest.mark.parametrize("method", METHODS)
def test_closed_form_matches_the_simulation_on_the_published_mistral_setup(method: str) -> None:
    """The setup of the published Mistral-7B A100 figures (micro-batch 4 x 4096, checkpointing, LoRA r16
    on q,k,v,o): the sequence reaches v0.1's sliding window, so SDPA gets an explicit mask, and the MLP is
    frozen. Held to a tighter bound than the grid, as the closing note quotes these."""
    setup = TrainingSetup(method=method, seq_len=4096, micro_batch=4, lora_targets=ATTENTION_ONLY)
    [(_, error, label)] = _errors([(MISTRAL_7B_V01, setup)], ("allocated",))
    print(f"\n{error:+.2%} {label}")
    assert abs(error) <= PUBLISHED_TOLERANCE, label
