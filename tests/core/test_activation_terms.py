"""Single activation terms of the closed form that the simulation grid would only show as a small drift."""

from __future__ import annotations

import pytest

from tuiapp.core.estimate.closed_form import TrainingSetup, estimate_memory
from tuiapp.core.models.catalog import find_in_catalog
from tuiapp.core.models.shape import ModelShape

SEQ, BATCH = 4096, 4


def _mistral_v01() -> ModelShape:
    """Mistral-7B-v0.1: the v0.3 trunk with a 32k vocabulary and a 4096-token sliding window."""
    entry = find_in_catalog("mistralai/Mistral-7B-Instruct-v0.3")
    assert entry is not None
    return ModelShape.from_hf_config({**entry.config, "vocab_size": 32000, "sliding_window": 4096}, name="v0.1")


def _kept_activations(method: str, attention: str, **knobs: object) -> int:
    setup = TrainingSetup(method=method, seq_len=SEQ, micro_batch=BATCH, attn_implementation=attention, **knobs)  # type: ignore[arg-type]
    return estimate_memory(_mistral_v01(), setup).phases["start of backward"]["activations"]


@pytest.mark.parametrize("method", ["full", "lora", "qlora"])
@pytest.mark.parametrize("dropout", [0.0, 0.05])
def test_a_sequence_reaching_the_sliding_window_keeps_its_mask_under_checkpointing(method: str, dropout: float) -> None:
    """SDPA gets a boolean (batch, 1, T, T) mask that the checkpointed layers keep for their recompute;
    flash-attention applies the window itself. LoRA's dropout masks are a different thing."""
    extra = _kept_activations(method, "sdpa", lora_dropout=dropout) - _kept_activations(
        method, "flash", lora_dropout=dropout
    )
    assert extra == SEQ * SEQ * BATCH


def test_attention_only_qlora_holds_the_mlp_gradients_in_the_fp32_stream() -> None:
    """QLoRA on q,k,v,o: while the recomputed layer's frozen MLP runs backward through act(gate) * up, it
    holds gate, up and act(gate) (saved) plus the product's gradient and the two it makes, all in the fp32
    stream of a kbit-prepared model: six intermediate-wide fp32 tensors, so each extra unit of width
    costs 6 x 4 bytes per token (plus a little: the widest dequantized weight grows too)."""
    targets = ("q_proj", "k_proj", "v_proj", "o_proj")
    setup = TrainingSetup(method="qlora", seq_len=SEQ, micro_batch=BATCH, lora_targets=targets, kbit_upcast=True)
    base = _mistral_v01()
    wider = base.model_copy(update={"intermediate_size": base.intermediate_size + 1024})

    def recompute(shape: ModelShape) -> int:
        return estimate_memory(shape, setup).phases["backward through layers"]["activations"]

    per_unit_of_width = (recompute(wider) - recompute(base)) / (1024 * SEQ * BATCH)
    assert 6 * 4 <= per_unit_of_width < 7 * 4
