"""A true/false where a number belongs is refused at its line (pydantic's lax mode would read true as 1)."""

from __future__ import annotations

import pytest

from tuiapp.core.config import ConfigError, loads_config

BASE = "model:\n  name_or_path: org/model\n"


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [("training", "micro_batch_size", "true"), ("training", "learning_rate", "false"), ("lora", "r", "yes"),
     ("training", "max_steps", "true"), ("dataset", "eval_size", "true")],
)  # fmt: skip
def test_a_truth_value_for_a_number_is_refused_at_its_line(section: str, key: str, value: str) -> None:
    extra = "  source: data.jsonl\n" if section == "dataset" else ""
    with pytest.raises(ConfigError) as caught:
        loads_config(f"{BASE}{section}:\n{extra}  {key}: {value}\n", "cfg.yaml")
    (problem,) = caught.value.problems
    line = 5 if extra else 4
    assert problem.startswith(f"cfg.yaml:{line}: {section}.{key}") and "must be a number" in problem


def test_switches_still_take_truth_values() -> None:
    text = f"{BASE}training:\n  packing: true\n  gradient_checkpointing: false\nlora:\n  use_dora: yes\n"
    config = loads_config(text)
    assert config.training.packing and not config.training.gradient_checkpointing and config.lora.use_dora
