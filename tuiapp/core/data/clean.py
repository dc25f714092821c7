"""Drop the rows that cannot train (counted, with examples), remove exact duplicates, split off eval rows."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tuiapp.core.data.records import DataError, Record, SkippedRow

KEEP_EXAMPLES = 5


def eval_count(size: float, rows: int) -> int:
    """Rows held out for eval: `size` is a fraction below 1 or a row count; 0 holds out none."""
    if size <= 0:
        return 0
    return max(1, round(size * rows)) if size < 1 else int(size)


def row_key(row: dict[str, Any]) -> bytes:
    """A short digest that is equal for exactly equal rows (key order does not matter)."""
    text = json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


@dataclass
class Duplicates:
    """Remembers row digests to drop exact repeats without holding the rows twice."""

    seen: set[bytes] = field(default_factory=set)
    count: int = 0

    def is_repeat(self, row: dict[str, Any]) -> bool:
        key = row_key(row)
        if key in self.seen:
            self.count += 1
            return True
        self.seen.add(key)
        return False


@dataclass
class Cleaned:
    """Rows to train on, rows held out for eval, and what was left out."""

    rows: list[dict[str, Any]]
    eval_rows: list[dict[str, Any]] = field(default_factory=list)
    dropped: int = 0
    dropped_examples: list[SkippedRow] = field(default_factory=list)
    duplicates: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "kept": len(self.rows),
            "eval": len(self.eval_rows),
            "dropped": self.dropped,
            "dropped_examples": [vars(s) for s in self.dropped_examples],
            "duplicates": self.duplicates,
        }


def split_eval(
    rows: list[dict[str, Any]], eval_size: float, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(train, eval): a seeded random choice of eval rows; the train rows keep their order."""
    held = eval_count(eval_size, len(rows))
    if not held:
        return rows, []
    if held >= len(rows):
        raise DataError(f"eval_size {eval_size} leaves no training rows out of {len(rows)}; lower it")
    chosen = set(random.Random(seed).sample(range(len(rows)), held))
    train = [row for i, row in enumerate(rows) if i not in chosen]
    return train, [rows[i] for i in sorted(chosen)]


def clean_rows(
    items: Iterable[Record | SkippedRow], *, dedupe: bool = False, eval_size: float = 0.0, seed: int = 42
) -> Cleaned:
    """Keep converted rows, count and sample the dropped ones, optionally dedupe, then split off eval rows."""
    cleaned = Cleaned(rows=[])
    repeats = Duplicates()
    for item in items:
        if isinstance(item, SkippedRow):
            cleaned.dropped += 1
            if len(cleaned.dropped_examples) < KEEP_EXAMPLES:
                cleaned.dropped_examples.append(item)
        elif not (dedupe and repeats.is_repeat(item.data)):
            cleaned.rows.append(item.data)
    cleaned.duplicates = repeats.count
    if cleaned.rows:
        cleaned.rows, cleaned.eval_rows = split_eval(cleaned.rows, eval_size, seed)
    return cleaned
