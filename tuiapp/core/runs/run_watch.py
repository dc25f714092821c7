"""Watch one run directory: its new events and whether its worker still lives, cheaply enough to poll.

The TUI polls this from a thread a few times a second; liveness (a psutil call) is checked at most once
a second. Once the worker is gone, one last read picks up what it wrote before exiting, and the watch is
`over`, until a resumed worker is seen alive (its status file names it): then it follows that one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.runs.other_events import AnyEvent, LenientFollower
from tuiapp.core.runs.status import is_alive, read_status

ALIVE_EVERY_S = 1.0


class RunWatch:
    """`read()` returns the events written since the last call; `alive` says whether the worker lives."""

    def __init__(
        self, paths: RunPaths, alive_every_s: float = ALIVE_EVERY_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.paths = paths
        self.follower = LenientFollower(paths.events)
        self._alive_every_s, self._clock = alive_every_s, clock
        self._checked_at: float | None = None
        self.alive: bool | None = None  # None until checked; no status file yet counts as "not known"
        self.over = False

    def _check_alive(self) -> None:
        now = self._clock()
        if self._checked_at is not None and now - self._checked_at < self._alive_every_s:
            return
        self._checked_at = now
        status = read_status(self.paths.status)
        self.alive = None if status is None else is_alive(status)

    def replay(self) -> Iterator[AnyEvent]:
        """The events written so far, one at a time (a dashboard folds them: a 1 GB history is never held
        whole); afterwards `read` goes on from where this stopped."""
        self._check_alive()
        try:
            yield from self.follower.stream()
        except OSError as exc:
            self.follower.problem = f"cannot read {self.paths.events}: {exc.strerror or exc}"
        self.over = self.alive is False

    def read(self) -> list[AnyEvent]:
        """New complete events. Liveness is checked first, so the events of a worker that just exited
        are read before the watch reports it over."""
        self._check_alive()
        events: list[AnyEvent] = list(self.follower.poll())
        self.over = self.alive is False
        return events
