"""Property tests: whatever rows or bytes come in, detection and conversion give a Detection, Records and
SkippedRows, or a DataError: never another exception, and never a row TRL cannot take."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuiapp.core.config.choices import TASK_FORMATS
from tuiapp.core.data.clean import clean_rows
from tuiapp.core.data.convert import GRPO_RESERVED, convert_records
from tuiapp.core.data.formats import FORMAT_SHAPES, detect_format
from tuiapp.core.data.records import DataError, ReadReport, Record, SkippedRow
from tuiapp.core.data.sources import read_records

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# The column names the formats look for, plus a few others, so that random rows often come close to a format.
NAMES = ["messages", "conversations", "instruction", "input", "output", "prompt", "completion", "chosen"]
NAMES += ["rejected", "label", "text", "system", "tools", "answer", "question", "completion_ids", "completions"]
ROLES = ["user", "assistant", "system", "tool", "human", "gpt", "bot", ""]
# Which TRL columns each task's rows may carry (GRPO keeps any others for its reward functions).
TASK_COLUMNS = {
    "sft": [{"messages"}, {"prompt", "completion"}, {"text"}],
    "dpo": [{"prompt", "chosen", "rejected"}],
    "orpo": [{"prompt", "chosen", "rejected"}],
    "kto": [{"prompt", "completion", "label"}],
}
TRL_COLUMNS = {"messages", "prompt", "completion", "chosen", "rejected", "label", "text"}

scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_infinity=False) | st.text(max_size=6)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)
turns = st.fixed_dictionaries(
    {},
    optional={
        "role": st.sampled_from(ROLES) | json_values,
        "content": st.text(max_size=8) | json_values,
        "from": st.sampled_from(ROLES),
        "value": st.text(max_size=8) | st.none(),
        "tool_calls": st.just([{"type": "function"}]) | st.just([]),
    },
)
values = json_values | st.lists(turns, max_size=4) | st.sampled_from([True, False, "yes", "0", "maybe", 1])
loose_rows = st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=6), values, max_size=5)

# Rows built in a format's shape (then sometimes spoiled), so that conversion gets past its first checks.
words = st.text(st.sampled_from("ab ?\n"), max_size=8)
turn = st.fixed_dictionaries(
    {"role": st.sampled_from(ROLES[:4]) | st.sampled_from(ROLES), "content": words | st.none()},
    optional={"tool_calls": st.just([{"type": "function", "function": {"name": "f", "arguments": {}}}])},
)
chat = st.lists(turn, min_size=1, max_size=4)
text_or_chat = words | chat
speaker = st.fixed_dictionaries({"from": st.sampled_from(["human", "gpt", "system", "observation", "narrator"]),
                                 "value": words | st.none()})  # fmt: skip
shared_start = st.one_of(
    st.tuples(words, words, words), st.tuples(st.lists(turn, max_size=3), chat, st.lists(turn, max_size=2))
).map(lambda parts: {"chosen": parts[0] + parts[1], "rejected": parts[0] + parts[2]})
labels = st.sampled_from([True, False, 0, 1, "yes", "no", "maybe", None, 2])
shaped_rows = st.one_of(
    st.fixed_dictionaries({"messages": chat}, optional={"tools": st.just([]), "answer": words}),
    st.fixed_dictionaries({"conversations": st.lists(speaker | turn, min_size=1, max_size=4)}),
    st.fixed_dictionaries(
        {"instruction": words, "output": words | scalars}, optional={"input": words, "system": words}
    ),
    st.fixed_dictionaries({"prompt": text_or_chat, "completion": text_or_chat}, optional={"label": labels}),
    st.fixed_dictionaries({"text": words}),
    shared_start,
    st.fixed_dictionaries({"prompt": text_or_chat, "chosen": text_or_chat, "rejected": text_or_chat}),
    st.fixed_dictionaries({"prompt": text_or_chat}, optional={"answer": json_values, "completions": words}),
)
spoiled_rows = st.tuples(shaped_rows, st.sampled_from(NAMES), values).map(lambda t: {**t[0], t[1]: t[2]})
rows = shaped_rows | spoiled_rows | loose_rows


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def check_converted(items: list[Record | SkippedRow], task: str, places: set[str], tokenizer: Any = None) -> None:
    """Only Records in TRL's shape for the task and SkippedRows with a reason, all from known places; with a
    tokenizer, TRL's own `apply_chat_template` renders every conversational row."""
    from trl.data_utils import apply_chat_template, is_conversational

    for item in items:
        assert isinstance(item, Record | SkippedRow), item
        assert item.where in places
        if isinstance(item, SkippedRow):
            assert item.reason.strip()
            continue
        assert isinstance(item.data, dict)
        if task == "grpo":  # the prompt, and other columns for reward functions under names TRL leaves alone
            assert "prompt" in item.data and not set(item.data) & GRPO_RESERVED - {"prompt"}, item.data
        else:
            assert set(item.data) & TRL_COLUMNS in TASK_COLUMNS[task], item.data
        if task in ("dpo", "orpo", "kto"):
            answers = [item.data[k] for k in ("prompt", "chosen", "rejected", "completion") if k in item.data]
            assert len({isinstance(value, list) for value in answers}) == 1, item.data  # all text or all turns
        if task == "kto":
            assert isinstance(item.data["label"], bool)
        if tokenizer is None:
            continue
        if task == "grpo":  # GRPO reads only the prompt, and renders it with a generation prompt
            if is_conversational({"prompt": item.data["prompt"]}):
                tokenizer.apply_chat_template(item.data["prompt"], add_generation_prompt=True, tokenize=False)
            continue
        trl_row = {key: item.data[key] for key in item.data if key in TRL_COLUMNS}
        if is_conversational(trl_row):
            rendered = apply_chat_template(trl_row, tokenizer)
            assert all(isinstance(value, str) for key, value in rendered.items() if key != "label")


