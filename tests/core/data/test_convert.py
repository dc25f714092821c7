"""Conversion to TRL's native rows: every format for every task it fits, checked with TRL's own data utils
and the tiny model's chat template; implicit prompts, ShareGPT roles, bad rows and task/format mismatches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_formats import SAMPLE_FORMATS

from tuiapp.core.config.choices import TASK_FORMATS
from tuiapp.core.data.convert import (
    RowProblem,
    check_task_format,
    convert_records,
    convert_row,
    preference_triple,
    task_for_format,
)
from tuiapp.core.data.records import DataError, Record, SkippedRow
from tuiapp.core.data.samples import sample_path
from tuiapp.core.data.sources import read_records

SAMPLES = SAMPLE_FORMATS  # sample file -> its format
CASES = [(name, task) for name, fmt in SAMPLES.items() for task, formats in TASK_FORMATS.items() if fmt in formats]
# The columns TRL reads for each task and source format (GRPO keeps the other columns for reward functions).
SHAPES = {
    ("sft", "messages"): {"messages"},
    ("sft", "sharegpt"): {"messages"},
    ("sft", "alpaca"): {"prompt", "completion"},
    ("sft", "prompt_completion"): {"prompt", "completion"},
    ("sft", "text"): {"text"},
    ("dpo", "preference"): {"prompt", "chosen", "rejected"},
    ("orpo", "preference"): {"prompt", "chosen", "rejected"},
    ("kto", "preference"): {"prompt", "completion", "label"},
    ("kto", "kto"): {"prompt", "completion", "label"},
    ("grpo", "messages"): {"prompt"},
    ("grpo", "prompt_completion"): {"prompt"},
    ("grpo", "prompt_only"): {"prompt"},
}
CONVERSATIONAL = {"messages.jsonl", "sharegpt.json", "alpaca.csv", "alpaca.json", "alpaca.parquet"}
CONVERSATIONAL |= {"preference_messages.jsonl"}
USER = {"role": "user", "content": "What is 2 + 2?"}
SYSTEM = {"role": "system", "content": "Be brief."}


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def answer(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def convert(rows: list[dict[str, Any]], fmt: str, task: str) -> list[Record | SkippedRow]:
    return list(convert_records([Record(row, f"d.jsonl:{i}") for i, row in enumerate(rows, 1)], fmt, task))


def one(row: dict[str, Any], fmt: str, task: str = "sft") -> list[dict[str, Any]]:
    return convert_row(row, fmt, task)


def skipped(row: dict[str, Any], fmt: str, task: str = "sft") -> str:
    [item] = convert([row], fmt, task)
    assert isinstance(item, SkippedRow), item
    assert item.where == "d.jsonl:1"
    return item.reason


# --- every sample for every task it fits, as TRL takes it ---------------------------------------------------------


def test_every_task_is_covered_by_some_sample() -> None:
    assert {task for _, task in CASES} == set(TASK_FORMATS)
    assert {(task, SAMPLES[name]) for name, task in CASES} == set(SHAPES)


@pytest.mark.parametrize(("name", "task"), CASES, ids=[f"{n}-{t}" for n, t in CASES])
def test_samples_convert_to_rows_trl_renders(name: str, task: str, tokenizer: Any) -> None:
    from trl.data_utils import apply_chat_template, is_conversational, maybe_apply_chat_template

    fmt = SAMPLES[name]
    records = list(read_records(sample_path(name)))
    items = list(convert_records(records, fmt, task))
    assert all(isinstance(item, Record) for item in items), [i for i in items if isinstance(i, SkippedRow)][:3]
    assert {item.where for item in items} == {record.where for record in records}  # each keeps its source place
    assert len(items) == len(records) * (2 if (task, fmt) == ("kto", "preference") else 1)
    for item in items:
        row = item.data
        trl_columns = set(row) & {"prompt", "completion", "chosen", "rejected", "messages", "text", "label"}
        assert trl_columns == SHAPES[task, fmt], row
        assert is_conversational(row) == (name in CONVERSATIONAL), row
        if task == "grpo":
            assert "completion" not in row and "messages" not in row  # TRL would drop or misread them
        if task == "kto":
            assert isinstance(row["label"], bool)
        if is_conversational(row):
            rendered = apply_chat_template(row, tokenizer, tools=row.get("tools"))
            assert all(isinstance(value, str) and value for key, value in rendered.items() if key != "label")
            if "prompt" in rendered:
                assert rendered["prompt"].endswith("<|im_start|>assistant\n")  # the generation prompt
            for key in ("completion", "chosen", "rejected"):
                if key in rendered:
                    assert rendered[key].endswith("<|im_end|>\n")
                    assert row[key][-1]["content"] in rendered[key]
        else:
            assert maybe_apply_chat_template(row, tokenizer) == row
            assert all(isinstance(row[key], str) and row[key].strip() for key in trl_columns - {"label"})


@pytest.mark.parametrize("name", ["preference.jsonl", "preference_messages.jsonl"])
def test_preference_rows_are_already_what_trl_extracts(name: str) -> None:
    from trl.data_utils import extract_prompt, maybe_extract_prompt

    for item in convert_records(read_records(sample_path(name)), "preference", "dpo"):
        row = item.data
        assert maybe_extract_prompt(row) == row
        if name == "preference_messages.jsonl":  # the source had an implicit prompt: TRL would split it the same
            source = {"chosen": row["prompt"] + row["chosen"], "rejected": row["prompt"] + row["rejected"]}
            assert extract_prompt(source) == row


def test_alpaca_rendered_by_trl_is_the_whole_conversation(tokenizer: Any) -> None:
    from trl.data_utils import apply_chat_template

    [row] = one({"instruction": "Add 2 and 2.", "input": "Show work.", "output": "4", "system": "Be brief."}, "alpaca")
    assert row == {
        "prompt": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Add 2 and 2.\n\nShow work."},
        ],
        "completion": [answer("4")],
    }
    rendered = apply_chat_template(row, tokenizer)
    whole = tokenizer.apply_chat_template(row["prompt"] + row["completion"], tokenize=False)
    assert rendered["prompt"] + rendered["completion"] == whole
    assert rendered["completion"] == "4<|im_end|>\n"  # only the answer carries loss


def test_alpaca_without_input_or_system_is_one_user_turn() -> None:
    [row] = one({"instruction": "Add 2 and 2.", "input": "  ", "output": 4}, "alpaca")
    assert row == {"prompt": [{"role": "user", "content": "Add 2 and 2."}], "completion": [answer("4")]}


def test_messages_keep_tool_calls_and_tools() -> None:
    records = list(read_records(sample_path("messages.jsonl")))
    with_tools = [r for r in records if r.data.get("tools")]
    assert with_tools, "messages.jsonl should hold tool-call rows"
    rows = [item.data for item in convert_records(with_tools, "messages", "sft")]
    assert all(row["tools"] == record.data["tools"] for row, record in zip(rows, with_tools, strict=True))
    calls = [turn for row in rows for turn in row["messages"] if turn.get("tool_calls")]
    assert calls and all(turn["role"] == "assistant" and turn["content"] == "" for turn in calls)
    assert any(turn["role"] == "tool" and turn["tool_call_id"] for row in rows for turn in row["messages"])


def test_grpo_keeps_extra_columns_and_the_reference_answer() -> None:
    [row] = one(
        {"prompt": "2 + 2 =", "answer": "4", "completion": "4", "completion_ids": [1]}, "prompt_completion", "grpo"
    )
    assert row == {"prompt": "2 + 2 =", "answer": "4", "reference_completion": "4"}
    turns = [SYSTEM, USER, answer(""), {"role": "tool", "content": "4"}, answer("It is 4.")]
    [row] = one({"messages": turns, "level": 1}, "messages", "grpo")
    assert row == {"prompt": [SYSTEM, USER], "level": 1, "reference_completion": "It is 4."}
    [row] = one({"prompt": [USER], "answer": "4"}, "prompt_only", "grpo")
    assert row == {"prompt": [USER], "answer": "4"}


def test_kto_unpairs_preference_pairs() -> None:
    rows = one({"prompt": "2 + 2 =", "chosen": " 4", "rejected": " 5"}, "preference", "kto")
    assert rows == [
        {"prompt": "2 + 2 =", "completion": " 4", "label": True},
        {"prompt": "2 + 2 =", "completion": " 5", "label": False},
    ]
    assert one({"prompt": "p", "completion": "c", "label": "no"}, "kto", "kto") == [
        {"prompt": "p", "completion": "c", "label": False}
    ]


def test_kto_rows_also_train_sft_as_prompt_completion() -> None:
    assert one({"prompt": "p", "completion": "c", "label": 1}, "prompt_completion") == [
        {"prompt": "p", "completion": "c"}
    ]


# --- implicit prompts ---------------------------------------------------------------------------------------------


def test_implicit_prompt_of_message_lists_ends_before_the_answers() -> None:
    from trl.data_utils import extract_prompt

    row = {"chosen": [SYSTEM, USER, answer("4")], "rejected": [SYSTEM, USER, answer("5")]}
    assert preference_triple(row) == ([SYSTEM, USER], [answer("4")], [answer("5")])
    assert tuple(extract_prompt(row).values()) == preference_triple(row)


def test_implicit_prompt_of_multi_turn_lists_keeps_earlier_answers() -> None:
    first = [USER, answer("4"), {"role": "user", "content": "And times 3?"}]
    row = {"chosen": [*first, answer("12")], "rejected": [*first, answer("7")]}
    assert preference_triple(row) == (first, [answer("12")], [answer("7")])


def test_answers_that_start_alike_do_not_move_into_the_prompt() -> None:
    same = answer("Sure.")
    row = {"chosen": [USER, same, USER, answer("4")], "rejected": [USER, same]}
    assert preference_triple(row) == ([USER], [same, USER, answer("4")], [same])


def test_implicit_prompt_of_text_splits_at_a_word_with_the_space_on_the_answers() -> None:
    from trl.data_utils import extract_prompt

    row = {"chosen": "Q: what is 2 + 2? A: 4", "rejected": "Q: what is 2 + 2? A: 5"}
    assert preference_triple(row) == ("Q: what is 2 + 2? A:", " 4", " 5")
    assert tuple(extract_prompt(row).values()) == preference_triple(row)  # TRL splits it the same way
    # where TRL would cut inside a word, the prompt stops at the word before
    assert preference_triple({"chosen": "I like cats", "rejected": "I like cars"}) == ("I like", " cats", " cars")


def test_implicit_text_prompt_when_one_answer_extends_the_other() -> None:
    row = {"chosen": "The answer is 4. Because 2 + 2 = 4.", "rejected": "The answer is 4."}
    assert preference_triple(row) == ("The answer is", " 4. Because 2 + 2 = 4.", " 4.")


def test_text_prompt_next_to_message_answers_is_taken_from_the_answers() -> None:
    from trl.data_utils import maybe_extract_prompt

    row = {"prompt": "What is 2 + 2?", "chosen": [USER, answer("4")], "rejected": [USER, answer("5")]}
    assert preference_triple(row) == ([USER], [answer("4")], [answer("5")])  # UltraFeedback's layout
    assert tuple(maybe_extract_prompt(row).values()) == preference_triple(row)
    only_answers = {"prompt": "What is 2 + 2?", "chosen": [answer("4")], "rejected": [answer("5")]}
    assert preference_triple(only_answers) == ([USER], [answer("4")], [answer("5")])


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"chosen": "same", "rejected": "same"}, "`chosen` and `rejected` are identical"),
        ({"chosen": [USER, answer("4")], "rejected": [USER]}, "`rejected` has no answer after the prompt it shares"),
        ({"chosen": [answer("4")], "rejected": [answer("5")]}, "share no prompt turns and there is no `prompt`"),
        ({"chosen": "4", "rejected": [answer("5")]}, "`chosen` and `rejected` mix plain text and message lists"),
        ({"prompt": [USER], "chosen": "4", "rejected": "5"}, "`prompt` and `chosen` mix plain text and message lists"),
        ({"prompt": "p", "chosen": "", "rejected": "5"}, "empty `chosen`"),
        ({"prompt": [SYSTEM], "chosen": [answer("4")], "rejected": [answer("5")]}, "`prompt` ends with a system turn"),
        (
            {"chosen": [SYSTEM, USER, answer("4")], "rejected": [SYSTEM, {"role": "user", "content": "2 + 3?"}]},
            "`chosen` and `rejected` differ at turn 2, before their answers",
        ),
    ],
    ids=["identical", "prefix", "no-prompt", "mixed", "prompt-mixed", "empty", "system-last", "other-question"],
)
def test_unusable_preference_pairs_are_skipped(row: dict[str, Any], reason: str) -> None:
    assert reason in skipped(row, "preference", "dpo")
    assert reason in skipped(row, "preference", "kto")


# --- ShareGPT roles -----------------------------------------------------------------------------------------------


def test_sharegpt_speakers_map_to_roles() -> None:
    turns = [("System", "Be brief."), (" human ", "hi"), ("GPT", "hello"), ("observation", "42"), ("chatgpt", "ok")]
    [row] = one({"conversations": [{"from": who, "value": text} for who, text in turns]}, "sharegpt")
    assert [(t["role"], t["content"]) for t in row["messages"]] == [
        ("system", "Be brief."),
        ("user", "hi"),
        ("assistant", "hello"),
        ("tool", "42"),
        ("assistant", "ok"),
    ]


def test_sharegpt_with_role_content_turns_is_read_as_messages() -> None:
    assert one({"conversations": [USER, answer("4")]}, "sharegpt") == [{"messages": [USER, answer("4")]}]


@pytest.mark.parametrize(
    ("turns", "reason"),
    [
        ([("human", "hi"), ("narrator", "meanwhile")], "turn 2 is from 'narrator'; expected human, gpt or system"),
        ([("human", "hi"), ("gpt", None)], "turn 2 (assistant) has no content"),
        ([("human", "hi"), ("human", "anyone?")], "`conversations` has no non-empty assistant turn to learn from"),
    ],
)
def test_bad_sharegpt_turns_are_skipped(turns: list[tuple[str, Any]], reason: str) -> None:
    row = {"conversations": [{"from": who, "value": text} for who, text in turns]}
    assert skipped(row, "sharegpt") == reason


# --- invalid rows -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "fmt", "task", "reason"),
    [
        ({"instruction": "q", "output": ""}, "alpaca", "sft", "empty `output`"),
        ({"instruction": "q", "output": "  \n"}, "alpaca", "sft", "empty `output`"),
        ({"instruction": "q", "output": None}, "alpaca", "sft", "no `output`"),
        ({"instruction": "q", "output": float("nan")}, "alpaca", "sft", "no `output`"),  # a blank table cell
        ({"instruction": "q", "output": {"a": 1}}, "alpaca", "sft", "`output` is a dict, not text"),
        ({"instruction": "q"}, "alpaca", "sft", "no `output` (alpaca rows need `instruction` and `output`)"),
        ({"messages": [USER]}, "messages", "sft", "`messages` has no non-empty assistant turn to learn from"),
        ({"messages": [USER, answer(" ")]}, "messages", "sft", "`messages` has no non-empty assistant turn"),
        ({"messages": [USER, {"role": "bot", "content": "4"}]}, "messages", "sft", "turn 2 has role 'bot'; expected"),
        (
            {"messages": [{"role": ["user"], "content": "x"}, answer("4")]},
            "messages",
            "sft",
            "turn 1 has role ['user']",
        ),
        ({"messages": [USER, {"role": "assistant", "content": 4}]}, "messages", "sft", "content is a int, not text"),
        ({"messages": [answer("4")]}, "messages", "grpo", "`messages` has no user turn to prompt with"),
        ({"prompt": "p", "completion": "c", "label": "maybe"}, "kto", "kto", "`label` is 'maybe'; KTO labels are"),
        ({"prompt": "p", "completion": [answer("c")], "label": 1}, "kto", "kto", "`prompt` and `completion` mix"),
        ({"prompt": [USER], "completion": "4"}, "prompt_completion", "sft", "`prompt` and `completion` mix"),
        ({"prompt": "", "completion": "4"}, "prompt_completion", "sft", "empty `prompt`"),
        ({"prompt": [SYSTEM], "completion": [answer("4")]}, "prompt_completion", "sft", "ends with a system turn"),
        ({"text": "   "}, "text", "sft", "empty `text`"),
        ({"prompt": {"q": 1}}, "prompt_only", "grpo", "`prompt` is a dict, not text"),
        ({"text": "hi"}, "alpaca", "sft", "looks like text, not alpaca"),
        ({"messages": "hi"}, "messages", "sft", "has `messages`, but not in the shape messages needs"),
    ],
    ids=lambda value: value if isinstance(value, str) and " " not in value else None,
)
def test_invalid_rows_are_skipped_with_their_place_and_reason(
    row: dict[str, Any], fmt: str, task: str, reason: str
) -> None:
    assert reason in skipped(row, fmt, task)
    with pytest.raises(RowProblem) as caught:
        convert_row(row, fmt, task)
    assert reason in str(caught.value)


def test_good_and_bad_rows_keep_their_order_and_places() -> None:
    rows = [{"text": "a"}, {"text": ""}, {"text": "b"}, {"prompt": "p", "completion": "c"}]
    items = convert(rows, "text", "sft")
    assert [(type(i).__name__, i.where) for i in items] == [
        ("Record", "d.jsonl:1"),
        ("SkippedRow", "d.jsonl:2"),
        ("Record", "d.jsonl:3"),
        ("SkippedRow", "d.jsonl:4"),
    ]
    assert items[3].reason == "looks like prompt_completion, not text"  # type: ignore[union-attr]


def test_column_renames_apply_before_conversion() -> None:
    records = [Record({"question": "q", "answer": "a"}, "d.csv:2")]
    [item] = convert_records(records, "alpaca", "sft", {"question": "instruction", "answer": "output"})
    assert item == Record({"prompt": [{"role": "user", "content": "q"}], "completion": [answer("a")]}, "d.csv:2")


# --- tasks and formats --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "task", "fits"),
    [
        ("alpaca", "dpo", "choose task sft, or pick another format with --format"),
        ("text", "grpo", "choose task sft,"),
        ("preference", "sft", "choose task dpo or kto or orpo,"),
        ("kto", "orpo", "choose task kto,"),
        ("sharegpt", "kto", "choose task sft,"),
        ("prompt_only", "sft", "choose task grpo,"),
    ],
)
def test_a_task_that_cannot_train_the_format_names_the_tasks_that_can(fmt: str, task: str, fits: str) -> None:
    with pytest.raises(DataError, match=f"^{fmt} data cannot train task {task} \\(it takes ") as caught:
        check_task_format(fmt, task)
    assert fits in str(caught.value)
    with pytest.raises(DataError, match="cannot train task"):
        list(convert_records([Record({"text": "x"}, "d:1")], fmt, task))


def test_every_allowed_pair_passes_the_check() -> None:
    for task, formats in TASK_FORMATS.items():
        for fmt in formats:
            if fmt != "auto":
                check_task_format(fmt, task)


@pytest.mark.parametrize(
    ("fmt", "task"),
    [("preference", "dpo"), ("kto", "kto"), ("prompt_only", "grpo"), ("messages", "sft"), ("alpaca", "sft"),
     ("sharegpt", "sft"), ("prompt_completion", "sft"), ("text", "sft")],
)  # fmt: skip
def test_default_task_for_each_format(fmt: str, task: str) -> None:
    assert task_for_format(fmt) == task
    check_task_format(fmt, task)
