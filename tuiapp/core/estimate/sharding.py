"""Per-GPU memory when one job spreads over several GPUs through accelerate: DDP, DeepSpeed ZeRO-2/3 or FSDP2.

Model states follow the ZeRO paper's accounting (Rajbhandari et al. 2020, §5.1: with mixed-precision Adam a
model of P parameters holds 2P weights + 2P gradients + 12P optimizer states; ZeRO-2 divides the last two by
the GPU count N, ZeRO-3 all three). FSDP2's full shard divides like ZeRO-3. What stays whole on each GPU:
- activations and logits: every GPU runs its own micro-batch, so they are the single-GPU figure;
- under ZeRO-3 / FSDP2 the weights of the layer running and of the one prefetched, gathered whole, plus the
  embeddings and LM head of the root unit (FSDP2 does not reshard the root after forward);
- the gradients of the unit being reduced (one layer's), before its reduce-scatter;
- DDP's gradient buckets, a second copy of the gradients (accelerate's default `gradient_as_bucket_view=False`);
  ZeRO's reduce buckets (transformers' "auto": hidden_size² values).
Offloaded optimizer states (and, with `offload: all`, weights and gradients) move to CPU memory: the figure for
the host is said in a note.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from tuiapp.core.estimate.param_ledger import param_ledger
from tuiapp.core.units import GIB

if TYPE_CHECKING:
    from tuiapp.core.estimate.closed_form import MemoryEstimate, TrainingSetup
    from tuiapp.core.models.shape import ModelShape

Strategy = Literal["ddp", "zero2", "zero3", "fsdp2"]
Offload = Literal["none", "optimizer", "all"]
STRATEGIES: dict[str, str] = {
    "fsdp2": "FSDP2 full shard (weights, gradients and optimizer states split over the GPUs)",
    "zero3": "DeepSpeed ZeRO-3 (weights, gradients and optimizer states split)",
    "zero2": "DeepSpeed ZeRO-2 (gradients and optimizer states split, weights whole on each GPU)",
    "ddp": "data parallel (a whole copy on each GPU)",
}
OFFLOADS: dict[str, tuple[str, ...]] = {  # what each strategy can move to CPU memory
    "ddp": ("none",),
    "zero2": ("none", "optimizer"),
    "zero3": ("none", "optimizer", "all"),
    "fsdp2": ("none", "all"),  # FSDP2's CPUOffloadPolicy moves weights, gradients and optimizer states together
}
GPUS_MAX = 64  # one accelerate launch on one machine; beyond that a cluster launcher, not this plan


@dataclass(frozen=True)
class Sharding:
    """How a job spreads over `gpus` GPUs of one machine."""

    gpus: int
    strategy: Strategy = "fsdp2"
    offload: Offload = "none"

    def problem(self, method: str) -> str | None:
        """Why this sharding cannot run `method`, or None."""
        if not 2 <= self.gpus <= GPUS_MAX:
            return f"--gpus {self.gpus}: give 2 to {GPUS_MAX} (one GPU needs no sharding)"
        if self.offload not in OFFLOADS[self.strategy]:
            allowed = ", ".join(OFFLOADS[self.strategy])
            return f"--offload {self.offload} is not something {self.strategy} does (it can: {allowed})"
        if method == "lora8" and self.strategy in ("zero3", "fsdp2"):
            return "8-bit weights cannot be split over GPUs: lora8 runs with ddp or zero2, or use qlora"
        return None

    @property
    def label(self) -> str:
        offload = "" if self.offload == "none" else f", {self.offload} offloaded to CPU"
        return f"{self.gpus} GPUs, {self.strategy}{offload}"


def shard_estimate(
    shape: ModelShape, setup: TrainingSetup, single: MemoryEstimate, sharding: Sharding
) -> MemoryEstimate:
    """The peak on each of `sharding.gpus` GPUs for the step `single` describes on one."""
    n, strategy, offload = sharding.gpus, sharding.strategy, sharding.offload
    ledger = param_ledger(shape, setup)
    split_weights = strategy in ("zero3", "fsdp2")
    split_states = strategy != "ddp"
    states_on_cpu = offload in ("optimizer", "all")
    everything_on_cpu = offload == "all"
    trainable = ledger.trainable_bytes
    unit_gradients = trainable // shape.num_layers  # one layer's, whole until it is reduced

    static = dict(single.static)
    host = 0
    for name in ("weights", "adapters"):
        if name in static and split_weights:
            share = static[name] // n
            host += static[name] if everything_on_cpu else 0
            static[name] = 0 if everything_on_cpu else share
    states = static.get("optimizer states", 0)
    static["optimizer states"] = 0 if states_on_cpu else (states // n if split_states else states)
    host += states if states_on_cpu else 0
    if strategy == "ddp":
        static["gradient buckets"] = trainable
    else:
        static["reduce buckets"] = shape.hidden_size**2 * 4  # fp32 values
    if split_weights:
        static["gathered layers"] = _gathered_bytes(shape, ledger.weights_bytes)

    def gradients(value: int) -> int:
        if not split_states or value == 0:
            return value
        return unit_gradients if everything_on_cpu else value // n + unit_gradients

    phases: dict[str, dict[str, int]] = {}
    for phase, parts in single.phases.items():
        parts = dict(parts)
        if "gradients" in parts:
            parts["gradients"] = gradients(parts["gradients"])
        if "optimizer temporaries" in parts:
            temporaries = parts["optimizer temporaries"]
            parts["optimizer temporaries"] = 0 if states_on_cpu else (temporaries // n if split_states else temporaries)
        phases[phase] = parts
    peak_phase = max(phases, key=lambda name: sum(phases[name].values()))
    notes = [f"per GPU, with {sharding.label}: {STRATEGIES[strategy]}"]
    if host:
        notes.append(f"{host / GIB:.1f} GiB in CPU memory on the host (offloaded), on top of the model's loading")
    return replace(single, static=static, phases=phases, peak_phase=peak_phase, notes=(*single.notes, *notes))


def _gathered_bytes(shape: ModelShape, weights_bytes: int) -> int:
    """The weights gathered whole at once under ZeRO-3 / FSDP2: the running layer and the prefetched one, and
    the root unit's embeddings and LM head, at the model's average bytes per weight."""
    per_value = weights_bytes / max(shape.total_params, 1)
    root = shape.embedding_params + shape.lm_head_params  # the head is 0 when tied to the embeddings
    layer = max(shape.total_params - root, 0) / shape.num_layers
    return int(per_value * (2 * layer + root))


def parse_sharding(text: str, method: str) -> Sharding:
    """`"4 zero3 optimizer"` (GPUs, then a strategy and an offload, both optional) as the Export dialog takes
    it; a UserError says what is wrong."""
    from tuiapp.core.user_error import UserError

    words = text.replace(",", " ").split()
    fix = f"type GPUs (2-{GPUS_MAX}), then {' / '.join(STRATEGIES)}, then none / optimizer / all, e.g. 4 fsdp2 none"
    if not words or not words[0].isdigit() or len(words) > 3:
        raise UserError(f"{text[:40]!r} is not a GPU count and a sharding", fix)
    strategy = words[1] if len(words) > 1 else "fsdp2"
    offload = words[2] if len(words) > 2 else "none"
    if strategy not in STRATEGIES or offload not in ("none", "optimizer", "all"):
        raise UserError(f"{text[:40]!r}: unknown sharding or offload", fix)
    sharding = Sharding(int(words[0][:3]), strategy, offload)  # type: ignore[arg-type]
    problem = sharding.problem(method)
    if problem:
        raise UserError(problem.replace("--gpus ", "").replace("--offload ", "offload "), fix)
    return sharding