@SETTINGS
@given(sample=st.lists(rows, max_size=6))
def test_random_rows_never_break_detection_or_conversion(sample: list[dict[str, Any]], tokenizer: Any) -> None:
    detection = detect_format(sample)
    assert detection.format is None or detection.format in FORMAT_SHAPES
    assert 0.0 <= detection.confidence <= 1.0
    assert sum(detection.counts.values()) <= len(sample)
    assert detection.explanation
    records = [Record(row, f"d.jsonl:{i}") for i, row in enumerate(sample, 1)]
    places = {record.where for record in records}
    for task, formats in TASK_FORMATS.items():
        for fmt in formats:
            if fmt == "auto":
                continue
            items = list(convert_records(records, fmt, task))
            check_converted(items, task, places, tokenizer)
            clean_rows(items, dedupe=True)


@SETTINGS
@given(sample=st.lists(rows, min_size=1, max_size=6), task=st.sampled_from(sorted(TASK_FORMATS)))
def test_a_detected_format_converts_its_own_rows(sample: list[dict[str, Any]], task: str, tokenizer: Any) -> None:
    detection = detect_format(sample)
    if detection.format is None or detection.format not in TASK_FORMATS[task]:
        return
    records = [Record(row, f"d:{i}") for i, row in enumerate(sample, 1)]
    items = list(convert_records(records, detection.format, task))
    check_converted(items, task, {record.where for record in records}, tokenizer)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("format_properties")


def doctor(path: Path, skip_bad: bool) -> None:
    """Read, detect and convert as the doctor does: anything but a DataError fails the test."""
    try:
        records = list(read_records(path, skip_bad=skip_bad, report=ReadReport()))
    except DataError as exc:
        assert str(exc)
        return
    detection = detect_format([record.data for record in records])
    if detection.format is None:
        return
    for task, formats in TASK_FORMATS.items():
        if detection.format in formats:
            check_converted(list(convert_records(records, detection.format, task)), task, {r.where for r in records})


@SETTINGS
@given(content=st.binary(max_size=300), suffix=st.sampled_from([".jsonl", ".json", ".csv"]), skip_bad=st.booleans())
def test_random_bytes_give_rows_or_a_data_error(scratch: Path, content: bytes, suffix: str, skip_bad: bool) -> None:
    path = scratch / f"bytes{suffix}"
    path.write_bytes(content)
    doctor(path, skip_bad)


@SETTINGS
@given(
    content=st.text(alphabet='{}[]",:\\ \n\tabc01-.eEtrufalsn\x00é', max_size=200)
    | st.lists(rows, max_size=4).map(lambda sample: "\n".join(map(repr, sample))),
    suffix=st.sampled_from([".jsonl", ".json", ".csv"]),
)
def test_json_like_text_gives_rows_or_a_data_error(scratch: Path, content: str, suffix: str) -> None:
    path = scratch / f"text{suffix}"
    path.write_text(content, encoding="utf-8", errors="surrogatepass", newline="")
    doctor(path, skip_bad=False)
    doctor(path, skip_bad=True)


@SETTINGS
@given(sample=st.lists(rows, min_size=1, max_size=5))
def test_json_lines_of_random_rows_read_detect_and_convert(scratch: Path, sample: list[dict[str, Any]]) -> None:
    import json

    path = scratch / "rows.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in sample), encoding="utf-8", errors="surrogatepass")
    doctor(path, skip_bad=False)


def test_content_parts_become_text_and_anything_else_in_a_list_is_refused(tokenizer: Any) -> None:
    """An empty parts list once reached the chat template, which concatenates content as a string (TypeError)."""
    parts = [{"type": "text", "text": "Hello, "}, {"type": "text", "text": "there"}]
    rows = [
        {"messages": [{"role": "user", "content": parts}, {"role": "assistant", "content": "Hi"}]},
        {"messages": [{"role": "user", "content": []}, {"role": "assistant", "content": "Hi"}]},
        {"messages": [{"role": "user", "content": [{"type": "image", "url": "x.png"}]}]},
    ]
    records = [Record(row, f"d.jsonl:{i}") for i, row in enumerate(rows, 1)]
    kept, empty, image = list(convert_records(records, "messages", "sft"))
    assert kept.data["messages"][0]["content"] == "Hello, there"
    tokenizer.apply_chat_template(kept.data["messages"], tokenize=False)
    assert isinstance(empty, SkippedRow) and "turn 1 (user) has no content" in empty.reason
    assert isinstance(image, SkippedRow) and "not all text parts" in image.reason
