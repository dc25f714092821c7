"""The failed event for a full disk (or quota, or file size limit): where it was writing, the space a checkpoint
takes and what is free, the step reached, and which checkpoints are intact, so `ftwizard resume` is safe.

The checkpoint it was writing (past the last complete one, `RunPaths.last_checkpoint`) is removed, which
gives back its space, so the failed event itself can still be written, and nothing half-written is left to
mistake for a checkpoint.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
from dataclasses import replace
from pathlib import Path

from tuiapp.core.runs.events import Failed, Metrics
from tuiapp.core.runs.failure import disk_full_errno, disk_full_words, written_path
from tuiapp.core.runs.follow import read_events
from tuiapp.core.runs.layout import RunPaths


def format_bytes(count: int) -> str:
    """`812 KB`, `3.4 MB`, `12.0 GB` (decimal units, as `df -H` shows them)."""
    for unit, size in (("GB", 10**9), ("MB", 10**6)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{max(count // 1000, 1)} KB"


def _checkpoint_step(folder: Path) -> int | None:
    step = folder.name.removeprefix("checkpoint-")
    return int(step) if folder.name.startswith("checkpoint-") and step.isdigit() else None


def folder_bytes(folder: Path) -> int:
    """The bytes of the files under `folder` (0 when it cannot be read)."""
    with contextlib.suppress(OSError):
        return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return 0


def remove_incomplete_checkpoints(paths: RunPaths) -> list[str]:
    """Delete the checkpoint folders past the last complete one (the one being written); their names."""
    last = paths.last_checkpoint()
    last_step = (_checkpoint_step(last) or 0) if last else 0
    removed = []
    for folder in sorted(paths.checkpoints.glob("checkpoint-*")):
        step = _checkpoint_step(folder)
        if step is not None and step > last_step:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    return removed


def _step_reached(paths: RunPaths) -> int | None:
    steps = [event.step for event in read_events(paths.events) if isinstance(event, Metrics)]
    return steps[-1] if steps else None


def _free_bytes(paths: RunPaths) -> int | None:
    with contextlib.suppress(OSError):
        return shutil.disk_usage(paths.root).free
    return None


def disk_full_failure(exc: BaseException, paths: RunPaths, failed: Failed) -> Failed:
    """`failed` (classified disk_full) told in full: what was being written, space, step, intact checkpoints."""
    number = disk_full_errno(exc)
    removed = remove_incomplete_checkpoints(paths)
    where = written_path(exc) or (str(paths.checkpoints / removed[-1]) if removed else str(paths.root))
    step = _step_reached(paths)
    last = paths.last_checkpoint()
    free = _free_bytes(paths)
    needed = folder_bytes(last) if last else None
    if number == 0 and needed and free is not None and free < needed:  # torch.save lost the errno: judge by room
        number = errno.ENOSPC
    parts = [f"{disk_full_words(number) if number is not None else 'writing failed'} writing {where}"]
    parts[0] += f" at step {step}" if step is not None else " before the first step"
    if needed:
        parts.append(f"a checkpoint takes {format_bytes(needed)}" + (f", {format_bytes(free)} free" if free else ""))
    elif free is not None:
        parts.append(f"{format_bytes(free)} free")
    if last:
        parts.append(f"the checkpoints up to {last.name} are intact")
    else:
        parts.append("no checkpoint had been saved yet")
    if removed:
        parts.append(f"the incomplete {', '.join(removed)} was removed")
    resume = f"`ftwizard resume {paths.name}` continues from {last.name}" if last else f"`ftwizard resume {paths.name}`"
    room = f"at least {format_bytes(needed)}" if needed else "space"
    hint = (
        f"free {room} on the disk holding {paths.root.parent} (or set output.runs_root to a larger disk, or lower "
        f"training.save_total_limit), then {resume}"
    )
    return replace(failed, message="; ".join(parts), hint=hint, step=step)
