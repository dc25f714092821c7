"""One run-name rule for the config and the runs layout: whole-name match, a length cap, no escape from the root."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuiapp.cli import main
from tuiapp.core.config import ConfigError, loads_config
from tuiapp.core.run_names import MAX_RUN_NAME, run_name_problem
from tuiapp.core.runs.layout import find_run
from tuiapp.core.user_error import UserError

CONFIG = "model:\n  name_or_path: org/model\noutput:\n  run_name: {name}\n"


@pytest.mark.parametrize("name", ['"x\\n"', '"a b"', "../up", "x" * (MAX_RUN_NAME + 5)])
def test_the_config_refuses_a_name_no_command_could_reach_again_at_its_line(name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        loads_config(CONFIG.format(name=name), "cfg.yaml")
    (problem,) = caught.value.problems
    assert problem.startswith("cfg.yaml:4: ") and "run name" in problem


def test_the_config_and_the_layout_accept_the_same_names() -> None:
    for name in ("run-1", "Qwen2.5-0.5B-lora-20250101-120000", "x" * MAX_RUN_NAME):
        assert run_name_problem(name) is None
        assert loads_config(CONFIG.format(name=name)).output.run_name == name


def test_a_hub_repo_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(ConfigError):
        loads_config('model:\n  name_or_path: org/model\noutput:\n  hub_repo: "alice/x\\n"\n')


def test_dot_dot_reaches_no_run_beside_the_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, decoy = tmp_path / "runs", tmp_path / "decoy"
    root.mkdir()
    decoy.mkdir()
    (decoy / "config.yaml").write_text("model: {name_or_path: org/model}\n")
    monkeypatch.chdir(root)  # `../decoy` from here is not a path to a run either: the decoy is its sibling's
    (root / "sub").mkdir()
    monkeypatch.chdir(root / "sub")
    with pytest.raises(UserError, match="no run named"):
        find_run("../../decoy/x", root)
    with pytest.raises(UserError, match="no run named"):
        find_run("../decoy", root)


def test_a_runs_dir_with_a_nul_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "cfg.yaml"
    config.write_text("model:\n  name_or_path: org/model\n")
    assert main(["runs", "--runs-dir", "runs\0x"]) == 2
    assert "NUL" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["finish", "attach", "stop", "resume", "merge"])
def test_an_empty_run_name_is_said_not_taken_for_the_newest(command: str, tmp_path: Path, capsys) -> None:
    assert main([command, "", "--runs-dir", str(tmp_path)]) == 2
    assert "the run name is empty" in capsys.readouterr().err
