"""Closed-form peak training memory, term by term, in pure Python (well under 5 ms per estimate).

The model follows what transformers + PEFT + TRL actually allocate on the GPU in a steady-state step
(after the first optimizer step, so gradients and optimizer states already exist):

    peak = weights + adapters + gradients + optimizer states + max(phase)
    phases: end of forward / start of backward (saved activations + logits and loss over the vocab),
            the recompute of one layer under gradient checkpointing, the optimizer step's transient.

Each number is per token unless said otherwise; T = micro_batch x seq_len. `tuiapp.training.memory_sim`
checks these terms against a simulated real step; the README's design notes list the sources.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from tuiapp.core.estimate.activation_bytes import head_saved, layer_activations, logits_bytes
from tuiapp.core.estimate.backend_choices import resolve as resolve_choices
from tuiapp.core.estimate.optimizer_bytes import optimizer_state_bytes
from tuiapp.core.estimate.param_ledger import (
    BLOCK_4BIT,
    ParamLedger,
    lora_targets,
    on_stored_weights,
    param_ledger,
)
from tuiapp.core.estimate.reserved import CUDA_CONTEXT_BYTES as CUDA_CONTEXT_BYTES  # nvidia-smi adds it
from tuiapp.core.estimate.reserved import library_workspace_sizes, nvidia_smi_bytes
from tuiapp.core.units import GIB

if TYPE_CHECKING:
    from tuiapp.core.models.shape import ModelShape

DTYPE_BYTES = {"bf16": 2, "fp16": 2, "fp32": 4}
FP32_BYTES = DTYPE_BYTES["fp32"]
ALLOCATOR_OVERHEAD = {True: 0.03, False: 0.13}
"""Share of the allocated peak that PyTorch's caching allocator holds on top of it, in holes between freed
blocks that later, larger requests cannot use, with expandable segments on (our worker) and off. Fitted to the
exact check's replay through the allocator model (reserved.py) at full size. On: over 0.5B-70B x
full/LoRA/QLoRA x 512-8192 tokens x micro-batch 1-8 x checkpointing (`benchmarks/estimate_grid.py --quick`,
82 setups, 2026-12-02) the replay holds 0-7.1% over the allocated peak (median 2.6% with checkpointing, 0.9%
without), so 3% keeps the reserved figure within -4%/+3% of the replay where the allocated one is exact (an
earlier 8% overstated it by a median 6.5%). Off: within 12.6% over 0.5B-9B, and deep models fragment more than
the fit says (Mistral-7B QLoRA 4x4096: replay +29%, this 13%)."""
FIT_MARGIN = 0.05  # a plan fits when nvidia-smi's figure stays this share below the free memory


def reserved_bytes(alloc_bytes: int, expandable_segments: bool = True) -> int:
    """torch.cuda.max_memory_reserved for a peak of `alloc_bytes` allocated: the allocator's overhead and
    the BLAS workspaces, which go through it (reserved.py)."""
    return int(alloc_bytes * (1 + ALLOCATOR_OVERHEAD[expandable_segments])) + sum(library_workspace_sizes())


def fits_in(nvidia_smi: int, free_bytes: int, margin: float = FIT_MARGIN) -> bool:
    """Whether nvidia-smi's figure stays under the free memory less a safety margin."""
    return nvidia_smi <= free_bytes * (1 - margin)


Method = Literal["full", "lora", "qlora", "lora8"]


@dataclass(frozen=True)
class TrainingSetup:
    """Everything the estimate depends on besides the model's shape."""

    method: Method = "lora"
    seq_len: int = 2048
    micro_batch: int = 1
    gradient_checkpointing: bool = True
    optimizer: str = "adamw_torch"
    precision: Literal["bf16", "fp16", "fp32"] = "bf16"
    lora_r: int = 16
    lora_targets: tuple[str, ...] | Literal["all-linear"] = "all-linear"
    lora_dropout: float = 0.05
    attn_implementation: str = "sdpa"
    double_quant: bool = True
    framework: Literal["hf", "unsloth"] = "hf"
    # How the stack trains; None means "what our backend for `framework` does" (backend_choices.resolve).
    loss_path: Literal["chunked", "full_logits"] | None = None
    kbit_upcast: bool | None = None
    adapter_dtype: Literal["fp32", "bf16", "fp16"] | None = None
    expandable_segments: bool = True  # PyTorch's allocator setting; our worker turns it on (core/child_env.py)

    @property
    def tokens(self) -> int:
        return self.seq_len * self.micro_batch


