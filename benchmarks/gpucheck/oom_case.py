"""The forced out-of-memory: a real CUDA OOM from the caching allocator, and the worker's recovery from it.

The group's process caps its CUDA memory (torch.cuda.set_per_process_memory_fraction) between what the
estimate says the case needs at a quarter of its micro-batch and what it needs at the full one, so the first
step raises torch.OutOfMemoryError from the allocator itself. The worker must then free the failed attempt,
halve the micro-batch (tuiapp/training/oom_recovery.py) and finish: a `recovering` event naming the out-of-memory,
then `completed`. A retry that runs out of memory again means the failed attempt's memory was not freed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tuiapp.core.estimate.closed_form import TrainingSetup, estimate_memory
from tuiapp.core.units import GIB

if TYPE_CHECKING:
    from gpucheck.cases import Case
    from tuiapp.core.models.shape import ModelShape

HEADROOM = 1.3  # over the light setting's allocated estimate: reserved overhead, the context is outside the cap
EXTRA_BYTES = 1 * GIB


def _alloc(shape: ModelShape, case: Case, micro_batch: int) -> int:
    setup = TrainingSetup(
        method=case.method,
        seq_len=case.seq_len,
        micro_batch=micro_batch,
        gradient_checkpointing=case.gradient_checkpointing,
        lora_r=16,
    )
    return estimate_memory(shape, setup).peak_alloc_bytes


def oom_limit_bytes(shape: ModelShape, case: Case) -> int:
    """The cap: room for a quarter of the micro-batch, not for all of it (ValueError if the two are too close)."""
    light = _alloc(shape, case, max(1, case.micro_batch // 4))
    heavy = _alloc(shape, case, case.micro_batch)
    limit = int(light * HEADROOM + EXTRA_BYTES)
    if heavy < limit * 1.2:
        raise ValueError(
            f"{replace(case, kind='measure').name}: the full micro-batch needs {heavy / GIB:.1f} GiB, too close to "
            f"the {limit / GIB:.1f} GiB cap for a sure out-of-memory: choose a larger micro-batch or sequence"
        )
    return limit


def oom_outcome(final: Any, events: list[Any]) -> tuple[str, str]:
    """("ok" or "failed", what happened in words) from the run's final event and its events."""
    from tuiapp.core.runs.events import Recovering

    recoveries = [e for e in events if isinstance(e, Recovering)]
    if not recoveries:
        return "failed", f"no out-of-memory happened under the cap (final event: {getattr(final, 'kind', '?')})"
    not_oom = [r.reason for r in recoveries if "out of memory" not in r.reason.lower()]
    if not_oom:
        return "failed", f"recovered from something else: {not_oom[0][:200]}"
    ladder = " -> ".join(
        str(b) for b in [recoveries[0].old_micro_batch_size, *(r.new_micro_batch_size for r in recoveries)]
    )
    if getattr(final, "kind", None) != "completed":
        why = getattr(final, "message", getattr(final, "kind", "?"))
        return "failed", f"micro-batch {ladder}, then {str(why)[:200]}"
    count = f"{len(recoveries)} recover{'y' if len(recoveries) == 1 else 'ies'}"
    return "ok", f"real CUDA OOM, recovered: micro-batch {ladder} in {count}"
