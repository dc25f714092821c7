"""The plain types every part of the dataset doctor passes around."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tuiapp.core.user_error import UserError

NOTES_KEPT = 20


class DataError(UserError):
    """A data file or id the doctor cannot use; the message names the place and the fix."""


@dataclass(frozen=True)
class Record:
    """One row as read from a source, with where it came from (``file.jsonl:12``) for messages."""

    data: dict[str, Any]
    where: str


@dataclass(frozen=True)
class SkippedRow:
    """A row left out while reading or cleaning, and why."""

    where: str
    reason: str


@dataclass
class ReadReport:
    """What happened while reading a source: rows skipped on request, the first few reasons, and notes.

    `notes` tell the user about choices the reader made (a .json file read as JSON lines, files in a folder
    that are not data, the one list read out of {"train": [...], "test": [...]}).
    """

    rows_read: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)
    skipped_count: int = 0
    notes: list[str] = field(default_factory=list)

    def skip(self, where: str, reason: str, keep_examples: int = 5) -> None:
        """Count one skipped row; keep the first few for the report."""
        self.skipped_count += 1
        if len(self.skipped) < keep_examples:
            self.skipped.append(SkippedRow(where, reason))

    def note(self, message: str) -> None:
        """Remember one thing the user should know about how the source was read (each once, the first
        `NOTES_KEPT` of them: a folder of 10,000 files gives one screen of notes, not 10,000 lines)."""
        if message in self.notes:
            return
        if len(self.notes) < NOTES_KEPT:
            self.notes.append(message)
        elif len(self.notes) == NOTES_KEPT:
            self.notes.append("more notes like these were left out")