@dataclass(frozen=True)
class MemoryEstimate:
    """The peak, where it happens, and every term that makes it up (bytes)."""

    static: dict[str, int]
    """Held through the whole step: weights, adapters, optimizer states."""
    phases: dict[str, dict[str, int]]
    """Each phase of the step, by the terms it holds on top of the static ones."""
    peak_phase: str
    trainable_params: int
    total_params: int
    notes: tuple[str, ...] = field(default=())
    expandable_segments: bool = True
    """The allocator setting the reserved figure assumes (TrainingSetup.expandable_segments)."""

    def phase_bytes(self, name: str) -> int:
        return sum(self.phases[name].values())

    @property
    def peak_alloc_bytes(self) -> int:
        """What torch.cuda.max_memory_allocated would report."""
        return sum(self.static.values()) + self.phase_bytes(self.peak_phase)

    @property
    def peak_reserved_bytes(self) -> int:
        """What torch.cuda.max_memory_reserved would report: the caching allocator's segments at the peak."""
        return reserved_bytes(self.peak_alloc_bytes, self.expandable_segments)

    @property
    def nvidia_smi_bytes(self) -> int:
        """What nvidia-smi would show: reserved plus the CUDA context. The figure that decides an OOM."""
        return nvidia_smi_bytes(self.peak_reserved_bytes)

    def fits(self, free_bytes: int, margin: float = FIT_MARGIN) -> bool:
        """Fits when the nvidia-smi figure stays under the free memory less a safety margin."""
        return fits_in(self.nvidia_smi_bytes, free_bytes, margin)

    def breakdown(self) -> dict[str, int]:
        """Static terms plus the peak phase's terms, for tables and JSON."""
        parts = {name: value for name, value in self.phases[self.peak_phase].items() if value}
        return {**self.static, **parts}


def _dequantized_weight_bytes(shape: ModelShape, setup: TrainingSetup, ledger: ParamLedger) -> int:
    """The biggest quantized weight made whole for a matmul: 16-bit plus fp32 block scales (4-bit, on
    the way in and out; other stored formats dequantize the same way), or fp32 in LLM.int8()'s backward."""
    if ledger.quantized is None:
        return 0
    biggest = max((s.in_features * s.out_features for s in shape.linear_layers() if s.kind == "linear"), default=0)
    if ledger.quantized == "int8":
        return 4 * biggest
    double = shape.stored_quantization.double_quant if shape.stored_quantization else setup.double_quant
    scales = 4 * biggest // BLOCK_4BIT if ledger.quantized == "nf4" and double else 0
    return biggest * DTYPE_BYTES[setup.precision] + scales


def _larger(*candidates: dict[str, float]) -> dict[str, float]:
    return max(candidates, key=lambda parts: sum(parts.values()))


