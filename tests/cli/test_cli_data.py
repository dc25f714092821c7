"""`ftwizard data inspect` as a user runs it: every sample with and without a tokenizer, the JSON report, and
every bad input the dataset doctor must name clearly (a located message, a non-zero exit, no traceback)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tuiapp.cli import main
from tuiapp.core.config import load_config
from tuiapp.core.data.samples import sample_path

# sample -> (format, default task, rows, what carries loss with a tokenizer)
SAMPLES = {
    "alpaca.csv": ("alpaca", "sft", 50, "the completion only"),
    "alpaca.json": ("alpaca", "sft", 80, "the completion only"),
    "alpaca.parquet": ("alpaca", "sft", 80, "the completion only"),
    "grpo_math.jsonl": ("prompt_only", "grpo", 60, "none: the trainer generates the completions"),
    "kto.jsonl": ("kto", "kto", 60, "the completion only"),
    "messages.jsonl": ("messages", "sft", 60, "assistant turns only"),
    "plain_text.jsonl": ("text", "sft", 50, "every token"),
    "preference.jsonl": ("preference", "dpo", 50, "the completion only"),
    "preference_messages.jsonl": ("preference", "dpo", 40, "the completion only"),
    "prompt_completion.jsonl": ("prompt_completion", "sft", 60, "the completion only"),
    "sharegpt.json": ("sharegpt", "sft", 50, "assistant turns only"),
    "text.txt": ("text", "sft", 56, "every token"),
}
SKIP_HINT = "fix or delete the row, or skip bad rows with --skip-bad (they are counted)"


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps at the terminal width; a wide one keeps each report line on one line for the asserts."""
    monkeypatch.setenv("COLUMNS", "400")


