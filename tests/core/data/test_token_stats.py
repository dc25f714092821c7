"""Token statistics: percentiles, the recommended max length, truncation and the histogram."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tuiapp.core.data.token_stats import Histogram, TokenStats, percentile, recommend_max_length, text_histogram


def test_percentiles_are_nearest_rank() -> None:
    values = list(range(1, 101))
    assert [percentile(values, p) for p in (50, 90, 95, 99, 100)] == [50, 90, 95, 99, 100]
    assert percentile([], 50) == 0


def test_recommended_max_length_covers_95_percent_in_multiples_of_64() -> None:
    lengths = [100] * 95 + [5000] * 5
    assert recommend_max_length(sorted(lengths)) == 128
    assert recommend_max_length(sorted([100] * 94 + [5000] * 6)) == 5056
    assert recommend_max_length([10]) == 64


@given(st.lists(st.integers(min_value=0, max_value=50_000), min_size=1, max_size=300))
def test_recommendation_keeps_at_least_95_percent_whole(lengths: list[int]) -> None:
    stats = TokenStats.of(lengths, max_length=2048)
    recommended = stats.recommended_max_length
    assert recommended % 64 == 0
    assert sum(v <= recommended for v in lengths) >= 0.95 * len(lengths)
    assert sum(stats.histogram.counts) == len(lengths)
    assert stats.p50 <= stats.p90 <= stats.p95 <= stats.p99 <= stats.max


def test_truncation_steps_and_json_round_trip() -> None:
    stats = TokenStats.of([10, 20, 300, 400, 5000], max_length=256, micro_batch=2, grad_accum=2)
    assert (stats.truncated_rows, stats.truncated_share) == (3, 0.6)
    assert stats.steps_per_epoch == 2  # 5 rows, 4 per optimizer step
    assert stats.total_tokens == 5730
    assert TokenStats.from_json(stats.to_json()) == stats


def test_histogram_bins_cover_every_value_and_mark_the_cut() -> None:
    hist = Histogram.of([0, 1, 99, 100], bins=4)
    assert hist.edges == (0, 26, 52, 78, 104)
    assert hist.counts == (2, 0, 0, 2)
    lines = text_histogram(TokenStats.of([0, 1, 99, 100], max_length=60), width=10)
    assert sum("◀ max length" in line for line in lines) == 1
    assert lines[-1].strip().startswith("96–101") and lines[-1].endswith(" 2")  # the last bin holds the longest row


def test_text_histogram_starts_at_the_first_row() -> None:
    stats = TokenStats.of([900, 950, 1000, 1900], max_length=2048)  # 20 bins of 96: the first nine are empty
    lines = text_histogram(stats, width=10)
    assert lines[0].strip().startswith("864–959") and lines[0].endswith(" 2")
    assert len(lines) == len(stats.histogram.counts) - 9
    cut = TokenStats.of([900, 950, 1000, 1900], max_length=256)  # every row is cut: the histogram starts at the cut
    assert text_histogram(cut, width=10)[0].strip().startswith("192–287") and "◀ max length" in text_histogram(cut)[0]
