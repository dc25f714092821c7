"""The datasets a run trains on: built from a config for each sample and task, eval splits, dedupe, dropped
rows, the large-source path through the Arrow cache, and Hub ids offline (a DataError, never a traceback)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tuiapp.core.config import validate_config
from tuiapp.core.data.records import DataError
from tuiapp.core.data.samples import sample_path

TOOL_ROWS = 3  # messages.jsonl rows that carry a `tools` list


def make_config(source: str | Path, task: str = "sft", seed: int = 42, **dataset: Any) -> Any:
    return validate_config(
        {
            "model": {"name_or_path": "org/tiny"},
            "task": task,
            "dataset": {"source": str(source), **dataset},
            "training": {"seed": seed},
        }
    )


def build(source: str | Path, task: str = "sft", seed: int = 42, **dataset: Any) -> tuple[Any, Any, Any]:
    from tuiapp.training.trl_dataset import build_trl_datasets

    return build_trl_datasets(make_config(source, task, seed, **dataset))


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def datasets_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Arrow caches written by `datasets` go under tmp_path, not the developer's cache."""
    import datasets

    folder = tmp_path / "datasets_cache"
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", folder)
    return folder


# --- each sample for the tasks it trains --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "task", "rows", "columns"),
    [
        ("messages.jsonl", "sft", 60, {"messages", "tools"}),
        ("sharegpt.json", "sft", 50, {"messages"}),
        ("alpaca.csv", "sft", 50, {"prompt", "completion"}),
        ("alpaca.parquet", "sft", 80, {"prompt", "completion"}),
        ("prompt_completion.jsonl", "sft", 60, {"prompt", "completion"}),
        ("text.txt", "sft", 56, {"text"}),
        ("preference.jsonl", "dpo", 50, {"prompt", "chosen", "rejected"}),
        ("preference_messages.jsonl", "orpo", 40, {"prompt", "chosen", "rejected"}),
        ("preference.jsonl", "kto", 100, {"prompt", "completion", "label"}),
        ("kto.jsonl", "kto", 60, {"prompt", "completion", "label"}),
        ("grpo_math.jsonl", "grpo", 60, {"prompt", "answer"}),
        ("prompt_completion.jsonl", "grpo", 60, {"prompt", "reference_completion"}),
    ],
)
def test_samples_build_trl_datasets(name: str, task: str, rows: int, columns: set[str]) -> None:
    train, held, counts = build(sample_path(name), task)
    assert (len(train), held) == (rows, None)
    assert set(train.column_names) == columns
    assert (counts.dropped_count, counts.dropped, counts.duplicates) == (0, [], 0)
    if task == "kto":
        assert all(isinstance(label, bool) for label in train["label"])


def test_rows_come_back_exactly_as_converted() -> None:
    from tuiapp.core.data.convert import convert_records
    from tuiapp.core.data.sources import read_records

    expected = [item.data for item in convert_records(read_records(sample_path("messages.jsonl")), "messages", "sft")]
    train, _, _ = build(sample_path("messages.jsonl"))
    got = [train[i] for i in range(len(train))]
    assert [row["messages"] for row in got] == [row["messages"] for row in expected]  # no None-filled turn keys
    assert [row["tools"] for row in got] == [row.get("tools") for row in expected]
    assert sum(row["tools"] is not None for row in got) == TOOL_ROWS  # tools of rows after the first survive


