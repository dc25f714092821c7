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

from tuiapp.core.units import GIB

if TYPE_CHECKING:
    from tuiapp.core.models.shape import LinearSpec, ModelShape

DTYPE_BYTES = {"bf16": 2, "fp16": 2, "fp32": 4}
NF4_BYTES_PER_VALUE = 0.5  # two 4-bit values per byte
BLOCK_4BIT = 64  # values per absmax block in bitsandbytes' 4-bit quantization
DOUBLE_QUANT_BLOCK = 256  # absmax values per second-level fp32 scale with double quantization
BLOCK_8BIT_OPTIM = 256  # values per fp32 absmax in bitsandbytes' blockwise 8-bit optimizer states
CUDA_CONTEXT_BYTES = int(0.5 * GIB)  # CUDA context + cuBLAS workspace, as nvidia-smi counts them
ALLOCATOR_OVERHEAD = 0.06  # caching-allocator fragmentation: reserved vs allocated at the peak

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

    @property
    def tokens(self) -> int:
        return self.seq_len * self.micro_batch


@dataclass(frozen=True)
class MemoryEstimate:
    """The peak, where it happens, and every term that makes it up (bytes)."""

    static: dict[str, int]
    phases: dict[str, int]
    peak_phase: str
    trainable_params: int
    total_params: int
    notes: tuple[str, ...] = field(default=())

    @property
    def peak_alloc_bytes(self) -> int:
        """What torch.cuda.max_memory_allocated would report."""
        return sum(self.static.values()) + self.phases[self.peak_phase]

    @property
    def peak_reserved_bytes(self) -> int:
        """What nvidia-smi would show: allocator overhead plus the CUDA context."""
        return int(self.peak_alloc_bytes * (1 + ALLOCATOR_OVERHEAD)) + CUDA_CONTEXT_BYTES

    def fits(self, free_bytes: int, margin: float = 0.05) -> bool:
        """Fits when the nvidia-smi figure stays under the free memory less a safety margin."""
        return self.peak_reserved_bytes <= free_bytes * (1 - margin)

    def breakdown(self) -> dict[str, int]:
        """Static terms plus the peak phase's terms, for tables and JSON."""
        return {**self.static, f"peak phase: {self.peak_phase}": self.phases[self.peak_phase]}


def _targets(shape: ModelShape, setup: TrainingSetup) -> list[LinearSpec]:
    layers = [spec for spec in shape.linear_layers() if spec.kind == "linear"]  # PEFT wraps nn.Linear only
    if setup.lora_targets == "all-linear":
        return list(layers)
    wanted = set(setup.lora_targets)
    return [spec for spec in layers if spec.name in wanted]


def _weights(shape: ModelShape, setup: TrainingSetup) -> tuple[int, int]:
    """(bytes of the base weights, bytes per value of the non-quantized rest)."""
    compute = DTYPE_BYTES[setup.precision]
    if setup.method in ("full", "lora"):
        return shape.total_params * compute, compute
    # bitsandbytes replaces nn.Linear only: fused MoE experts and routers stay unquantized.
    linear_values = sum(s.in_features * s.out_features * s.count for s in shape.linear_layers() if s.kind == "linear")
    if setup.method == "qlora":
        per_value = NF4_BYTES_PER_VALUE + (
            1 / BLOCK_4BIT + 4 / (BLOCK_4BIT * DOUBLE_QUANT_BLOCK) if setup.double_quant else 4 / BLOCK_4BIT
        )
        quantized = int(linear_values * per_value)
    else:  # lora8: int8 weights plus one fp32 scale per output row
        quantized = linear_values + sum(
            4 * s.out_features * s.count for s in shape.linear_layers() if s.kind == "linear"
        )
    # prepare_model_for_kbit_training (TRL applies it) upcasts everything not quantized to fp32;
    # Unsloth keeps it in the compute dtype.
    rest_bytes = compute if setup.framework == "unsloth" else 4
    return quantized + (shape.total_params - linear_values) * rest_bytes, rest_bytes


def _optimizer_state_bytes(setup: TrainingSetup, trainable: int, param_bytes: int) -> int:
    if setup.optimizer in ("adamw_8bit", "paged_adamw_8bit"):
        return 2 * trainable + 2 * 4 * trainable // BLOCK_8BIT_OPTIM
    if setup.optimizer == "sgd":
        return 0
    if setup.optimizer == "adafactor":
        return 4 * trainable // 64  # factored second moments: rows + columns, not rows x columns
    return 2 * trainable * param_bytes


