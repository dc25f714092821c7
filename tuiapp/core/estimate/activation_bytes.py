"""Activation bytes per token for the closed form: what one decoder layer keeps for backward, what it
holds on top while it runs, and the logits and loss over the vocabulary.

Each term names the tensor transformers 5 + PEFT keep (checked op by op against `tuiapp.training.memory_sim`).
Two facts decide most of them: autograd saves a tensor only for a gradient someone needs (a frozen
linear layer never saves its input), and in QLoRA `prepare_model_for_kbit_training` leaves the residual
stream in fp32, so everything around the quantized layers is fp32 too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tuiapp.core.estimate.closed_form import TrainingSetup
    from tuiapp.core.models.shape import LinearSpec, ModelShape

FP32 = 4
RMS_PER_ROW = 4  # the fp32 1/rms of each normalized row, saved by every RMSNorm
ATTENTION_INPUTS = {"q_proj", "k_proj", "v_proj", "qkv_proj"}  # fed by the layer's input norm


@dataclass(frozen=True)
class LayerActivations:
    """Bytes per token of one (average) decoder layer."""

    saved: float
    """Kept from its forward until its backward (without checkpointing), averaged over the layers."""
    saved_max: float
    """The same for the layer that keeps the most (a local-attention layer with its mask)."""
    running: float
    """Held on top of `saved` at the busiest moment of its forward or backward."""
    first_layer_saving: float
    """LoRA without checkpointing: the first layer's input needs no gradient, so its input norm and the
    dropout masks of q/k/v are not kept."""
    mask: float
    """The attention mask transformers builds for the whole model (eager attention, or a sliding window
    the sequence reaches): kept while checkpointed layers may recompute."""


def _norm(width: int, rows: int, compute: int, trainable: bool, scales_in_fp32: bool) -> float:
    """An RMSNorm: its input in fp32 and 1/rms; when its weight trains, the normalized value as well."""
    saved = FP32 * width + RMS_PER_ROW * rows
    if trainable:
        saved += (FP32 if scales_in_fp32 else compute) * width
    return saved


def _attention(shape: ModelShape, setup: TrainingSetup, compute: int, stream: int, full: bool) -> float:
    """Rotated q and k, v, the attention output (and its softmax statistics) in the compute dtype."""
    heads = shape.num_attention_heads
    q_width, kv_width = heads * shape.head_dim, shape.num_key_value_heads * shape.head_dim
    fused = 0
    if shape.fused_projections:
        # v is a view of qkv_proj's output, which stays whole (unless v is cast for SDPA: the fp32 stream
        # of a kbit-prepared model); the partial rotary's cat leaves the output heads-first, so it is
        # copied for o_proj.
        fused = compute * ((q_width + kv_width if stream == compute else 0) + (q_width if full else 0))
    if setup.attn_implementation != "eager":
        return compute * (2 * q_width + 2 * kv_width) + FP32 * heads + fused
    # Eager: K and V repeated to every head, fp32 softmax probabilities and their cast, the output's copy.
    probabilities = (FP32 + compute) * heads * setup.seq_len
    return compute * (3 * q_width + (q_width if full else 0)) + probabilities


def _mask_bytes(shape: ModelShape, setup: TrainingSetup, compute: int) -> tuple[float, float]:
    """(per masked layer, for the model) bytes per token of explicit attention masks.

    A sliding window the sequence reaches needs a boolean (batch, 1, T, T) mask; SDPA turns it into an
    additive one in the compute dtype in every local layer and keeps it for backward, and with a mask
    transformers repeats K and V for every head instead of using SDPA's grouped-query path. Eager
    attention always gets an additive causal mask."""
    seq = setup.seq_len
    if setup.attn_implementation == "eager":
        return 0.0, compute * seq
    flash = setup.attn_implementation.startswith("flash")  # flash-attn applies the window itself
    if flash or shape.sliding_window is None or seq < shape.sliding_window:
        return 0.0, 0.0
    repeated = 2 * compute * (shape.num_attention_heads - shape.num_key_value_heads) * shape.head_dim
    return compute * seq + repeated, float(seq)


def _mlp(shape: ModelShape, compute: int, activation: int, full: bool) -> float:
    """gate and up outputs, act(gate), and (when down_proj trains) their product."""
    if shape.num_experts:
        routed = shape.num_experts_per_tok
        per_route = compute * (2 * shape.hidden_size + (4 if full else 3) * shape.moe_intermediate_size)
        router = (compute + FP32) * shape.num_experts
        shared = (4 if full else 3) * activation * shape.shared_expert_intermediate_size
        return routed * per_route + router + shared
    return (4 if full else 3) * activation * shape.intermediate_size


def _per_layer(specs: list[LinearSpec], layers: int) -> list[tuple[LinearSpec, float]]:
    return [(spec, spec.count / layers) for spec in specs]


def layer_activations(
    shape: ModelShape, setup: TrainingSetup, targets: list[LinearSpec], compute: int, stream: int
) -> LayerActivations:
    """Saved and running bytes per token of one decoder layer under `setup`."""
    full = setup.method == "full"
    hidden, fp32_scales = shape.hidden_size, shape.norm_scales_in_fp32
    norms = (4 if shape.sandwich_norms else 2) * _norm(hidden, 1, compute, full, fp32_scales)
    if full:
        norms += 2 * compute * hidden  # the q/k/v and gate/up inputs, kept for their weights' gradients
    if shape.qk_norm:
        q_width = shape.num_attention_heads * shape.head_dim
        kv_width = shape.num_key_value_heads * shape.head_dim
        norms += _norm(q_width, shape.num_attention_heads, compute, full, fp32_scales)
        norms += _norm(kv_width, shape.num_key_value_heads, compute, full, fp32_scales)
    saved = norms + _attention(shape, setup, compute, stream, full) + _mlp(shape, compute, stream, full)
    masked, mask = _mask_bytes(shape, setup, compute)
    # The normalized value and the squares in fp32 while an RMSNorm runs, and the residual's gradients.
    running = 2 * FP32 * hidden + 2 * stream * hidden
    first_layer_saving = 0.0
    if not full:
        dropout_mask = 1 if setup.lora_dropout > 0 else 0  # a byte per value (CUDA's fused dropout)
        for spec, copies in _per_layer(targets, shape.num_layers):
            saved += copies * ((dropout_mask + compute) * spec.in_features + compute * setup.lora_r)
            running = max(running, _lora_running(spec, setup, compute, stream) + 2 * stream * hidden)
            if spec.name in ATTENTION_INPUTS:
                first_layer_saving += copies * dropout_mask * spec.in_features
        running = max(running, _mlp_backward(shape, setup, targets, compute, stream, dropout_mask))
        first_layer_saving += FP32 * hidden + RMS_PER_ROW
    return LayerActivations(
        saved=saved + masked * shape.sliding_window_layers / shape.num_layers,
        saved_max=saved + masked,
        running=running,
        first_layer_saving=first_layer_saving,
        mask=mask,
    )


def _mlp_backward(
    shape: ModelShape, setup: TrainingSetup, targets: list[LinearSpec], compute: int, stream: int, dropout_mask: int
) -> float:
    """The backward of act(gate) * up: the product's gradient and the two gradients it makes, in the
    stream's dtype, on top of what the layer saved, less what a LoRA on down_proj saved (its backward
    has run and freed it by then)."""
    widest = max(shape.intermediate_size, shape.shared_expert_intermediate_size)
    down_saved = sum(
        copies * ((dropout_mask + compute) * spec.in_features + compute * setup.lora_r)
        for spec, copies in _per_layer(targets, shape.num_layers)
        if spec.name == "down_proj"
    )
    return 3 * stream * widest - down_saved


def _lora_running(spec: LinearSpec, setup: TrainingSetup, compute: int, stream: int) -> float:
    """PEFT's LoRA path: the input cast to the adapter's fp32, dropout's fp32 output, and the base
    layer's output (in the input's dtype) waiting for the adapter's to be added; down_proj's input (the
    MLP product) is alive then too, as nothing else keeps it."""
    width = spec.in_features
    input_dtype = compute if spec.name == "o_proj" else stream
    held = input_dtype * width if spec.name.endswith("down_proj") else 0
    cast = FP32 * width if input_dtype != FP32 else 0
    dropout = FP32 * width if setup.lora_dropout > 0 else 0
    return held + cast + dropout + input_dtype * spec.out_features


def head_saved(shape: ModelShape, setup: TrainingSetup, compute: int) -> float:
    """Bytes per token the final norm keeps, and the LM head's input when the head trains."""
    full = setup.method == "full"
    saved = _norm(shape.hidden_size, 1, compute, full, shape.norm_scales_in_fp32)
    return saved + (compute * shape.hidden_size if full else 0)


def logits_bytes(shape: ModelShape, setup: TrainingSetup, compute: int) -> tuple[float, float]:
    """Bytes per token over the vocabulary (forward peak, start of backward) for the HF loss.

    Forward: the logits, their fp32 upcast inside the loss (or accelerate's fp32 copy of the output),
    and log-softmax kept for backward. Backward: log-softmax, the loss's gradient and log-softmax's
    gradient, all fp32 (12 bytes). Gemma 2's soft-capping keeps tanh's output on top.
    """
    vocab = shape.vocab_size
    forward = compute + FP32 + (FP32 if compute != FP32 else 0)
    backward = 3 * FP32
    if shape.logit_softcapping:
        forward += compute
        backward += compute
    return forward * vocab, backward * vocab
