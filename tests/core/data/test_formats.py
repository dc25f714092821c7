"""Format detection: every format from the shipped samples and from hand-written rows, confidence, mixed
formats, unknown shapes with their `--map` suggestions, and renames that make a file detectable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tuiapp.core.data.formats import (
    FORMAT_SHAPES,
    REQUIRED_FIELDS,
    apply_columns,
    as_label,
    closest_format,
    detect_format,
    mapping_suggestions,
    not_fitting,
    row_format,
)
from tuiapp.core.data.samples import list_samples, sample_path
from tuiapp.core.data.sources import read_records

SAMPLE_FORMATS = {
    "alpaca.csv": "alpaca",
    "alpaca.json": "alpaca",
    "alpaca.parquet": "alpaca",
    "grpo_math.jsonl": "prompt_only",
    "kto.jsonl": "kto",
    "messages.jsonl": "messages",
    "plain_text.jsonl": "text",
    "preference.jsonl": "preference",
    "preference_messages.jsonl": "preference",
    "prompt_completion.jsonl": "prompt_completion",
    "sharegpt.json": "sharegpt",
    "text.txt": "text",
}
USER = {"role": "user", "content": "What is 2 + 2?"}
ANSWER = {"role": "assistant", "content": "4"}
WRONG = {"role": "assistant", "content": "5"}
# One hand-written row per format, in the shapes found in the wild.
ROWS: list[tuple[str, dict[str, Any]]] = [
    ("messages", {"messages": [USER, ANSWER]}),
    ("messages", {"messages": [USER, {"role": "assistant", "content": None, "tool_calls": []}], "tools": []}),
    ("sharegpt", {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]}),
    ("sharegpt", {"conversations": [USER, ANSWER]}),  # role/content turns under `conversations`
    ("alpaca", {"instruction": "Add 2 and 2.", "input": "", "output": "4"}),
    ("alpaca", {"instruction": "Add.", "output": "4", "system": "Be brief."}),
    ("prompt_completion", {"prompt": "2 + 2 =", "completion": " 4"}),
    ("prompt_completion", {"prompt": [USER], "completion": [ANSWER]}),
    ("text", {"text": "Two plus two is four."}),
    ("preference", {"prompt": "2 + 2 =", "chosen": " 4", "rejected": " 5"}),
    ("preference", {"chosen": [USER, ANSWER], "rejected": [USER, WRONG]}),  # implicit prompt
    ("kto", {"prompt": "2 + 2 =", "completion": " 4", "label": True}),
    ("kto", {"prompt": "2 + 2 =", "completion": " 5", "label": "false"}),  # as a CSV writes it
    ("prompt_only", {"prompt": "2 + 2 =", "answer": "4"}),
    ("prompt_only", {"prompt": [USER], "answer": "4"}),
]


def sample_rows(name: str) -> list[dict[str, Any]]:
    return [record.data for record in read_records(sample_path(name))]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- every format -------------------------------------------------------------------------------------------------


def test_every_sample_has_an_expected_format() -> None:
    assert sorted(SAMPLE_FORMATS) == list_samples()
    assert set(SAMPLE_FORMATS.values()) == set(FORMAT_SHAPES)  # every format has a sample


@pytest.mark.parametrize("name", sorted(SAMPLE_FORMATS))
def test_each_sample_is_detected_with_full_confidence(name: str) -> None:
    rows = sample_rows(name)
    detection = detect_format(rows)
    fmt = SAMPLE_FORMATS[name]
    assert (detection.format, detection.confidence, detection.problems) == (fmt, 1.0, [])
    assert detection.counts == {fmt: len(rows)}
    assert detection.explanation == f"all {len(rows)} sampled rows have {FORMAT_SHAPES[fmt]}"
    assert set(REQUIRED_FIELDS[fmt]) <= set(detection.columns)


@pytest.mark.parametrize(("fmt", "row"), ROWS, ids=[f"{fmt}-{i}" for i, (fmt, _) in enumerate(ROWS)])
def test_hand_written_rows_get_their_format(fmt: str, row: dict[str, Any]) -> None:
    assert row_format(row) == fmt
    detection = detect_format([row, row])
    assert (detection.format, detection.confidence) == (fmt, 1.0)
    assert detection.explanation.startswith("all 2 sampled rows have")


@pytest.mark.parametrize(
    "row",
    [
        {"messages": "hi"},
        {"messages": []},
        {"messages": [{"role": "user"}]},  # no content
        {"messages": ["hi", "there"]},
        {"conversations": [{"from": "human"}]},
        {"chosen": 1, "rejected": "x"},
        {"chosen": "x"},
        {"prompt": "p", "completion": "c", "label": "maybe"},
        {"prompt": "p", "completion": {"text": "c"}},
        {"instruction": "only half"},
        {"text": 5},
        {"prompt": 7},
        {},
    ],
    ids=repr,
)
def test_rows_of_no_format(row: dict[str, Any]) -> None:
    assert row_format(row) is None
    assert detect_format([row]).format is None


def test_a_non_dict_row_has_no_format() -> None:
    assert row_format(["text"]) is None  # type: ignore[arg-type]
    assert detect_format([["text"], "text"]).format is None


@pytest.mark.parametrize(
    ("value", "label"),
    [(True, True), (False, False), (1, True), (0, False), ("true", True), (" FALSE ", False), ("yes", True),
     ("no", False), ("1", True), ("0", False), (2, None), ("maybe", None), (None, None), (1.0, None), ([], None)],
)  # fmt: skip
def test_kto_labels(value: Any, label: bool | None) -> None:
    assert as_label(value) is label


# --- confidence and problems --------------------------------------------------------------------------------------


def test_confidence_is_the_share_of_rows_that_fit() -> None:
    rows = [{"instruction": f"q{i}", "output": "a"} for i in range(3)] + [{"text": "stray"}]
    detection = detect_format(rows)
    assert (detection.format, detection.confidence) == ("alpaca", 0.75)
    assert detection.explanation.startswith("3 of 4 sampled rows have `instruction` and `output`")
    assert detection.counts == {"alpaca": 3, "text": 1}


def test_mixed_formats_are_a_problem_naming_both() -> None:
    rows = sample_rows("plain_text.jsonl")[:6] + sample_rows("prompt_completion.jsonl")[:2]
    detection = detect_format(rows)
    assert (detection.format, detection.confidence) == ("text", 0.75)
    assert detection.problems == [
        "mixed formats: 6 rows look like text but 2 look like prompt_completion; "
        "rows that do not fit text will be dropped"
    ]


def test_the_most_common_format_wins_whatever_the_order() -> None:
    rows = [{"text": "a"}] + [{"prompt": "p", "completion": "c"}] * 2
    assert detect_format(rows).format == "prompt_completion"
    assert detect_format(rows[::-1]).format == "prompt_completion"


def test_rows_fitting_no_format_are_a_problem_naming_the_missing_field() -> None:
    rows = [{"instruction": "q", "output": "a"}] * 4 + [{"instruction": "q"}]
    detection = detect_format(rows)
    assert (detection.format, detection.confidence) == ("alpaca", 0.8)
    assert detection.problems == [
        "1 sampled rows fit no format (e.g. no `output` (alpaca rows need `instruction` and `output`)); "
        "they will be dropped"
    ]


def test_no_rows_is_no_format() -> None:
    detection = detect_format([])
    assert (detection.format, detection.confidence, detection.explanation) == (
        None,
        0.0,
        "there are no rows to look at",
    )


def test_detection_to_json_carries_every_field() -> None:
    detection = detect_format([{"question": "q", "answer": "a"}])
    assert detection.to_json() == {
        "format": None,
        "confidence": 0.0,
        "explanation": detection.explanation,
        "problems": [],
        "counts": {},
        "columns": ["question", "answer"],
        "suggestions": ["question=instruction", "answer=output"],
    }


# --- unknown shapes, suggestions and renames ----------------------------------------------------------------------


def test_unknown_columns_give_mapping_suggestions() -> None:
    rows = [{"question": "What is 2 + 2?", "answer": "4"}] * 3
    detection = detect_format(rows)
    assert (detection.format, detection.confidence, detection.counts) == (None, 0.0, {})
    assert detection.suggestions == ["question=instruction", "answer=output"]
    assert detection.explanation.startswith(
        "no known format fits the columns `question`, `answer`; try --map question=instruction answer=output. "
        "Known formats: messages: "
    )
    assert all(shape in detection.explanation for shape in FORMAT_SHAPES.values())


def test_unknown_columns_without_synonyms_get_the_general_hint() -> None:
    detection = detect_format([{"foo": 1, "bar": 2}])
    assert detection.suggestions == []
    assert "`foo`, `bar`; rename columns with --map name=expected. Known formats" in detection.explanation


def test_half_a_format_names_it_and_the_missing_columns() -> None:
    detection = detect_format([{"instruction": "q", "id": 3}])
    assert detection.format is None
    assert "they look like alpaca rows without `output` (alpaca needs `instruction` and `output`)" in (
        detection.explanation
    )
    assert closest_format(["prompt", "completion"]) == ("kto", ["label"])
    assert closest_format(["chosen", "id"]) == ("preference", ["rejected"])
    assert closest_format(["id", "body2"]) is None


def test_right_columns_wrong_shape_say_so() -> None:
    detection = detect_format([{"messages": "User: hi\nAssistant: hello"}])
    assert "the rows have `messages`, but not in the shape messages needs: a `messages` list" in detection.explanation
    assert not_fitting({"prompt": "p", "completion": "c", "label": "maybe"}, "kto") == (
        "`label` is 'maybe'; KTO labels are true or false (or 1/0, yes/no)"
    )
    assert not_fitting({"instruction": "q"}, "prompt_completion") == (
        "no `prompt` and `completion` (prompt_completion rows need `prompt` and `completion`)"
    )


def test_suggestions_skip_names_already_present() -> None:
    assert mapping_suggestions(["Question", "instruction", "Response"]) == ["Response=output"]
    assert mapping_suggestions(["dialog"]) == ["dialog=messages"]
    assert mapping_suggestions([]) == []


def test_renames_make_the_suggested_format_detectable(tmp_path: Path) -> None:
    path = write(tmp_path / "qa.csv", "question,answer\nWhat is 2 + 2?,4\nCapital of France?,Paris\n")
    rows = [record.data for record in read_records(path)]
    detection = detect_format(rows)
    assert detection.format is None
    mapping = dict(pair.split("=") for pair in detection.suggestions)
    renamed = [apply_columns(row, mapping) for row in rows]
    assert renamed[0] == {"instruction": "What is 2 + 2?", "output": "4"}
    assert (detect_format(renamed).format, detect_format(renamed).confidence) == ("alpaca", 1.0)


def test_renames_reach_every_format() -> None:
    row = {"conversation": [USER, ANSWER], "id": 7}
    assert detect_format([row]).suggestions == ["conversation=messages"]
    assert row_format(apply_columns(row, {"conversation": "messages"})) == "messages"
    preference = {"q": "2 + 2 =", "good": " 4", "bad": " 5"}
    renamed = apply_columns(preference, {"q": "prompt", "good": "chosen", "bad": "rejected"})
    assert renamed == {"prompt": "2 + 2 =", "chosen": " 4", "rejected": " 5"}
    assert row_format(renamed) == "preference"


def test_apply_columns_leaves_other_keys_and_an_empty_mapping_alone() -> None:
    row = {"question": "q", "answer": "a", "id": 1}
    assert apply_columns(row, {}) is row
    assert apply_columns(row, {"question": "prompt", "missing": "x"}) == {"prompt": "q", "answer": "a", "id": 1}
