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
