"""Activation bytes per token for the closed form: what one decoder layer keeps for backward, what it
holds on top while it runs, and the logits and loss over the vocabulary.

Each term names the tensor transformers 5 + PEFT keep (checked op by op against `tuiapp.training.memory_sim`).
Two facts decide most of them: autograd saves a tensor only for a gradient someone needs (a frozen
linear layer never saves its input), and in QLoRA `prepare_model_for_kbit_training` leaves the residual
stream in fp32, so everything around the quantized layers is fp32 too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tuiapp.core.estimate.backend_choices import resolve

if TYPE_CHECKING:
    from tuiapp.core.estimate.closed_form import TrainingSetup
    from tuiapp.core.models.shape import LinearSpec, ModelShape

FP32 = 4
# TRL 1.16 (trl/kernels/chunked_logprob.py TOKEN_CHUNK_SIZE, trl/trainer/utils.py _CHUNKED_LOGPROB_CHUNK_SIZE)
TRL_TOKEN_TILE = 4096
TRL_VOCAB_TILE = 32768
TRL_ROW_STATE = 37  # per labelled row in the fused forward: bool mask, int64 target, seven fp32 statistics
TRL_ROW_OUTPUTS = 15  # then log_z, log-probabilities, entropy (fp32) and three bool top-1 flags
TRL_ROW_BACKWARD = 25  # saved int64 target, fp32 log_z and entropy; the mask and two fp32 gradients
# Unsloth 2026.10 (unsloth_zoo/fused_losses/fused_linear.py module constants)
UNSLOTH_SPLIT_COLS = 16384  # _SPLIT_COLS
UNSLOTH_BWD_ROWS = 4096  # _BWD_ROWS (and _MAX_ROWS)
UNSLOTH_FLASH_MIN_ROWS = 4096  # _flash_min_rows_auto on a card over 24.5 GiB (0 below: we take the larger)
UNSLOTH_MIN_LOGITS = 512 * 151936  # _MIN_LOGITS
UNSLOTH_CHUNK_BYTES = 2 * 2**30  # _budget_bytes: UNSLOTH_LOGPROB_CHUNK_GB=2
FP32_ROW_INDEX = 12  # kept-row index (int64) and the fp32 log-probability of each labelled row
RMS_PER_ROW = 4  # the fp32 1/rms of each normalized row, saved by every RMSNorm
ATTENTION_INPUTS = {"q_proj", "k_proj", "v_proj", "qkv_proj"}  # fed by the layer's input norm


@dataclass(frozen=True)
class LossBytes:
    """Bytes the loss over the vocabulary holds on top of the saved activations, per phase."""

    forward: float
    """At the busiest moment of the loss's forward."""
    backward: float
    """At the busiest moment of its backward (the LM head's input gradient made)."""
    head_backward: float
    """The same when the LM head trains (full fine-tuning), without the head's gradient itself."""


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
        first_layer_saving += FP32 * hidden + RMS_PER_ROW
        first_layer_saving += _untrained_first_attention(shape, setup, targets, compute, stream, dropout_mask)
    running = max(running, _mlp_backward(shape, setup, targets, compute, stream, dropout_mask if not full else 0))
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
    stream's dtype, on top of what the layer saved, less what down_proj saved (its backward has run and
    freed it by then): a LoRA's input on down_proj, or in full fine-tuning the product itself, which
    nn.Linear keeps for the weight's gradient (`_mlp` counts it). With sandwich norms (Gemma 2/3) the
    post-feedforward norm's backward has run before the MLP's and freed what it saved."""
    widest = max(shape.intermediate_size, shape.shared_expert_intermediate_size)
    full = setup.method == "full"
    post_norm = _norm(shape.hidden_size, 1, compute, full, shape.norm_scales_in_fp32) if shape.sandwich_norms else 0
    if full:
        return 3 * stream * widest - compute * widest - post_norm
    down_saved = sum(
        copies * ((dropout_mask + compute) * spec.in_features + compute * setup.lora_r)
        for spec, copies in _per_layer(targets, shape.num_layers)
        if spec.name == "down_proj"
    )
    return 3 * stream * widest - down_saved - post_norm


def _untrained_first_attention(
    shape: ModelShape, setup: TrainingSetup, targets: list[LinearSpec], compute: int, stream: int, dropout_mask: int
) -> float:
    """What the first layer's attention does not keep when no adapter sits before SDPA (q, k, v or qkv_proj:
    LoRA on q,k,v,o of a fused-qkv model such as Phi-3 wraps only o_proj, as PEFT matches module names):
    nothing upstream of o_proj needs a gradient there, so the projections, the rotary embedding and SDPA
    save nothing (`_attention`'s whole term), and o_proj's dropout keeps no mask (its input needs none)."""
    if any(spec.name in ATTENTION_INPUTS for spec in targets):
        return 0.0
    o_proj = sum(
        copies * spec.in_features for spec, copies in _per_layer(targets, shape.num_layers) if spec.name == "o_proj"
    )
    return _attention(shape, setup, compute, stream, False) + dropout_mask * o_proj


def _lora_running(spec: LinearSpec, setup: TrainingSetup, compute: int, stream: int) -> float:
    """PEFT's LoRA path: the input cast to the adapter's dtype, dropout's output in that dtype, and the base
    layer's output (in the input's dtype) waiting for the adapter's to be added; down_proj's input (the
    MLP product) is alive then too, as nothing else keeps it. PEFT's bitsandbytes layers skip the cast
    under autocast (peft/tuners/lora/bnb.py: requires_conversion), so there dropout runs in the input's dtype."""
    width = spec.in_features
    input_dtype = compute if spec.name == "o_proj" else stream
    held = input_dtype * width if spec.name.endswith("down_proj") else 0
    adapter = {"fp32": FP32, "bf16": 2, "fp16": 2}[resolve(setup).adapter_dtype]  # param_ledger's adapter dtype
    quantized_under_autocast = setup.method in ("qlora", "lora8") and compute != FP32
    lora_input = input_dtype if quantized_under_autocast else adapter
    cast = lora_input * width if lora_input != input_dtype else 0
    dropout = lora_input * width if setup.lora_dropout > 0 else 0
    return held + cast + dropout + input_dtype * spec.out_features


