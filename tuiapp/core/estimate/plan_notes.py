"""Sentences that explain a plan's peaks where they surprise: a lighter method needing more memory than a
heavier one, or the logits outweighing the model. The CLI prints them; the Method screen can show them too."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tuiapp.core.units import GIB

if TYPE_CHECKING:
    from tuiapp.core.estimate.planner import PlanOption
    from tuiapp.core.models.shape import ModelShape

METHOD_NAMES = {"full": "full fine-tuning", "lora": "LoRA", "qlora": "QLoRA", "lora8": "8-bit LoRA"}
HEAVIEST_FIRST = ("full", "lora", "lora8", "qlora")  # what a reader expects the peaks to follow
LOGITS_SHARE = 0.35  # a vocabulary term above this share of the peak is worth a sentence
WHY_TERM = {
    ("qlora", "activations"): "a 4-bit base keeps the activations around its layers in fp32",
    ("lora8", "activations"): "an 8-bit base keeps the activations around its layers in fp32",
    ("lora", "activations"): "the adapters keep each adapted layer's input for their backward pass",
}


def _gib(num: float) -> str:
    return f"{num / GIB:.1f} GiB"


def _on(flag: bool) -> str:
    return "on" if flag else "off"


def _knob_differences(option: PlanOption, other: PlanOption) -> list[str]:
    mine, theirs = option.setup, other.setup
    out = []
    if mine.micro_batch != theirs.micro_batch:
        out.append(f"micro-batch {mine.micro_batch} vs {theirs.micro_batch}")
    if mine.gradient_checkpointing != theirs.gradient_checkpointing:
        out.append(f"checkpointing {_on(mine.gradient_checkpointing)} vs {_on(theirs.gradient_checkpointing)}")
    return out


def _why_larger(option: PlanOption, other: PlanOption) -> str:
    """The chosen knobs that differ, else the term that grew most."""
    knobs = _knob_differences(option, other)
    if knobs:
        return f"{', '.join(knobs)} (each method gets the fastest setting that fits)"
    mine, theirs = option.estimate.breakdown(), other.estimate.breakdown()
    term = max(mine, key=lambda name: mine[name] - theirs.get(name, 0))
    why = f"its {term} are {_gib(mine[term])} vs {_gib(theirs.get(term, 0))} for {METHOD_NAMES[other.method]}"
    because = WHY_TERM.get((option.method, term))
    return f"{why}; {because}" if because else why


def inversion_notes(options: Sequence[PlanOption]) -> list[str]:
    """`QLoRA needs more than LoRA and full fine-tuning here: ...` for each method that needs more than a
    method usually heavier, compared with the nearest of those."""
    by_method = {option.method: option for option in options}
    order = [method for method in HEAVIEST_FIRST if method in by_method]
    notes = []
    for index, method in enumerate(order):
        option = by_method[method]
        peak = option.estimate.peak_alloc_bytes
        heavier = [by_method[m] for m in order[:index] if by_method[m].estimate.peak_alloc_bytes < peak]
        if heavier:
            names = " and ".join(METHOD_NAMES[other.method] for other in reversed(heavier))
            notes.append(f"{METHOD_NAMES[method]} needs more than {names} here: {_why_larger(option, heavier[-1])}")
    return notes


def logits_note(options: Sequence[PlanOption], shape: ModelShape) -> str | None:
    """A sentence when the logits and loss over the vocabulary outweigh the weights and take a large share
    of a peak: then the batch and sequence length decide the memory more than the method does."""
    if not options:
        return None
    shares = [(option.estimate.breakdown(), option.estimate.peak_alloc_bytes) for option in options]
    terms = [(parts.get("logits and loss", 0), parts.get("weights", 0), peak) for parts, peak in shares]
    logits, weights, peak = max(terms, key=lambda term: term[0] / max(term[2], 1))
    if logits < LOGITS_SHARE * peak or logits <= weights:
        return None
    each = "each peak" if len({term[0] for term in terms}) == 1 else f"the {_gib(peak)} peak"
    return (
        f"logits and loss over the {shape.vocab_size:,}-token vocabulary are {_gib(logits)} of {each}, the "
        f"weights {_gib(weights)}: for a model this small, micro-batch and sequence length matter more than the method"
    )


def plan_notes(options: Sequence[PlanOption], shape: ModelShape) -> tuple[str, ...]:
    """Every note for these options, the inversions first."""
    logits = logits_note(options, shape)
    return (*inversion_notes(options), *([logits] if logits else []))
