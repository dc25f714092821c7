"""The base of every event in a run's `events.jsonl` (training's and the Finish screen's actions')."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True)
class Event:
    """Fields every event has: its kind (a class constant) and when it was written."""

    kind: ClassVar[str] = "event"
    time: float = field(default_factory=time.time, kw_only=True)


def progress_fraction(done: int | None, total: int | None) -> float | None:
    """How far a counted piece of work is, 0 to 1, when its total is known (phases and actions alike)."""
    if done is None or not total:
        return None
    return min(max(done / total, 0.0), 1.0)
