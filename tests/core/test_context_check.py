"""The one max-length-versus-context rule the CLI's check and the Hyperparameters screen share."""

from __future__ import annotations

from tuiapp.core.config import FTConfig
from tuiapp.core.context_check import max_length_problem


def config(max_length: int) -> FTConfig:
    return FTConfig.model_validate({"model": {"name_or_path": "m"}, "training": {"max_length": max_length}})


def test_within_the_context_is_no_problem() -> None:
    assert max_length_problem(config(2048), 2048) is None
    assert max_length_problem(config(512), 32_768) is None


def test_past_the_context_names_the_field_and_the_fix() -> None:
    assert max_length_problem(config(8192), 4096) == (
        "Max length 8,192 is past the model's 4,096-token context: lower it to 4,096 or less"
    )