def test_rows_render_through_the_chat_template(tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer
    from trl.data_utils import apply_chat_template

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    train, _, _ = build(sample_path("alpaca.json"))
    rendered = apply_chat_template(train[0], tokenizer)
    assert rendered["prompt"].endswith("<|im_start|>assistant\n")
    assert rendered["completion"] == train[0]["completion"][0]["content"] + "<|im_end|>\n"


# --- eval split, dedupe, dropped rows -----------------------------------------------------------------------------


@pytest.mark.parametrize(("eval_size", "held"), [(0.1, 6), (0.05, 3), (7, 7), (0.001, 1)])
def test_eval_size_carves_a_seeded_disjoint_split(eval_size: float, held: int) -> None:
    train, evaluation, _ = build(sample_path("prompt_completion.jsonl"), eval_size=eval_size)
    assert (len(train), len(evaluation)) == (60 - held, held)
    assert not set(train["prompt"]) & set(evaluation["prompt"])
    again = build(sample_path("prompt_completion.jsonl"), eval_size=eval_size)[1]
    assert again["prompt"] == evaluation["prompt"]


def test_another_seed_holds_out_other_rows() -> None:
    first = build(sample_path("prompt_completion.jsonl"), eval_size=10, seed=1)[1]["prompt"]
    second = build(sample_path("prompt_completion.jsonl"), eval_size=10, seed=2)[1]["prompt"]
    assert sorted(first) != sorted(second)


@pytest.mark.parametrize("eval_size", [60, 100])
def test_an_eval_size_that_leaves_no_training_rows_is_an_error(eval_size: int) -> None:
    with pytest.raises(DataError, match=f"dataset.eval_size {eval_size}.0 leaves no training rows out of 60"):
        build(sample_path("prompt_completion.jsonl"), eval_size=eval_size)


def test_an_eval_split_on_a_local_file_is_an_error() -> None:
    with pytest.raises(DataError, match=r"dataset.eval_split \(test\) names a Hub split, but .* set dataset.eval_size"):
        build(sample_path("text.txt"), eval_split="test")


def test_dedupe_drops_exact_repeats(tmp_path: Path) -> None:
    rows = [{"text": f"row {i % 4}"} for i in range(10)]
    path = write_jsonl(tmp_path / "d.jsonl", rows)
    train, _, counts = build(path, dedupe=True)
    assert (sorted(train["text"]), counts.duplicates) == ([f"row {i}" for i in range(4)], 6)
    train, _, counts = build(path)
    assert (len(train), counts.duplicates) == (10, 0)


def test_rows_that_cannot_train_are_dropped_and_counted(tmp_path: Path) -> None:
    rows = [{"instruction": f"q{i}", "output": "" if i % 3 == 0 else "a"} for i in range(21)]
    path = write_jsonl(tmp_path / "d.jsonl", rows)
    with pytest.raises(DataError, match=r"7 row\(s\) of .* cannot train .*:1: empty `output`.*skip_bad: true"):
        build(path)
    train, _, counts = build(path, skip_bad=True)
    assert (len(train), counts.dropped_count, len(counts.dropped)) == (14, 7, 5)
    assert (counts.dropped[0].where, counts.dropped[0].reason) == (f"{path}:1", "empty `output`")


def test_no_usable_rows_is_an_error_with_an_example(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [{"instruction": "q", "output": " "}] * 3)
    with pytest.raises(DataError, match=f"has no rows to train on \\(e.g. {path}:1: empty `output`\\)"):
        build(path)


def test_column_renames_and_a_forced_format(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "qa.jsonl", [{"question": "q", "answer": "a"}] * 2)
    with pytest.raises(DataError, match=r"cannot tell the format of .*try --map question=instruction answer=output"):
        build(path)
    train, _, _ = build(path, columns={"question": "instruction", "answer": "output"})
    assert train[0] == {
        "prompt": [{"role": "user", "content": "q"}],
        "completion": [{"role": "assistant", "content": "a"}],
    }
    with pytest.raises(DataError, match=r"has no rows to train on \(e.g. .*: no `text`"):
        build(path, format="text")


# --- a large source goes through the Arrow cache ------------------------------------------------------------------


def test_a_large_source_streams_through_the_cache(
    tmp_path: Path, datasets_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tuiapp.training import trl_dataset

    monkeypatch.setattr(trl_dataset, "_small", lambda config: False)
    source = tmp_path / "big.jsonl"
    source.write_bytes(
        sample_path("messages.jsonl").read_bytes() + b'{"messages": [{"role": "user", "content": "x"}]}\n'
    )
    train, _, counts = build(source, skip_bad=True)
    assert (len(train), counts.dropped_count) == (60, 1)
    assert sum(tools is not None for tools in train["tools"]) == TOOL_ROWS
    assert any(datasets_cache.rglob("*.arrow"))
    write_jsonl(source, [{"text": "edited"}, {"text": ""}])  # an edited file is converted again, not reused
    train, _, counts = build(source, skip_bad=True)
    assert (train["text"], counts.dropped_count) == (["edited"], 1)


# --- Hub ids ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset_id", ["no-such-org/no-such-dataset", "teknium/OpenHermes-2.5"])
def test_a_hub_id_offline_is_a_clear_data_error(dataset_id: str) -> None:
    with pytest.raises(DataError) as caught:
        build(dataset_id)
    message = str(caught.value)
    assert message.startswith(f"cannot reach the Hub for {dataset_id!r} and it is not in the local cache (")
    assert message.endswith("Connect to the network, or download it once and then work offline")
    assert caught.value.__cause__ is None and caught.value.__suppress_context__  # no chained traceback


@pytest.mark.parametrize("source", ["missing.jsonl", "./missing", "~/surely/missing/data"])
def test_a_missing_local_path_is_not_looked_up_on_the_hub(source: str) -> None:
    with pytest.raises(DataError, match=r"no such file or folder.*check the path"):
        build(source)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (FileNotFoundError("Dataset 'x/y' doesn't exist on the Hub or cannot be accessed."), "no dataset 'x/y' on the"),
        (ConnectionError("Max retries exceeded"), "cannot reach the Hub for 'x/y'"),
        (ValueError("Unknown split \"dev\". Should be one of ['train']."), "x/y: Unknown split"),
        (RuntimeError("boom"), "cannot load the Hub dataset 'x/y' (RuntimeError: boom)"),
    ],
)
def test_hub_errors_are_classified(monkeypatch: pytest.MonkeyPatch, error: Exception, expected: str) -> None:
    import datasets

    from tuiapp.training.trl_dataset import hub_records

    def fail(*args: Any, **kwargs: Any) -> None:
        raise error

    monkeypatch.setattr(datasets, "load_dataset", fail)
    with pytest.raises(DataError) as caught:
        list(hub_records("x/y", None, "train"))
    assert expected in str(caught.value)
    assert caught.value.__cause__ is None


def test_hub_records_name_their_split_and_row(tmp_path: Path, datasets_cache: Path) -> None:
    from tuiapp.training.trl_dataset import hub_records

    folder = tmp_path / "local_hub_copy"
    folder.mkdir()
    write_jsonl(folder / "train.jsonl", [{"text": f"row {i}"} for i in range(5)])
    records = list(hub_records(str(folder), None, "train", limit=3))
    assert [(r.where, r.data) for r in records] == [
        (f"{folder}[train] row {i}", {"text": f"row {i - 1}"}) for i in (1, 2, 3)
    ]
