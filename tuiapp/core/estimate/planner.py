"""The recommendation: for each method, the fastest knob setting that fits, ranked, with reasons."""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tuiapp.core.estimate.closed_form import FIT_MARGIN, MemoryEstimate, TrainingSetup, estimate_memory
from tuiapp.core.estimate.moe_notes import moe_notes
from tuiapp.core.estimate.plan_notes import METHOD_NAMES, plan_notes
from tuiapp.core.estimate.sharding import Sharding, shard_estimate
from tuiapp.core.units import GIB

if TYPE_CHECKING:
    from tuiapp.core.hardware import GpuInfo
    from tuiapp.core.models.shape import ModelShape

# Architectures Unsloth patches with its own kernels (FastLanguageModel / FastModel), 2026.10.
UNSLOTH_MODEL_TYPES = frozenset(
    {
        "llama",
        "mistral",
        "qwen2",
        "qwen3",
        "qwen3_moe",
        "gemma",
        "gemma2",
        "gemma3",
        "gemma3_text",
        "phi3",
        "cohere",
        "granite",
    }
)
METHOD_SPEED = {"full": 0.75, "lora": 1.0, "qlora": 0.7, "lora8": 0.5}  # tokens/s relative to LoRA
METHOD_QUALITY = {
    "full": "all weights: the highest ceiling; needs much data, forgets the most",
    "lora": "adapter on a 16-bit base: matches full fine-tuning on most instruction data",
    "qlora": "adapter on a 4-bit base: within ~1% of LoRA (QLoRA paper), slower",
    "lora8": "adapter on an 8-bit base: LoRA quality, the slowest",
}
MICRO_BATCH_EFFICIENCY = {1: 0.8, 2: 0.9, 4: 0.97, 8: 1.0}
QUALITY_ORDER = ("full", "lora", "lora8", "qlora")
FULL_FT_MIN_TOKENS = 20_000_000  # below this, LoRA matches full fine-tuning and forgets less


@dataclass(frozen=True)
class PlanRequest:
    """What the user fixed; None lets the planner choose."""

    task: str = "sft"
    seq_len: int = 2048
    effective_batch: int = 16
    micro_batch: int | None = None
    gradient_checkpointing: bool | None = None
    optimizer: str | None = None
    lora_r: int = 16
    lora_targets: tuple[str, ...] | str = "all-linear"
    attn_implementation: str = "sdpa"
    framework: str | None = None
    methods: tuple[str, ...] = ("full", "lora", "qlora")
    dataset_tokens: int | None = None
    # The stack's choices (TrainingSetup's); None: what our backend does (backend_choices).
    loss_path: str | None = None
    kbit_upcast: bool | None = None
    adapter_dtype: str | None = None
    sharding: Sharding | None = None
    """Several GPUs through accelerate: every figure is per GPU, each GPU running its own micro-batch."""

    @property
    def gpus(self) -> int:
        return self.sharding.gpus if self.sharding else 1


@dataclass(frozen=True)
class PlanOption:
    """One method with its chosen knobs and their cost."""

    setup: TrainingSetup
    grad_accum: int
    estimate: MemoryEstimate
    free_bytes: int | None
    relative_speed: float

    @property
    def method(self) -> str:
        return self.setup.method

    @property
    def fits(self) -> bool:
        return self.free_bytes is not None and self.estimate.fits(self.free_bytes)

    @property
    def headroom_bytes(self) -> int | None:
        return None if self.free_bytes is None else self.free_bytes - self.estimate.nvidia_smi_bytes


@dataclass(frozen=True)
class Plan:
    """Every option, the recommended one with its reasons, and what to change when nothing fits."""

    options: tuple[PlanOption, ...]
    recommended: PlanOption | None
    reasons: tuple[str, ...]
    framework: str
    framework_reason: str
    advice: tuple[str, ...]
    notes: tuple[str, ...] = ()
    """Why the peaks differ where they surprise (a lighter method needing more, the logits dominating)."""


def module_installed(module: str) -> bool:
    """Whether `module` can be imported here (found, not imported)."""
    return importlib.util.find_spec(module) is not None