def head_saved(shape: ModelShape, setup: TrainingSetup, compute: int, stream: int, loss_path: str) -> float:
    """Bytes per token the final norm keeps, and what the loss keeps of its input until backward.

    full_logits: the LM head's input when the head trains (nn.Linear saves it for the weight's gradient).
    chunked, TRL: `ChunkedLogProbFunction.forward` (trl/kernels/chunked_logprob.py) saves the gathered
    hidden rows for every method (a copy, in the stream's dtype). chunked, Unsloth: the fused CE op takes
    the gradient in its forward (unsloth_zoo/fused_losses/fused_linear.py `_ce_impl`) and saves only that
    gradient, (rows, hidden) in the hidden states' dtype (`_ce_setup`)."""
    full = setup.method == "full"
    saved = _norm(shape.hidden_size, 1, compute, full, shape.norm_scales_in_fp32)
    if loss_path == "chunked":
        return saved + stream * shape.hidden_size
    return saved + (compute * shape.hidden_size if full else 0)


def logits_bytes(
    shape: ModelShape, setup: TrainingSetup, compute: int, stream: int, head: int, loss_path: str
) -> LossBytes:
    """Bytes over the vocabulary for the loss path (`head`: bytes per value of the LM head's weight)."""
    if loss_path != "chunked":
        return _full_logits(shape, setup, compute)
    if setup.framework == "unsloth":
        return _unsloth_fused_ce(shape, setup, stream, head)
    return _trl_fused_head(shape, setup, compute, stream, head)


def _full_logits(shape: ModelShape, setup: TrainingSetup, compute: int) -> LossBytes:
    """transformers' loss on the whole logits.

    Forward: the logits, their fp32 upcast inside the loss (or accelerate's fp32 copy of the output),
    and log-softmax kept for backward. Backward: log-softmax, the loss's gradient and log-softmax's
    gradient, all fp32 (12 bytes). Gemma 2's soft-capping keeps tanh's output on top. The LM head's own
    backward holds the logits' gradient in the compute dtype.
    """
    vocab, tokens = shape.vocab_size, setup.tokens
    forward = compute + FP32 + (FP32 if compute != FP32 else 0)
    backward = 3 * FP32
    if shape.logit_softcapping:
        forward += compute
        backward += compute
    return LossBytes(forward * vocab * tokens, backward * vocab * tokens, compute * vocab * tokens)


