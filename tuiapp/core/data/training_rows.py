"""The rows a run trains on, from a source's raw records: renames checked, the format settled, each row
converted to TRL's native shape, bad rows counted, repeats dropped. The worker builds its datasets from
these rows and `ftwizard export --to script` writes them, so both train on the same rows."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain, islice
from typing import TYPE_CHECKING, Any

from tuiapp.core.data.clean import Duplicates
from tuiapp.core.data.records import DataError, Record, SkippedRow

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig

DETECT_SAMPLE = 200
KEEP_DROPPED = 5  # examples of dropped rows kept for the message


class DropCount:
    """What the rows left out, readable once they have been read."""

    def __init__(self) -> None:
        self.dropped: list[SkippedRow] = []
        self.dropped_count = 0
        self.duplicates = 0


def resolve_format(config: FTConfig, records: list[Record]) -> str:
    """The configured format, or the one detected from the first rows."""
    from tuiapp.core.data.formats import apply_columns, detect_format

    assert config.dataset is not None
    if config.dataset.format != "auto":
        return config.dataset.format
    detection = detect_format([apply_columns(r.data, config.dataset.columns) for r in records[:DETECT_SAMPLE]])
    if detection.format is None:
        raise DataError(f"cannot tell the format of {config.dataset.source}: {detection.explanation}")
    return detection.format


def training_rows(config: FTConfig, records: Iterator[Record], counts: DropCount) -> Iterator[dict[str, Any]]:
    """Each converted row of `records` for the config's task; `counts` gets the dropped rows and repeats."""
    from tuiapp.core.data.convert import convert_records
    from tuiapp.core.data.formats import check_renames

    assert config.dataset is not None
    head = list(islice(records, DETECT_SAMPLE))
    check_renames(config.dataset.columns, [r.data for r in head], config.dataset.source)
    fmt = resolve_format(config, head)
    repeats = Duplicates() if config.dataset.dedupe else None
    for item in convert_records(chain(head, records), fmt, config.task, config.dataset.columns):
        if isinstance(item, SkippedRow):
            counts.dropped_count += 1
            if len(counts.dropped) < KEEP_DROPPED:
                counts.dropped.append(item)
        elif repeats is None or not repeats.is_repeat(item.data):
            yield item.data
    counts.duplicates = repeats.count if repeats else 0
