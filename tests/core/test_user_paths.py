"""Paths as typed: `~nosuchuser` and NUL are located user errors (exit 2), not RuntimeError / ValueError crashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuiapp.cli import main
from tuiapp.core.user_error import UserError
from tuiapp.core.user_paths import user_path


def test_home_is_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert user_path("~/data.jsonl") == tmp_path / "data.jsonl"
    assert user_path(Path("plain/x")) == Path("plain/x")


@pytest.mark.parametrize(("typed", "said"), [("~nosuchuser9/x", "no user 'nosuchuser9'"), ("a\0b", "NUL")])
def test_a_path_pathlib_cannot_take_is_a_user_error(typed: str, said: str) -> None:
    with pytest.raises(UserError, match=said):
        user_path(typed)


@pytest.mark.parametrize(
    "argv",
    [["stop", "~0"], ["runs", "--runs-dir", "~nosuchuser9/runs"], ["data", "inspect", "~nosuchuser9/d.jsonl"],
     ["check", "~nosuchuser9/cfg.yaml"], ["plan", "--model", "~nosuchuser9/m", "--gpu", "24GB"]],
)  # fmt: skip
def test_commands_answer_exit_2(argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FTWIZARD_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("FTWIZARD_STATE_DIR", str(tmp_path / "state"))
    assert main(argv) == 2