def estimate_memory(shape: ModelShape, setup: TrainingSetup) -> MemoryEstimate:
    """The closed-form peak for one steady-state training step of `shape` under `setup`."""
    notes: list[str] = []
    stored = shape.stored_quantization
    if stored is not None and setup.method != on_stored_weights(shape, setup).method:
        adapted = on_stored_weights(shape, setup)
        notes.append(
            f"{shape.name} is stored as {stored.description}: {setup.method} would need its 16-bit weights, so "
            f"this is {adapted.method} on the stored weights"
        )
        setup = adapted
    compute = DTYPE_BYTES[setup.precision]
    ledger = param_ledger(shape, setup)  # every parameter's dtype, as the backend holds it
    quantized = ledger.quantized is not None
    full = setup.method == "full"
    targets = lora_targets(shape, setup)
    rest_bytes, param_bytes = DTYPE_BYTES[ledger.rest_dtype], DTYPE_BYTES[ledger.trained_dtype]
    trainable = ledger.trainable_params
    static = {"weights": ledger.weights_bytes}
    if not full:
        static["adapters"] = ledger.adapter_bytes
    static["optimizer states"], paged = optimizer_state_bytes(shape, setup, targets, trainable, param_bytes)
    if paged:
        notes.append(
            f"{paged / GIB:.1f} GiB of paged optimizer states sit in CUDA managed memory, outside this peak: "
            "they move to CPU memory when the GPU runs short"
        )

    tokens, hidden, layers = setup.tokens, shape.hidden_size, shape.num_layers
    unsloth, checkpointing = setup.framework == "unsloth", setup.gradient_checkpointing
    stream = rest_bytes if quantized else compute  # the residual stream's dtype
    layer = layer_activations(shape, setup, targets, compute, stream)
    if checkpointing:  # each layer's input, and the mask
        # Unsloth's "unsloth" checkpointing (unsloth_zoo/gradient_checkpointing.py UnslothCheckpointFunction)
        # offloads every layer input to CPU but the last one's, through one GPU staging buffer of that size.
        inputs = min(layers, 2) if unsloth else layers
        kept = inputs * stream * hidden * tokens + layer.mask * tokens
    else:
        kept = (layers * layer.saved - layer.first_layer_saving) * tokens
    # Under 16-bit autocast, adapters (or a full fine-tune's fp32 master weights) in another dtype, and a
    # kbit-prepared model's fp32 LM head, are cast to the compute dtype for their matmuls; autograd keeps
    # the casts. Adapters already in the compute dtype (TRL's bf16 QLoRA adapters) need none.
    autocast = compute != FP32_BYTES
    cast_values = trainable if not full else sum(s.params for s in shape.linear_layers()) + shape.lm_head_params
    casts = compute * cast_values if autocast and ledger.trained_dtype != setup.precision else 0
    loss_path = resolve_choices(setup).loss_path  # a fused, chunked loss casts only a tile of the head at a time
    head_cast = compute * shape.vocab_size * hidden if autocast and not full and rest_bytes != compute else 0
    head_cast = head_cast if loss_path == "full_logits" else 0
    head = head_saved(shape, setup, compute, stream, loss_path) * tokens + head_cast
    loss = logits_bytes(shape, setup, compute, stream, param_bytes if full else rest_bytes, loss_path)
    logits_fwd, logits_bwd = loss.forward, loss.backward
    if unsloth and loss_path == "chunked":
        notes.append("Unsloth's fused cross-entropy never holds the full logits")

    gradients = ledger.trainable_bytes
    head_grad = param_bytes * shape.vocab_size * hidden if full else 0  # made first, by the LM head's backward
    embedding_grad = head_grad if full and not shape.tie_word_embeddings else 0  # made last
    layer_grads = gradients - head_grad - embedding_grad
    dequantized = _dequantized_weight_bytes(shape, setup, ledger)
    running = layer.running * tokens + dequantized
    phases: dict[str, dict[str, float]] = {
        "forward / loss": {
            "activations": kept + head + (0 if checkpointing else layer.mask * tokens),
            "adapter casts": casts,
            "logits and loss": logits_fwd,
        },
        "start of backward": {
            "activations": kept + head,
            "adapter casts": 0 if checkpointing else casts,
            "logits and loss": logits_bwd,
        },
    }
    if full:
        phases["LM head backward"] = {
            "activations": kept + head,
            "logits and loss": loss.head_backward,
            "gradients": head_grad,
        }
    if checkpointing:  # one layer recomputed: its saved activations come back
        # In an fp32 stream the input norm's fp32 input is the layer's input, which the checkpoint keeps.
        shared_input = FP32_BYTES * hidden if stream == FP32_BYTES else 0
        busy = (layer.saved_max - shared_input) * tokens + running
        last, first = kept, (stream * hidden + layer.mask) * tokens
        casts_now = casts / layers
    else:
        phases["forward through layers"] = {"activations": kept + running + layer.mask * tokens, "adapter casts": casts}
        busy, last, first, casts_now = running, kept, layer.saved * tokens, casts
    # A full fine-tune's busiest moment in a layer's backward is its MLP's (activation_bytes._mlp_backward):
    # of that layer's gradients only down_proj's exists yet, the later layers' all do.
    made = layer_grads / layers
    down = sum(spec.params for spec in shape.linear_layers() if spec.name == "down_proj") / layers
    in_layer = param_bytes * down if full and down else made
    phases["backward through layers"] = _larger(
        {"activations": last + busy, "adapter casts": casts_now, "gradients": head_grad + in_layer},
        {
            "activations": first + busy,
            "adapter casts": casts_now / layers,
            "gradients": head_grad + layer_grads - made + in_layer,
        },
    )
    if full and shape.tie_word_embeddings:  # the embedding's gradient is added to the LM head's, out of place
        phases["end of backward"] = {"gradients": gradients, "tied embedding gradient sum": 2 * head_grad}
    phases["optimizer step"] = {"gradients": gradients}
    if setup.optimizer in ("adamw_torch", "adamw_torch_fused"):
        phases["optimizer step"]["optimizer temporaries"] = ledger.trainable_bytes  # foreach sqrt(exp_avg_sq)
    whole = {name: {part: int(value) for part, value in parts.items()} for name, parts in phases.items()}
    peak_phase = max(whole, key=lambda name: sum(whole[name].values()))
    return MemoryEstimate(
        static=static,
        phases=whole,
        peak_phase=peak_phase,
        trainable_params=trainable,
        total_params=shape.total_params,
        notes=tuple(notes),
        expandable_segments=setup.expandable_segments,
    )
