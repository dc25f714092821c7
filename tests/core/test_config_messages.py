"""Messages that say the right thing: a float's bound is not "a positive integer", a tab is named, a link loop
is not a permissions problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuiapp.core.config import ConfigError, load_config, loads_config

BASE = "model:\n  name_or_path: org/model\n"


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        loads_config(BASE + text, "cfg.yaml")
    return caught.value.problems


def test_a_float_field_below_its_bound_is_not_called_an_integer() -> None:
    expected = "cfg.yaml:4: training.learning_rate must be above 0, got -1"
    assert problems("training:\n  learning_rate: -1\n") == [expected]
    assert problems("lora:\n  r: 0\n") == ["cfg.yaml:4: lora.r must be a positive integer, got 0"]


def test_a_tab_is_named() -> None:
    (problem,) = problems("training:\n\tepochs: 2\n")
    assert problem.startswith("cfg.yaml:4:1: ") and "YAML indents with spaces only" in problem


def test_a_link_loop_says_check_the_path(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    with pytest.raises(ConfigError, match="check the path"):
        load_config(tmp_path / "a.yaml")