def choose_framework(
    shape: ModelShape,
    gpu: GpuInfo | None,
    planned: bool,
    wanted: str | None,
    installed: Callable[[str], bool] = module_installed,
) -> tuple[str, str]:
    """Unsloth where it is installed, a CUDA GPU is here and the architecture is supported; else HF.

    `installed` says which modules this machine has; tests and scenes inject it as they inject the hardware.
    """
    supported = shape.model_type in UNSLOTH_MODEL_TYPES
    if wanted == "hf":
        return "hf", "transformers + PEFT + TRL, as asked"
    if wanted == "unsloth":
        return "unsloth", "Unsloth, as asked" + ("" if supported else f" (it may not support {shape.model_type})")
    if not supported:
        return "hf", f"transformers + PEFT + TRL: Unsloth does not support {shape.model_type}"
    if gpu is None:
        return "hf", "transformers + PEFT + TRL: Unsloth needs a CUDA GPU"
    if planned:
        return (
            "hf",
            "transformers + PEFT + TRL; on the GPU box, pip install 'ftwizard[unsloth]' for ~2x speed",
        )
    if not installed("unsloth"):
        return (
            "hf",
            "transformers + PEFT + TRL; pip install 'ftwizard[unsloth]' for ~2x speed and less memory",
        )
    return "unsloth", f"Unsloth: installed, CUDA GPU present and {shape.model_type} is supported (~2x faster)"


def _candidates(request: PlanRequest, method: str, framework: str) -> list[tuple[TrainingSetup, int, float]]:
    """Every knob combination worth trying, with its relative speed."""
    micro_batches = [request.micro_batch] if request.micro_batch else [8, 4, 2, 1]
    checkpointing = [request.gradient_checkpointing] if request.gradient_checkpointing is not None else [False, True]
    default_optimizer = "paged_adamw_8bit" if method == "qlora" else "adamw_torch"
    optimizers = [request.optimizer] if request.optimizer else [default_optimizer, "adamw_8bit"]
    out = []
    for micro in micro_batches:
        if micro * request.gpus > request.effective_batch and micro != request.micro_batch:
            continue
        for ckpt in checkpointing:
            for optimizer in dict.fromkeys(optimizers):
                setup = TrainingSetup(
                    method=method,
                    seq_len=request.seq_len,
                    micro_batch=micro,
                    gradient_checkpointing=ckpt,
                    optimizer=optimizer,
                    lora_r=request.lora_r,
                    lora_targets=request.lora_targets
                    if isinstance(request.lora_targets, str)
                    else tuple(request.lora_targets),
                    attn_implementation=request.attn_implementation,
                    framework=framework,  # type: ignore[arg-type]
                    loss_path=request.loss_path,  # type: ignore[arg-type]
                    kbit_upcast=request.kbit_upcast,
                    adapter_dtype=request.adapter_dtype,  # type: ignore[arg-type]
                )
                speed = METHOD_SPEED[method] * MICRO_BATCH_EFFICIENCY.get(micro, 1.0)
                speed *= (0.75 if ckpt else 1.0) * (0.97 if "8bit" in optimizer else 1.0)
                speed *= 2.0 if framework == "unsloth" else 1.0
                out.append((setup, math.ceil(request.effective_batch / (micro * request.gpus)), speed))
    return out


def best_option(shape: ModelShape, request: PlanRequest, method: str, framework: str, free: int | None) -> PlanOption:
    """The fastest setting of `method` that fits; the smallest-memory one when none does."""
    options = [
        PlanOption(setup, accum, _estimate(shape, setup, request.sharding), free, speed)
        for setup, accum, speed in _candidates(request, method, framework)
    ]
    fitting = [option for option in options if option.fits]
    if fitting:
        return max(fitting, key=lambda option: option.relative_speed)
    return min(options, key=lambda option: option.estimate.nvidia_smi_bytes)


def _estimate(shape: ModelShape, setup: TrainingSetup, sharding: Sharding | None) -> MemoryEstimate:
    single = estimate_memory(shape, setup)
    return single if sharding is None else shard_estimate(shape, setup, single, sharding)


def _checkpointing_reason(on: bool, asked: bool) -> str:
    if asked:
        return f"gradient checkpointing {'on' if on else 'off'}, as asked"
    if on:
        return "gradient checkpointing on: needed to fit"
    return "gradient checkpointing off: it fits without, ~30% faster"


def _reasons(chosen: PlanOption, fitting: list[PlanOption], request: PlanRequest, gpu: GpuInfo) -> list[str]:
    setup = chosen.setup
    reasons = [
        f"fits: ~{chosen.estimate.nvidia_smi_bytes / GIB:.1f} GiB in nvidia-smi of {chosen.free_bytes / GIB:.1f} GiB "
        f"free on {gpu.name} ({FIT_MARGIN:.0%} kept spare), {chosen.headroom_bytes / GIB:.1f} GiB to spare",
        _batch_reason(setup.micro_batch, chosen.grad_accum, request.gpus),
        _checkpointing_reason(setup.gradient_checkpointing, request.gradient_checkpointing is not None),
    ]
    better = [option for option in fitting if option.method == "full"]
    if chosen.method != "full" and better:
        name = METHOD_NAMES[chosen.method]
        if request.dataset_tokens is None:
            reasons.append(
                f"full fine-tuning fits too, but {name} matches it on most instruction data, forgets less and "
                "trains faster (the dataset's size is not known yet)"
            )
        else:
            reasons.append(
                f"full fine-tuning fits too, but with {request.dataset_tokens / 1e6:.1f}M tokens of data {name} "
                "matches it, forgets less and trains faster"
            )
    elif chosen.method != "full":
        reasons.append(f"{chosen.method} is the highest-quality method that fits")
    return reasons