def _trl_fused_head(shape: ModelShape, setup: TrainingSetup, compute: int, stream: int, head: int) -> LossBytes:
    """TRL 1.16's fused LM head (trl/trainer/utils.py `add_fused_lm_head`, trl/kernels/chunked_logprob.py
    `ChunkedLogProbFunction`), on CUDA: the rows with a label (all, at worst: seq_len - 1 per sequence) go
    through the head in tiles of 4096 rows x 32768 vocabulary columns, one compute-dtype tile buffer
    reused for all; Triton folds each tile into running fp32 statistics, so no (rows, vocab) tensor
    exists. The hidden rows are saved (see `head_saved`); backward recomputes each tile, turns it into the
    logits' gradient in place and accumulates the hidden (and, when the head trains, weight) gradients in
    fp32, cast to their dtypes at the end.
    """
    hidden, vocab = shape.hidden_size, shape.vocab_size
    rows = setup.micro_batch * (setup.seq_len - 1)
    tile_rows = min(rows, TRL_TOKEN_TILE)
    tile = tile_rows * TRL_VOCAB_TILE * compute  # mm_buf: full width even for a smaller vocabulary
    hidden_cast = tile_rows * hidden * compute if stream != compute else 0  # hidden_chunk.to(compute_dtype)
    weight_cast = min(vocab, TRL_VOCAB_TILE) * hidden * compute if head != compute else 0  # weight tile .to()
    last_hidden = setup.tokens * hidden * stream  # the backbone's output, alive while the head runs
    # A loop variable holds its old value while the next is made: two casts of a hidden (row tile) or of a
    # weight (vocabulary tile, in backward) meet at each step of their loop.
    hidden_pair = hidden_cast * (2 if rows > TRL_TOKEN_TILE else 1)
    weight_pair = weight_cast * (2 if vocab > TRL_VOCAB_TILE else 1)
    # Forward: the labels' mask and targets (9 bytes a row), seven fp32 running statistics, then log_z,
    # the log-probabilities, the entropy and the top-1 flags SFTTrainer asks for.
    folding = TRL_ROW_STATE * rows + max(hidden_cast + weight_cast, hidden_pair)
    finishing = (TRL_ROW_STATE + TRL_ROW_OUTPUTS) * rows + hidden_cast
    forward = last_hidden + tile + max(folding, finishing)
    # Backward: saved targets, log_z and entropy (16 bytes a row), the log-probabilities' gradient chain
    # and the mask (9), the fp32 hidden gradient, and at the end its cast to the stream's dtype.
    hidden_grad = FP32 * rows * hidden
    in_loop = max(hidden_pair + weight_cast, hidden_cast + weight_pair)
    at_end = hidden_cast + weight_cast + (stream * rows * hidden if stream != FP32 else 0)
    backward = TRL_ROW_BACKWARD * rows + tile + hidden_grad + max(in_loop, at_end)
    # A trained head: its fp32 gradient accumulator (the cast to the weight's dtype is the gradient itself).
    head_backward = backward + (FP32 * vocab * hidden if setup.method == "full" else 0)
    return LossBytes(forward, backward, head_backward)


def _unsloth_fused_ce(shape: ModelShape, setup: TrainingSetup, stream: int, head: int) -> LossBytes:
    """Unsloth 2026.10's fused linear cross-entropy on CUDA (unsloth/models/llama.py
    `_CausalLM_fast_forward` → unsloth_zoo/fused_losses/cross_entropy_loss.py `unsloth_fused_ce_loss` →
    chunked_logprob.py `unsloth_chunked_ce_loss` → fused_linear.py `fused_linear_cross_entropy`/`_ce_impl`).

    It takes the gradient in the forward: a (rows, hidden) gradient in the hidden states' dtype (every
    position, labels shifted with a pad) is filled chunk by chunk and saved; backward scales it into a
    second one. A frozen head on a vocabulary over 32k with at least 4096 labelled rows takes the tiled
    "flash" path (`_tiled_forward`, `_tiled_layout`: 4096 rows x 16384 fp32 columns, 256 MiB, plus an
    fp32 (4096, hidden) accumulator); otherwise one (R, vocab) fp32 logits buffer with R from
    `fused_linear_rows` (a power of two near rows x hidden / vocab, 512..4096, under 2 GiB). A trained
    head accumulates its gradient in the weight's dtype.
    """
    hidden, vocab = shape.hidden_size, shape.vocab_size
    rows = setup.tokens
    labelled = setup.micro_batch * (setup.seq_len - 1)
    grad_hidden = rows * hidden * stream
    full = setup.method == "full"
    if not full and vocab > 2 * UNSLOTH_SPLIT_COLS and labelled >= UNSLOTH_FLASH_MIN_ROWS:
        tile_rows = min(UNSLOTH_BWD_ROWS, labelled)
        buffer = tile_rows * UNSLOTH_SPLIT_COLS * FP32 + tile_rows * hidden * FP32
    else:
        buffer = _unsloth_rows(labelled, hidden, vocab) * (-(-vocab // 8) * 8) * FP32
    head_grad = vocab * hidden * head if full else 0
    forward = buffer + head_grad + FP32_ROW_INDEX * labelled
    # The saved gradient is counted with the head (`head_saved`); backward scales it into a new one.
    backward = grad_hidden + head_grad
    return LossBytes(forward, backward, backward)


def _unsloth_rows(rows: int, hidden: int, vocab: int) -> int:
    """unsloth_zoo/fused_losses/fused_linear.py `fused_linear_rows` with its default knobs."""

    def pow2_at_most(x: float) -> int:
        p = 1 << max(math.ceil(math.log2(max(x, 1))), 0)
        return p // 2 if p > x else p

    wanted = pow2_at_most(rows * hidden / max(vocab, 1))
    floor = min(max(pow2_at_most(UNSLOTH_MIN_LOGITS / max(vocab, 1)), 512), UNSLOTH_BWD_ROWS)
    chosen = min(max(wanted, floor), UNSLOTH_BWD_ROWS)
    chosen = min(chosen, max(UNSLOTH_CHUNK_BYTES // (vocab * FP32), 2))
    return max(min(chosen, max(rows, 1)), 1)
