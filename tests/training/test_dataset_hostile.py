"""The dataset doctor and the training datasets on hostile input: a linear, screen-sized preview of a very long
row, a missing --model folder refused as `plan` refuses it, and inspect and train agreeing on lone surrogates,
renames of missing columns, Hub-only settings on a local file, and rows skipped while reading (counted)."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tuiapp.core.config import validate_config
from tuiapp.core.data.inspect_request import InspectRequest
from tuiapp.core.data.records import DataError
from tuiapp.core.models.resolve import ModelResolveError, resolve_model
from tuiapp.training.dataset_inspect import inspect_dataset

WORDS = ["the", "model", "learns", "to", "answer", "questions", "about", "numbers", "cities", "colours", "and", "code"]


def long_text(words: int) -> str:
    return " ".join(WORDS[i % len(WORDS)] for i in range(words))


def events_of(request: InspectRequest) -> dict[str, Any]:
    events: dict[str, Any] = {}
    inspect_dataset(request, lambda event: events.update({event["event"]: event}))
    return events


def chat_file(path: Path, words: int) -> Path:
    turns = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": long_text(words)}]
    path.write_text(json.dumps({"messages": turns}) + "\n", encoding="utf-8")
    return path


def preview_seconds(tmp_path: Path, model: Path, words: int) -> tuple[float, dict[str, Any]]:
    source = chat_file(tmp_path / f"row{words}.jsonl", words)
    start = time.perf_counter()
    events = events_of(InspectRequest(source=str(source), model=str(model)))
    return time.perf_counter() - start, events


def test_a_long_row_previews_in_linear_time_and_screen_size(tmp_path: Path, tiny_model_dir: Path) -> None:
    preview_seconds(tmp_path, tiny_model_dir, 100)  # imports and the tokenizer's first load out of the way
    short, _ = preview_seconds(tmp_path, tiny_model_dir, 4_000)
    long, events = preview_seconds(tmp_path, tiny_model_dir, 32_000)  # ~74k tokens: minutes when quadratic
    assert long < 60, f"{long:.1f} s for a 74k-token row"  # quadratic marking took about ten minutes
    assert long / max(short, 0.05) < 8 * 4, (short, long)  # 8x the tokens; quadratic was ~64x
    row = events["rows"]["rows"][0]
    shown = "".join(piece for piece, _ in row["pieces"])
    assert len(shown) < 7_000 and row["hidden_chars"] > 100_000
    assert row["tokens"] == events["stats"]["max"] > 60_000  # the counts cover the whole row
    assert row["loss_tokens"] > 60_000
    assert len(json.dumps(events["rows"])) < 100_000


def test_the_cut_preview_keeps_loss_marks_and_says_how_much_follows(tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    from tuiapp.training.chat_render import PREVIEW_CHARS, prepare_template, render_row

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    template = prepare_template(tokenizer)
    text = long_text(5_000)
    rendered = render_row(
        tokenizer,
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": text}]},
        template.assistant_only,
    )
    full = tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}, {"role": "assistant", "content": text}], tokenize=False
    )
    shown = "".join(piece for piece, _ in rendered.pieces)
    assert full.startswith(shown) and PREVIEW_CHARS <= len(shown) < PREVIEW_CHARS + 100
    assert rendered.hidden_chars == len(full) - len(shown)
    assert [learns for _, learns in rendered.pieces[:4]] == [False] * 4 and rendered.pieces[-1][1]


def test_a_missing_model_folder_is_refused_as_plan_refuses_it(tmp_path: Path) -> None:
    source = chat_file(tmp_path / "rows.jsonl", 10)
    with pytest.raises(ModelResolveError) as plan_error:
        resolve_model("/nonexistent/model")
    with pytest.raises(ModelResolveError) as inspect_error:
        events_of(InspectRequest(source=str(source), model="/nonexistent/model"))
    assert str(inspect_error.value) == str(plan_error.value)


def make_config(source: Path, **dataset: Any) -> Any:
    return validate_config(
        {"model": {"name_or_path": "org/tiny"}, "task": "sft", "dataset": {"source": str(source), **dataset}}
    )


def build(source: Path, **dataset: Any) -> Any:
    from tuiapp.training.trl_dataset import build_trl_datasets

    return build_trl_datasets(make_config(source, **dataset))


def surrogate_file(path: Path) -> Path:
    lines = ['{"text": "one"}', '{"text": "two \\ud800"}', '{"text": "three"}']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_inspect_and_train_refuse_a_lone_surrogate_alike(tmp_path: Path) -> None:
    source = surrogate_file(tmp_path / "rows.jsonl")
    with pytest.raises(DataError, match=r"rows\.jsonl:2: `text` holds a lone surrogate") as inspected:
        events_of(InspectRequest(source=str(source)))
    with pytest.raises(DataError) as trained:
        build(source)
    assert str(trained.value) == str(inspected.value)


def test_skip_bad_leaves_surrogate_rows_out_and_counts_them_in_both(tmp_path: Path) -> None:
    source = surrogate_file(tmp_path / "rows.jsonl")
    events = events_of(InspectRequest(source=str(source), skip_bad=True))
    assert events["read"]["skipped"] == 1 and events["cleaned"]["kept"] == 2
    train, _, counts = build(source, skip_bad=True)
    assert len(train) == 2
    assert counts.dropped_count == 1 and "lone surrogate" in counts.dropped[0].reason


def test_a_rename_of_a_missing_column_is_refused_in_inspect_and_train(tmp_path: Path) -> None:
    source = tmp_path / "rows.jsonl"
    source.write_text('{"question": "q", "output": "a", "instruction": "i"}\n', encoding="utf-8")
    with pytest.raises(DataError, match="`questoin=instruction` names no column") as inspected:
        events_of(InspectRequest(source=str(source), columns={"questoin": "instruction"}))
    with pytest.raises(DataError) as trained:
        build(source, columns={"questoin": "instruction"})
    assert str(trained.value) == str(inspected.value)


def test_hub_settings_on_a_local_file_are_refused_in_train(tmp_path: Path) -> None:
    source = surrogate_file(tmp_path / "rows.jsonl")
    with pytest.raises(DataError, match="local file or folder, which has one split"):
        build(source, split="validation")
    with pytest.raises(DataError, match="local file or folder, which has one split"):
        build(source, config_name="default")


def test_a_preview_of_a_row_with_many_columns_stays_small(tmp_path: Path) -> None:
    source = tmp_path / "wide.jsonl"
    row = {"text": "hello"} | {f"{'k' * 1000}{i}": i for i in range(5_000)}
    source.write_text(json.dumps(row) + "\n", encoding="utf-8")
    events = events_of(InspectRequest(source=str(source)))
    assert len(json.dumps(events["read"])) < 20_000
    assert len(json.dumps(events["rows"])) < 20_000
    assert len(json.dumps(events["detected"])) < 50_000


def notes_of(events_list: list[dict[str, Any]]) -> list[str]:
    return [event["message"] for event in events_list if event["event"] == "note"]


def all_events(request: InspectRequest) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    inspect_dataset(request, seen.append)
    return seen


def test_columns_training_leaves_out_are_named(tmp_path: Path) -> None:
    source = tmp_path / "rows.jsonl"
    source.write_text('{"instruction": "i", "output": "o", "category": "c", "inptu": "typo"}\n', encoding="utf-8")
    notes = notes_of(all_events(InspectRequest(source=str(source))))
    assert any("2 column(s) left out of training (not read): `category`, `inptu`" in note for note in notes), notes


def test_grpo_columns_under_trl_names_are_named(tmp_path: Path) -> None:
    source = tmp_path / "rows.jsonl"
    source.write_text('{"prompt": "p", "answer": "4", "completions": "x"}\n', encoding="utf-8")
    notes = notes_of(all_events(InspectRequest(source=str(source))))
    assert any("1 column(s) left out of training (TRL passes" in note and "`completions`" in note for note in notes)
    assert not any("`answer`" in note for note in notes)  # reward functions get it


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_training_on_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "rows.jsonl"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []
    thread = threading.Thread(target=lambda: _capture(outcome, lambda: build(fifo)), daemon=True)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "building the training set blocked on the FIFO"
    assert isinstance(outcome[0], DataError) and "is a FIFO (named pipe), not a file" in str(outcome[0])


def _capture(outcome: list[BaseException], call: Any) -> None:
    try:
        call()
    except BaseException as exc:  # handed to the test
        outcome.append(exc)