def _layer_activation_bytes(shape: ModelShape, setup: TrainingSetup, stream: int, targets: list) -> float:
    """Bytes per token that one decoder layer saves for backward (no checkpointing)."""
    compute = DTYPE_BYTES[setup.precision]
    hidden, heads, kv = shape.hidden_size, shape.num_attention_heads, shape.num_key_value_heads
    q_width, kv_width = heads * shape.head_dim, kv * shape.head_dim
    # RMSNorm: an fp32 copy of its input, the normalized value, and its output (read by the projections).
    norms = 2 * (4 * hidden + stream * hidden + compute * hidden)
    # q, k, v outputs, their rotary versions, attention output and its contiguous copy for o_proj.
    attention = compute * (2 * q_width + 2 * 2 * kv_width + 2 * q_width) + 4 * heads
    if setup.attn_implementation == "eager":  # fp32 softmax and its bf16 copy, per key position
        attention += (4 + compute) * heads * setup.seq_len
    if shape.num_experts:
        active = shape.num_experts_per_tok * shape.moe_intermediate_size + shape.shared_expert_intermediate_size
        mlp = 4 * compute * active + 4 * shape.num_experts
    else:
        mlp = 4 * compute * shape.intermediate_size  # gate, up, act(gate), act(gate) * up
    lora = 0.0
    if setup.method != "full":
        per_layer = [spec for spec in targets if spec.count % shape.num_layers == 0]
        for spec in per_layer:
            copies = spec.count // shape.num_layers
            dropout_mask = spec.in_features if setup.lora_dropout > 0 else 0
            lora += copies * (4 * spec.in_features + dropout_mask + 4 * setup.lora_r)
    return norms + attention + mlp + lora


def estimate_memory(shape: ModelShape, setup: TrainingSetup) -> MemoryEstimate:
    """The closed-form peak for one steady-state training step of `shape` under `setup`."""
    notes: list[str] = []
    compute = DTYPE_BYTES[setup.precision]
    targets = _targets(shape, setup)
    weights, rest_bytes = _weights(shape, setup)
    if setup.method == "full":
        trainable, param_bytes = shape.total_params, compute
        static = {"weights": weights}
    else:
        trainable = sum(setup.lora_r * (s.in_features + s.out_features) * s.count for s in targets)
        param_bytes = 4  # PEFT keeps adapter weights in fp32 (autocast_adapter_dtype)
        static = {"weights": weights, "adapters": trainable * param_bytes}
    static["gradients"] = trainable * param_bytes
    static["optimizer states"] = _optimizer_state_bytes(setup, trainable, param_bytes)
    if setup.optimizer == "paged_adamw_8bit":
        notes.append("paged optimizer states can spill to CPU memory under pressure")

    tokens = setup.tokens
    stream = rest_bytes if setup.method in ("qlora", "lora8") else compute  # residual stream dtype
    hidden, vocab, layers = shape.hidden_size, shape.vocab_size, shape.num_layers
    per_layer = _layer_activation_bytes(shape, setup, stream, targets)
    offloaded = setup.framework == "unsloth" and setup.gradient_checkpointing
    if setup.gradient_checkpointing:
        saved = 0 if offloaded else layers * stream * hidden * tokens  # each layer's input
        recompute = per_layer * tokens + 2 * stream * hidden * tokens
    else:
        saved, recompute = int(per_layer * tokens * layers), 0
    if setup.framework == "unsloth":
        logits_fwd = logits_bwd = 4 * vocab * min(tokens, 4096)  # fused, chunked cross-entropy
        notes.append("Unsloth's fused cross-entropy never holds the full logits")
    else:
        # logits in the compute dtype, the fp32 upcast inside the loss, log-softmax saved for backward;
        # then its gradient and the gradient of the upcast logits (~14 bytes x vocab in bf16 training).
        upcast = 4 if compute != 4 else 0
        logits_fwd = (compute + upcast + 4) * vocab * tokens
        logits_bwd = (compute + 4 + 4 + upcast) * vocab * tokens
    hidden_grads = 2 * stream * hidden * tokens
    phases = {
        "forward / loss": saved + logits_fwd,
        "start of backward": saved + logits_bwd + hidden_grads,
        "backward through layers": saved + recompute + hidden_grads,
    }
    if setup.method == "qlora":  # one dequantized weight at a time, in the compute dtype
        biggest = max((s.in_features * s.out_features for s in shape.linear_layers()), default=0)
        phases["backward through layers"] += biggest * compute
    if setup.optimizer in ("adamw_torch", "adamw_torch_fused"):
        phases["optimizer step"] = trainable * param_bytes  # foreach sqrt(exp_avg_sq) temporary
    else:
        phases["optimizer step"] = 0
    peak_phase = max(phases, key=lambda name: phases[name])
    return MemoryEstimate(
        static=static,
        phases={name: int(value) for name, value in phases.items()},
        peak_phase=peak_phase,
        trainable_params=trainable,
        total_params=shape.total_params,
        notes=tuple(notes),
    )
