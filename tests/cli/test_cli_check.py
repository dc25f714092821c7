"""`ftwizard check CONFIG.yaml` as a user runs it."""

from __future__ import annotations

import json

from tuiapp.cli import main


def write(tmp_path, text: str):
    path = tmp_path / "run.yaml"
    path.write_text(text)
    return path


def test_valid_config_for_a_planned_gpu(tmp_path, capsys) -> None:
    path = write(tmp_path, "model: {name_or_path: org/m}\nmethod: lora\n")
    assert main(["check", str(path), "--gpu", "RTX 4090"]) == 0
    assert "is valid for RTX 4090 (planned): sft · lora · org/m" in capsys.readouterr().out


def test_hardware_problem_exits_2_with_the_fix(tmp_path, capsys) -> None:
    path = write(tmp_path, "model: {name_or_path: org/m}\ntraining: {precision: bf16}\n")
    assert main(["check", str(path), "--gpu", "T4", "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    assert report["findings"][0]["field"] == "training.precision"


def test_invalid_file_names_file_line_and_field(tmp_path, capsys) -> None:
    path = write(tmp_path, "model: {name_or_path: org/m}\nlora: {r: 0}\n")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:2: lora.r must be a positive integer, got 0" in err and "Traceback" not in err


def test_missing_file(tmp_path, capsys) -> None:
    assert main(["check", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_max_length_past_the_model_context_exits_2(tmp_path, capsys) -> None:
    path = write(tmp_path, "model: {name_or_path: Qwen2.5-0.5B}\ntraining: {max_length: 65536}\n")
    assert main(["check", str(path), "--gpu", "24GB"]) == 2  # the catalogue knows its 32,768-token context
    captured = capsys.readouterr()
    assert (
        f"{path}: error: training.max_length: Max length 65,536 is past the model's 32,768-token context: "
        "lower it to 32,768 or less" in captured.err
    )
    assert "has problems for 24 GB GPU (planned)" in captured.out
    assert main(["check", str(path), "--gpu", "24GB", "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False and report["findings"][-1]["field"] == "training.max_length"


def test_a_model_that_cannot_be_read_offline_is_a_note(tmp_path, capsys) -> None:
    path = write(tmp_path, "model: {name_or_path: org/not-here}\ntraining: {max_length: 65536}\n")
    assert main(["check", str(path), "--gpu", "24GB"]) == 0  # HF_HUB_OFFLINE is set by conftest
    out = capsys.readouterr().out
    assert f"{path}: note: the max length was not checked against the model's context: org/not-here is" in out
    assert "is valid for 24 GB GPU (planned)" in out and "Traceback" not in out
