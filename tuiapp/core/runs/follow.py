"""Read `events.jsonl` while a worker is still appending to it: whole lines only, from where we left off.

Reading is linear in the file and bounded in memory: the file is read in chunks, a line longer than
`MAX_LINE_BYTES` is skipped without being held (a 100 MB line costs one chunk of memory, not 100 MB), and
`iter_events` / `EventFollower.stream` yield events one at a time for a reader that folds them (a summary, a
dashboard replay) instead of keeping them all.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from tuiapp.core.runs.events import Event, parse_event

MAX_LINE_BYTES = 1 << 20  # no event our workers write comes near this; a longer line is skipped unread
CHUNK_BYTES = 1 << 20


class EventFollower:
    """Yields the events added since the last read; a partial last line waits until its newline arrives.

    A line that is not JSON, not a known event, or longer than `MAX_LINE_BYTES` is skipped (counted in
    `skipped`), never fatal: the log is written by another process and may be cut short by a crash.
    A file that exists but cannot be read raises OSError from `stream` (a summary calls the run damaged);
    `poll` returns nothing for it and keeps the error in `problem`.
    """

    parse = staticmethod(parse_event)  # decoded line -> event or None; a subclass may keep more kinds

    def __init__(self, path: str | os.PathLike[str], max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self.path = Path(path)
        self.offset = 0
        self.skipped = 0
        self.problem: str | None = None  # why the file could not be read at the last poll, if it could not
        self._max_line = max_line_bytes
        self._partial = b""
        self._overlong = False  # inside a line past the cap: drop bytes until its newline

    def stream(self) -> Iterator[Event]:
        """The complete new events, one at a time, reading the file a chunk at a time."""
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return
        with handle:
            handle.seek(self.offset)
            while chunk := handle.read(CHUNK_BYTES):
                self.offset += len(chunk)
                yield from self._lines(chunk)

    def poll(self) -> list[Event]:
        """The complete new events (empty when nothing new, or the file does not exist or cannot be read)."""
        try:
            events = list(self.stream())
        except OSError as exc:
            self.problem = f"cannot read {self.path}: {exc.strerror or exc}"
            return []
        self.problem = None
        return events

    def _lines(self, chunk: bytes) -> Iterator[Event]:
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            line, start = chunk[start:end], end + 1
            if self._overlong:
                self._overlong = False
                continue
            if self._partial:
                line, self._partial = self._partial + line, b""
            if len(line) > self._max_line:
                self.skipped += 1
            elif line.strip():
                yield from self._event(line)
        rest = chunk[start:]
        if self._overlong:
            return
        if len(self._partial) + len(rest) > self._max_line:
            self._partial, self._overlong = b"", True
            self.skipped += 1
        else:
            self._partial += rest

    def _event(self, line: bytes) -> Iterator[Event]:
        try:
            event = self.parse(json.loads(line))
        except (ValueError, RecursionError):  # not JSON (UnicodeDecodeError is a ValueError), or nested past reason
            event = None
        if event is None:
            self.skipped += 1
        else:
            yield event


def iter_events(path: str | os.PathLike[str]) -> Iterator[Event]:
    """Every complete event in the file, in order, one at a time (OSError when it exists but cannot be read)."""
    return EventFollower(path).stream()


def read_events(path: str | os.PathLike[str]) -> list[Event]:
    """Every complete event in the file, in order (none when it cannot be read)."""
    return EventFollower(path).poll()
