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