def inspect(capsys: pytest.CaptureFixture[str], *args: Any) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `ftwizard data inspect ARGS`; a traceback anywhere fails the test."""
    code = main(["data", "inspect", *map(str, args)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def failure(capsys: pytest.CaptureFixture[str], *args: Any) -> str:
    """The one-line error of a run that must fail with exit code 2."""
    code, out, err = inspect(capsys, *args)
    assert code == 2, out + err
    assert err.startswith("ftwizard: "), err
    return err


def write(path: Path, content: str | bytes) -> Path:
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def jsonl(path: Path, rows: list[Any]) -> Path:
    return write(path, "".join(json.dumps(row) + "\n" for row in rows))


# --- every sample -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_sample_without_a_model_gives_estimates(capsys: pytest.CaptureFixture[str], name: str) -> None:
    fmt, task, rows, _ = SAMPLES[name]
    code, out, err = inspect(capsys, sample_path(name))
    assert code == 0, err
    assert f"Source     {sample_path(name)} · {rows:,} rows read\n" in out
    assert f"Format     {fmt} for task {task} (confidence 100%): all {rows} sampled rows have" in out
    assert f"Rows       {rows:,} to train\n" in out
    assert "Tokens     ≈ " in out and "no model given: token counts are estimates" in out
    assert f"Row 1 of {rows:,} (no tokenizer: shown as read)" in out  # counted from 1, as the Dataset screen
    assert "Template" not in out


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_sample_with_the_tiny_model_marks_the_loss(
    capsys: pytest.CaptureFixture[str], tiny_model_dir: Path, name: str
) -> None:
    fmt, task, _, loss = SAMPLES[name]
    code, out, err = inspect(capsys, sample_path(name), "--model", tiny_model_dir, "--max-len", 64)
    assert code == 0, err
    assert f"Format     {fmt} for task {task} (confidence 100%)" in out
    assert f"Template   tokenizer; loss on {loss}\n" in out
    tokens = next(line for line in out.splitlines() if line.startswith("Tokens"))
    assert "≈" not in tokens
    assert "Max length 64: " in out and "would be cut; recommended" in out
    row = next(line for line in out.splitlines() if line.startswith("Row 1 of "))
    assert row.endswith("carry loss (marked ⟦ ⟧)")
    marked = out.split(row, 1)[1]
    assert ("⟦" in marked) == (task != "grpo")  # GRPO generates its completions: nothing of the row is learned
    assert (", 0 carry loss" in row) == (task == "grpo")


def test_json_report_has_every_section(capsys: pytest.CaptureFixture[str], tiny_model_dir: Path) -> None:
    code, out, _ = inspect(capsys, sample_path("messages.jsonl"), "--model", tiny_model_dir, "--json", "--row", 4)
    assert code == 0
    report = json.loads(out)
    assert set(report) == {"source", "notes", "read", "detected", "cleaned", "template", "rows", "stats"}
    assert (report["read"]["rows"], report["read"]["skipped"]) == (60, 0)
    assert (report["detected"]["format"], report["detected"]["task"]) == ("messages", "sft")
    assert report["detected"]["detection"]["confidence"] == 1.0
    assert report["cleaned"] == {"kept": 60, "eval": 0, "dropped": 0, "dropped_examples": [], "duplicates": 0}
    assert report["template"]["assistant_only"] is True
    assert report["rows"]["rows"][0]["index"] == 3  # --row picks the rendered row, counting from 1
    assert "lengths" not in report["stats"] and report["stats"]["approximate"] is False
    assert report["stats"]["rows"] == 60 and report["stats"]["p50"] <= report["stats"]["max"]


def test_json_report_without_a_model(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = inspect(capsys, sample_path("kto.jsonl"), "--json", "--eval-size", 6, "--dedupe")
    report = json.loads(out)
    assert code == 0 and "template" not in report
    assert report["stats"]["approximate"] is True
    assert (report["cleaned"]["kept"], report["cleaned"]["eval"]) == (54, 6)
    assert "kto data: counted for task kto; pass --task to choose another" in report["notes"]


def test_task_and_mapping_options(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = inspect(capsys, sample_path("preference.jsonl"), "--task", "kto")
    assert code == 0 and "Rows       100 to train" in out  # each pair unpaired into two KTO rows
    path = jsonl(tmp_path / "qa.jsonl", [{"question": "What is 2 + 2?", "answer": "4"}] * 3)
    err = failure(capsys, path)
    assert f"cannot tell the format of {path}: no known format fits the columns `question`, `answer`" in err
    assert "try --map question=instruction answer=output" in err
    code, out, _ = inspect(capsys, path, "--map", "question=instruction", "--map", "answer=output", "--dedupe")
    assert code == 0 and "Format     alpaca for task sft (confidence 100%)" in out
    assert "Rows       1 to train, 2 exact duplicates removed" in out


# --- bad inputs ---------------------------------------------------------------------------------------------------


def test_malformed_json_line_is_named_by_file_line_and_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path / "d.jsonl", '{"text": "a"}\n{"text": "b",}\n{"text": "c"}\n{"text" "d"}\n')
    err = failure(capsys, path)
    assert err == (
        f"ftwizard: {path}:2:14: invalid JSON: Expecting property name enclosed in double quotes; {SKIP_HINT}\n"
    )
    code, out, err = inspect(capsys, path, "--skip-bad")
    assert code == 0, err
    assert "Source     " in out and " · 2 rows read\n" in out
    assert f"Skipped    2 malformed line(s), e.g. {path}:2:14: invalid JSON: Expecting property name" in out
    code, out, _ = inspect(capsys, path, "--skip-bad", "--json")
    read = json.loads(out)["read"]
    assert (read["skipped"], [s["where"] for s in read["skipped_examples"]]) == (2, [f"{path}:2:14", f"{path}:4:9"])


def test_missing_required_fields_name_the_fields_and_the_format(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    everywhere = jsonl(tmp_path / "all.jsonl", [{"instruction": "q1"}, {"instruction": "q2"}])
    err = failure(capsys, everywhere)
    assert f"cannot tell the format of {everywhere}: no known format fits the columns `instruction`" in err
    assert "they look like alpaca rows without `output` (alpaca needs `instruction` and `output`)" in err
    rows = [{"instruction": "q", "output": "a"}, {"instruction": "q2"}, {"instruction": "q3", "output": "b"}]
    some = jsonl(tmp_path / "some.jsonl", rows)
    code, out, err = inspect(capsys, some)
    assert code == 2
    assert err == (
        f"ftwizard: 1 row(s) of {some} cannot be used as alpaca data for task sft (e.g. {some}:2: no `output` "
        "(alpaca rows need `instruction` and `output`)); fix or remove them, or pass --skip-bad to leave them out "
        "(training leaves them out too)\n"
    )
    assert "1 sampled rows fit no format (e.g. no `output`" in out  # the report is still printed
    code, out, _ = inspect(capsys, some, "--skip-bad")
    assert code == 0 and f"Rows       2 to train, 1 dropped (e.g. {some}:2: no `output`" in out


def test_empty_rows_are_located(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = jsonl(tmp_path / "d.jsonl", [{"instruction": "q", "output": "a"}, {"instruction": "q", "output": " "}])
    err = failure(capsys, path)
    assert f"(e.g. {path}:2: empty `output`)" in err


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.jsonl", "", "is empty (0 bytes): there are no rows to read; check it is the file you meant"),
        ("blank.jsonl", "\n  \n\n", "has only blank lines: there are no rows to read; check it is the file you meant"),
        ("empty.json", "[]", "holds no records (an empty list or document): there are no rows to read; check it"),
        (
            "header.csv",
            "instruction,output\n",
            "has no rows below its header: there are no rows to read; check it is the file",
        ),
    ],
)
def test_an_empty_file_is_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, content: str, reason: str
) -> None:
    path = write(tmp_path / name, content)
    assert failure(capsys, path).startswith(f"ftwizard: {path} {reason}")


def test_mixed_formats_are_reported_and_fail(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = jsonl(tmp_path / "d.jsonl", [{"text": "a"}, {"prompt": "p", "completion": "c"}, {"text": "b"}])
    code, out, err = inspect(capsys, path)
    assert code == 2
    assert "Format     text for task sft (confidence 67%): 2 of 3 sampled rows have one `text` column" in out
    assert "! mixed formats: 2 rows look like text but 1 look like prompt_completion" in out
    assert f"(e.g. {path}:2: looks like prompt_completion, not text)" in err and "--skip-bad" in err
    code, out, _ = inspect(capsys, path, "--skip-bad", "--json")
    report = json.loads(out)
    assert code == 0 and report["detected"]["detection"]["counts"] == {"text": 2, "prompt_completion": 1}
    assert report["cleaned"]["dropped_examples"] == [
        {"where": f"{path}:2", "reason": "looks like prompt_completion, not text"}
    ]


@pytest.mark.parametrize(
    ("name", "content", "located"),
    [
        (
            "d.jsonl",
            b'{"text": "ok"}\n{"text": "caf\xe9"}\n',
            ":2: byte 0xe9 at byte offset 28 (column 14) is not UTF-8",
        ),
        ("d.csv", b"text\nna\xefve\n", ":2: byte 0xef at byte offset 7 (column 3) is not UTF-8"),
        ("d.json", b'[{"text": "ok"},\n {"text": "\xff"}]', ":2: byte 0xff at byte offset 28 (column 12) is not UTF-8"),
    ],
)
def test_bytes_that_are_not_utf8_are_located(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, content: bytes, located: str
) -> None:
    path = write(tmp_path / name, content)
    err = failure(capsys, path)
    assert f"ftwizard: {path}{located}" in err and "re-save it as UTF-8" in err


def test_a_50_mb_line_is_read_and_reported_briefly(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path / "big.jsonl", b'{"text": "' + b"x" * 50_000_000 + b'"}\n{"text": "small"}\n')
    code, out, err = inspect(capsys, path)
    assert code == 0, err
    assert "2 rows read" in out
    assert "Max length 2,048: 1 rows (50.0%) would be cut" in out
    assert "… (49,999,600 more characters)" in out  # the preview is cut, not printed whole
    assert len(out) < 20_000


def test_a_broken_50_mb_line_is_located(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path / "big.jsonl", b'{"text": "ok"}\n{"text": "' + b"x" * 50_000_000 + b"\n")
    err = failure(capsys, path)
    assert err.startswith(f"ftwizard: {path}:2:10: invalid JSON: Unterminated string starting at")
    assert len(err) < 1000


def test_a_ragged_csv_row_is_located(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "instruction,output\nq1,a1\nq2,a2,extra\nq3,a3\n")
    err = failure(capsys, path)
    assert err.startswith(
        f"ftwizard: {path}:3: 3 cells, but the header (line 1) has 2 columns (instruction, output); "
        "a value holding a quote, a comma or a line break must be in double quotes"
    )
    code, out, _ = inspect(capsys, path, "--skip-bad")
    assert code == 0 and "Rows       2 to train" in out
    assert f"Skipped    1 malformed line(s), e.g. {path}:3: 3 cells" in out


@pytest.mark.parametrize("dataset_id", ["no-such-org/no-such-dataset", "teknium/OpenHermes-2.5"])
def test_a_hub_id_that_cannot_be_reached(capsys: pytest.CaptureFixture[str], dataset_id: str) -> None:
    err = failure(capsys, dataset_id)
    assert err.startswith(f"ftwizard: cannot reach the Hub for {dataset_id!r} and it is not in the local cache")
    assert "Connect to the network, or download it once and then work offline" in err


@pytest.mark.parametrize("source", ["typo.jsonl", "./data/typo", "~/surely/missing.csv"])
def test_a_missing_local_file_is_not_sent_to_the_hub(capsys: pytest.CaptureFixture[str], source: str) -> None:
    err = failure(capsys, source)
    assert "no such file or folder" in err and "check the path" in err and "Hub" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--task", "dpo"], "alpaca data cannot train task dpo (it takes preference); choose task sft, or pick"),
        (["--format", "text"], "every row of"),
        (["--eval-size", 50], "eval_size 50.0 leaves no training rows out of 50; lower it"),
        (["--map", "question"], "bad column mapping 'question': write it as name_in_file=expected_name"),
    ],
)
def test_wrong_options_fail_clearly(capsys: pytest.CaptureFixture[str], args: list[Any], message: str) -> None:
    assert message in failure(capsys, sample_path("alpaca.csv"), *args)


def test_an_unloadable_model_falls_back_to_estimates(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = inspect(capsys, sample_path("text.txt"), "--model", tmp_path)  # a folder, but no tokenizer
    assert code == 0
    assert "could not load the tokenizer of" in out and "Tokens     ≈ " in out


# --- --config -----------------------------------------------------------------------------------------------------


def test_config_supplies_the_model_and_keeps_the_dataset_settings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model_dir: Path
) -> None:
    config = write(tmp_path / "run.yaml", f"model: {{name_or_path: {tiny_model_dir}}}\ntraining: {{max_length: 96}}\n")
    data = jsonl(tmp_path / "qa.jsonl", [{"question": f"q{i % 5}", "answer": "a"} for i in range(20)])
    args = ["--config", config, "--map", "question=instruction", "--map", "answer=output", "--dedupe"]
    code, out, err = inspect(capsys, data, *args, "--eval-size", 0.2)
    assert code == 0, err
    assert f"Saved the dataset settings in {config}" in err
    assert "Template   tokenizer" in out and "Max length 96: " in out  # the config's model and max length
    saved = load_config(config)
    assert saved.task == "sft"
    assert saved.dataset is not None
    assert (saved.dataset.source, saved.dataset.format) == (str(data), "alpaca")
    assert saved.dataset.columns == {"question": "instruction", "answer": "output"}
    assert (saved.dataset.dedupe, saved.dataset.eval_size, saved.dataset.skip_bad) == (True, 0.2, False)
    code, out, _ = inspect(capsys, data, "--config", config)  # the saved renames are read back
    assert code == 0 and "Rows       4 to train, 1 held out for eval, 15 exact duplicates removed" in out


def test_config_saves_the_task_the_data_was_checked_for(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = write(tmp_path / "run.yaml", "model: {name_or_path: org/absent}\n")
    code, _, err = inspect(capsys, sample_path("preference.jsonl"), "--config", config, "--task", "orpo")
    assert code == 0, err
    saved = load_config(config)
    assert (saved.task, saved.dataset.format) == ("orpo", "preference")  # type: ignore[union-attr]
    err = failure(capsys, sample_path("text.txt"), "--config", config)  # the config's task now applies
    assert "text data cannot train task orpo" in err and "choose task sft" in err


def test_row_counts_from_1_and_a_row_past_the_end_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = inspect(capsys, sample_path("messages.jsonl"), "--row", 60)
    assert code == 0 and "Row 60 of 60 (no tokenizer: shown as read)" in out
    err = failure(capsys, sample_path("messages.jsonl"), "--row", 61)
    assert f"--row 61: {sample_path('messages.jsonl')} has 60 rows to train on; choose 1 to 60" in err


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--row", "0", "argument --row: 0 is not a whole number of at least 1"),
        ("--max-len", "0", "argument --max-len: 0 is not a whole number of at least 16 and at most 1,048,576"),
        ("--micro-batch", "0", "argument --micro-batch: 0 is not a whole number of at least 1"),
        ("--grad-accum", "-2", "argument --grad-accum: -2 is not a whole number of at least 1"),
        ("--eval-size", "-1", "argument --eval-size: -1 is neither a fraction below 1 (0.05) nor a whole number"),
        ("--eval-size", "2.5", "argument --eval-size: 2.5 is neither a fraction below 1 (0.05) nor a whole number"),
    ],
)
def test_nonsense_numbers_are_refused(capsys: pytest.CaptureFixture[str], flag: str, value: str, message: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["data", "inspect", str(sample_path("messages.jsonl")), flag, value])
    assert exited.value.code == 2 and message in capsys.readouterr().err