def _batch_reason(micro: int, accum: int, gpus: int) -> str:
    if gpus == 1:
        return f"micro-batch {micro} x {accum} accumulation = effective batch {micro * accum}"
    return f"micro-batch {micro} x {accum} accumulation x {gpus} GPUs = effective batch {micro * accum * gpus}"


def _advice(shape: ModelShape, request: PlanRequest, framework: str, free: int) -> list[str]:
    """What would fit when nothing does: a shorter sequence, QLoRA, a smaller model."""
    advice = []
    tight = replace(request, micro_batch=1, gradient_checkpointing=True, optimizer="paged_adamw_8bit")
    seq = request.seq_len
    while seq > 256:
        seq //= 2
        if best_option(shape, replace(tight, seq_len=seq), "qlora", framework, free).fits:
            advice.append(f"QLoRA fits with sequences of {seq} tokens (micro-batch 1, checkpointing on)")
            break
    else:
        advice.append("even QLoRA at 256 tokens does not fit: choose a smaller model")
    advice.append("a smaller model from the catalogue (ftwizard plan --model ...), or a GPU with more memory")
    return advice


def methods_for_checkpoint(shape: ModelShape, methods: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The methods a checkpoint can take, and why any were left out: one stored quantized trains adapters
    on its stored weights only (full fine-tuning needs 16-bit weights; LoRA and QLoRA are the same run)."""
    stored = shape.stored_quantization
    if stored is None:
        return methods, ()
    adapter, notes = stored.adapter_method, []
    if "full" in methods:
        notes.append(
            f"full fine-tuning is not offered: this checkpoint is stored as {stored.description}, and quantized "
            f"weights cannot be trained; {METHOD_NAMES[adapter]} trains adapters on top of them"
        )
    for method in methods:
        if method not in ("full", adapter):
            notes.append(
                f"{METHOD_NAMES[method]} here is {METHOD_NAMES[adapter]}: the weights are already stored as "
                f"{stored.description}, so adapters train on them as they are (no second quantization)"
            )
    return (adapter,), tuple(dict.fromkeys(notes))


def make_plan(
    shape: ModelShape,
    gpu: GpuInfo | None,
    request: PlanRequest,
    planned: bool = False,
    installed: Callable[[str], bool] = module_installed,
) -> Plan:
    """Rank the methods for this model on this GPU (gpu None: estimates only, nothing fits)."""
    framework, framework_reason = choose_framework(shape, gpu, planned, request.framework, installed)
    if request.sharding is not None and framework == "unsloth":
        framework, framework_reason = (
            "hf",
            "transformers + PEFT + TRL: Unsloth trains on one GPU, accelerate on several",
        )
    free = gpu.free_bytes if gpu else None
    methods, stored_notes = methods_for_checkpoint(shape, request.methods)
    if request.sharding is not None:
        refused = {method: request.sharding.problem(method) for method in methods}
        stored_notes = (*stored_notes, *(why for why in refused.values() if why))
        methods = tuple(method for method, why in refused.items() if why is None)
    options = tuple(best_option(shape, request, method, framework, free) for method in methods)
    fitting = [option for option in options if option.fits]
    ranked = sorted(fitting, key=lambda option: QUALITY_ORDER.index(option.method))
    enough_data = request.dataset_tokens is not None and request.dataset_tokens >= FULL_FT_MIN_TOKENS
    if len(ranked) > 1 and ranked[0].method == "full" and not enough_data:
        ranked = ranked[1:]  # data size argues for an adapter
    chosen = ranked[0] if ranked else None
    notes = (*stored_notes, *plan_notes(options, shape), *moe_notes(options, shape, installed))
    if gpu is None:
        advice = ("no GPU here: add --gpu 'RTX 4090' or --gpu 24GB to plan for the box you will rent",)
        return Plan(options, None, (), framework, framework_reason, advice, notes)
    if chosen is None:
        advice = tuple(_advice(shape, request, framework, free))
        return Plan(options, None, (), framework, framework_reason, advice, notes)
    return Plan(options, chosen, tuple(_reasons(chosen, fitting, request, gpu)), framework, framework_reason, (), notes)
