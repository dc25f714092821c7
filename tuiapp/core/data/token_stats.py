"""Token-length statistics: percentiles, a histogram, truncation, steps per epoch, a max length to use.

Pure arithmetic over a list of per-row token counts, so the CLI, the TUI and the planner share it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

LENGTH_STEP = 64  # recommended max lengths are multiples of this (kernel- and batch-friendly)
COVERAGE = 0.95  # the recommended max length keeps at least this share of rows whole
PERCENTILES = (50, 90, 95, 99)


def percentile(sorted_values: Sequence[int], pct: float) -> int:
    """The nearest-rank percentile of already sorted values (0 for an empty list)."""
    if not sorted_values:
        return 0
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return int(sorted_values[rank - 1])


def recommend_max_length(sorted_values: Sequence[int], coverage: float = COVERAGE, step: int = LENGTH_STEP) -> int:
    """The smallest multiple of `step` that keeps at least `coverage` of the rows untruncated."""
    needed = percentile(sorted_values, coverage * 100)
    return max(step, math.ceil(needed / step) * step)


@dataclass(frozen=True)
class Histogram:
    """Equal-width bins over [0, upper): `counts[i]` rows have a length in [edges[i], edges[i+1])."""

    edges: tuple[int, ...]
    counts: tuple[int, ...]

    @classmethod
    def of(cls, values: Sequence[int], bins: int = 20) -> Histogram:
        top = max(values, default=0) + 1
        width = max(1, math.ceil(top / bins))
        bins = math.ceil(top / width)  # no empty bins past the longest row
        counts = [0] * bins
        for value in values:
            counts[min(value // width, bins - 1)] += 1
        return cls(tuple(i * width for i in range(bins + 1)), tuple(counts))


@dataclass(frozen=True)
class TokenStats:
    """What the token counts of a dataset say about training it at `max_length`."""

    rows: int
    total_tokens: int
    min: int
    max: int
    mean: float
    p50: int
    p90: int
    p95: int
    p99: int
    max_length: int
    truncated_rows: int
    recommended_max_length: int
    micro_batch: int
    grad_accum: int
    steps_per_epoch: int
    histogram: Histogram

    @property
    def truncated_share(self) -> float:
        """The share of rows longer than `max_length` (0–1)."""
        return self.truncated_rows / self.rows if self.rows else 0.0

    @classmethod
    def of(cls, lengths: Sequence[int], max_length: int, micro_batch: int = 1, grad_accum: int = 1) -> TokenStats:
        """Summarize per-row token counts; `max_length` is the length training will cut rows at."""
        values = sorted(lengths)
        rows = len(values)
        per_step = max(1, micro_batch) * max(1, grad_accum)
        return cls(
            rows=rows,
            total_tokens=sum(values),
            min=values[0] if values else 0,
            max=values[-1] if values else 0,
            mean=sum(values) / rows if rows else 0.0,
            p50=percentile(values, 50),
            p90=percentile(values, 90),
            p95=percentile(values, 95),
            p99=percentile(values, 99),
            max_length=max_length,
            truncated_rows=sum(1 for v in values if v > max_length),
            recommended_max_length=recommend_max_length(values),
            micro_batch=micro_batch,
            grad_accum=grad_accum,
            steps_per_epoch=math.ceil(rows / per_step),
            histogram=Histogram.of(values),
        )

    def to_json(self) -> dict[str, Any]:
        """Plain data for JSON output and the child-process protocol."""
        data = asdict(self)
        data["truncated_share"] = round(self.truncated_share, 6)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TokenStats:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        hist = data["histogram"]
        fields["histogram"] = Histogram(tuple(hist["edges"]), tuple(hist["counts"]))
        return cls(**fields)


def text_histogram(stats: TokenStats, width: int = 40) -> list[str]:
    """The histogram as text lines (`  512–767 │████▌ 31`), with `◀ max_length` on the cut bin; it starts at
    the first bin holding a row (or at the cut, when every row is longer than the max length)."""
    hist = stats.histogram
    peak = max(hist.counts, default=0) or 1
    label_width = len(f"{hist.edges[-1] - 1}") * 2 + 1
    eighths = " ▏▎▍▌▋▊▉█"
    first = next((i for i, count in enumerate(hist.counts) if count), 0)
    cut = next((i for i in range(len(hist.counts)) if hist.edges[i] <= stats.max_length < hist.edges[i + 1]), first)
    lines = []
    for i in range(min(first, cut), len(hist.counts)):
        count = hist.counts[i]
        low, high = hist.edges[i], hist.edges[i + 1] - 1
        cells = count / peak * width
        bar = "█" * int(cells) + (eighths[int((cells % 1) * 8)] if cells % 1 else "")
        mark = "  ◀ max length" if low <= stats.max_length <= high else ""
        lines.append(f"{f'{low}–{high}':>{label_width}} │{bar:<{width}} {count}{mark}")
    return lines
