"""Cleaning converted rows: exact duplicates, dropped rows with examples, and the seeded eval split."""

from __future__ import annotations

import pytest

from tuiapp.core.data.clean import KEEP_EXAMPLES, Duplicates, clean_rows, eval_count, row_key, split_eval
from tuiapp.core.data.records import DataError, Record, SkippedRow


def records(texts: list[str]) -> list[Record]:
    return [Record({"text": text}, f"d.txt:{i}") for i, text in enumerate(texts, 1)]


def texts(rows: list[dict]) -> list[str]:
    return [row["text"] for row in rows]


NUMBERED = [f"row {i}" for i in range(50)]


# --- duplicates ---------------------------------------------------------------------------------------------------


def test_dedupe_drops_exact_repeats_and_counts_them() -> None:
    cleaned = clean_rows(records(["a", "b", "a", "c", "b", "a"]), dedupe=True)
    assert texts(cleaned.rows) == ["a", "b", "c"]  # the first of each, in order
    assert cleaned.duplicates == 3
    assert cleaned.summary() == {"kept": 3, "eval": 0, "dropped": 0, "dropped_examples": [], "duplicates": 3}


def test_without_dedupe_repeats_stay() -> None:
    cleaned = clean_rows(records(["a", "a", "a"]))
    assert (texts(cleaned.rows), cleaned.duplicates) == (["a", "a", "a"], 0)


def test_duplicates_are_exact_but_ignore_key_order() -> None:
    repeats = Duplicates()
    assert not repeats.is_repeat({"prompt": "p", "completion": "c"})
    assert repeats.is_repeat({"completion": "c", "prompt": "p"})
    assert not repeats.is_repeat({"prompt": "p", "completion": "c "})  # one space differs
    assert not repeats.is_repeat({"prompt": [{"role": "user", "content": "p"}], "completion": "c"})
    assert repeats.count == 1
    assert row_key({"a": 1}) != row_key({"a": "1"})
    assert row_key({"a": "\ud800"}) == row_key({"a": "\ud800"})  # a lone surrogate from JSON does not break it


# --- dropped rows -------------------------------------------------------------------------------------------------


def test_dropped_rows_are_counted_with_the_first_examples_kept() -> None:
    items: list[Record | SkippedRow] = []
    for i in range(1, 9):
        items += [Record({"text": f"ok {i}"}, f"d:{2 * i - 1}"), SkippedRow(f"d:{2 * i}", f"empty `output` ({i})")]
    cleaned = clean_rows(items)
    assert KEEP_EXAMPLES == 5
    assert (len(cleaned.rows), cleaned.dropped) == (8, 8)
    assert cleaned.dropped_examples == [SkippedRow(f"d:{2 * i}", f"empty `output` ({i})") for i in range(1, 6)]
    assert cleaned.summary()["dropped_examples"][0] == {"where": "d:2", "reason": "empty `output` (1)"}


def test_every_row_dropped_leaves_nothing_and_no_split() -> None:
    cleaned = clean_rows([SkippedRow("d:1", "empty `text`")], eval_size=0.5)
    assert (cleaned.rows, cleaned.eval_rows, cleaned.dropped) == ([], [], 1)


# --- eval split ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "rows", "held"),
    [(0, 100, 0), (-1, 100, 0), (0.1, 100, 10), (0.05, 10, 1), (0.01, 10, 1), (0.25, 10, 2), (5, 100, 5), (5.0, 9, 5)],
)
def test_eval_count_is_a_fraction_below_one_or_a_row_count(size: float, rows: int, held: int) -> None:
    assert eval_count(size, rows) == held


def test_eval_split_is_seeded_disjoint_and_complete() -> None:
    rows = [{"text": text} for text in NUMBERED]
    train, held = split_eval(rows, 0.2, seed=7)
    assert (len(train), len(held)) == (40, 10)
    assert sorted(texts(train) + texts(held)) == sorted(NUMBERED)
    assert not set(texts(train)) & set(texts(held))
    assert split_eval(rows, 0.2, seed=7) == (train, held)  # the same seed, the same split
    assert split_eval(rows, 0.2, seed=8)[1] != held
    assert texts(train) == [t for t in NUMBERED if t in set(texts(train))]  # train rows keep their order
    assert texts(held) == [t for t in NUMBERED if t in set(texts(held))]


def test_clean_rows_splits_after_dedupe_with_its_seed() -> None:
    source = records(NUMBERED + NUMBERED[:10])
    cleaned = clean_rows(source, dedupe=True, eval_size=10, seed=3)
    assert (len(cleaned.rows), len(cleaned.eval_rows), cleaned.duplicates) == (40, 10, 10)
    assert not set(texts(cleaned.rows)) & set(texts(cleaned.eval_rows))
    again = clean_rows(records(NUMBERED + NUMBERED[:10]), dedupe=True, eval_size=10, seed=3)
    assert again.eval_rows == cleaned.eval_rows
    assert cleaned.summary()["eval"] == 10 and cleaned.summary()["kept"] == 40


def test_no_eval_size_holds_nothing_out() -> None:
    rows = [{"text": text} for text in NUMBERED]
    assert split_eval(rows, 0, seed=1) == (rows, [])


@pytest.mark.parametrize("size", [50, 60, 0.999])
def test_an_eval_size_that_leaves_no_training_rows_is_an_error(size: float) -> None:
    with pytest.raises(DataError, match=f"eval_size {size} leaves no training rows out of 50; lower it"):
        clean_rows(records(NUMBERED), eval_size=size)


def test_the_largest_eval_size_leaves_one_training_row() -> None:
    cleaned = clean_rows(records(NUMBERED), eval_size=49)
    assert (len(cleaned.rows), len(cleaned.eval_rows)) == (1, 49)
