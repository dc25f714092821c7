"""Read `events.jsonl` while a worker is still appending to it: whole lines only, from where we left off."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tuiapp.core.runs.events import Event, parse_event


class EventFollower:
    """Yields the events added since the last `poll`; a partial last line waits until its newline arrives.

    A line that is not JSON or not a known event is skipped (counted in `skipped`), never fatal: the log
    is written by another process and may be cut short by a crash.
    """

    parse = staticmethod(parse_event)  # decoded line -> event or None; a subclass may keep more kinds

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.offset = 0
        self.skipped = 0
        self._partial = b""

    def poll(self) -> list[Event]:
        """The complete new events (empty when nothing new, or the file does not exist yet)."""
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except FileNotFoundError:
            return []
        self.offset += len(chunk)
        data = self._partial + chunk
        *lines, self._partial = data.split(b"\n")
        events: list[Event] = []
        for line in lines:
            if not line.strip():
                continue
            try:
                event = self.parse(json.loads(line))
            except ValueError:  # not JSON (UnicodeDecodeError is a ValueError too)
                event = None
            if event is None:
                self.skipped += 1
            else:
                events.append(event)
        return events


def read_events(path: str | os.PathLike[str]) -> list[Event]:
    """Every complete event in the file, in order."""
    return EventFollower(path).poll()
