"""Every preset file parses and validates; presets ship with the package."""

from __future__ import annotations

import pytest
import yaml

from tuiapp.core.config import FTConfig
from tuiapp.core.config.choices import Method, Task, choices
from tuiapp.core.data.chat_templates import standard_templates
from tuiapp.core.hardware.catalog import GpuSpec
from tuiapp.core.hyperparam_presets import (
    PROFILE_META_KEYS,
    apply_preset,
    apply_profile,
    profile_description,
    profile_names,
)
from tuiapp.core.models.catalog import CatalogEntry
from tuiapp.core.models.shape import ModelShape
from tuiapp.core.presets import presets_dir
from tuiapp.core.user_error import UserError


def _hyperparams(data: dict) -> list:
    """Every method x task combination applies cleanly to a minimal config."""
    base = {"model": {"name_or_path": "org/m"}}
    configs = [
        apply_preset(FTConfig.model_validate({**base, "method": method, "task": task}))
        for method in choices(Method)
        for task in choices(Task)
    ]
    assert profile_names()[0] == "recommended" and set(profile_names()) == set(data["profiles"])
    for name, profile in data["profiles"].items():
        line = profile_description(name)
        assert line and "\n" not in line and len(line) <= 100, f"{name}: one line of at most 100 characters"
        assert set(profile) - PROFILE_META_KEYS <= set(FTConfig.model_fields), f"{name}: unknown keys"
    by_rows = [apply_profile(config, name, rows) for config in configs for name in profile_names() for rows in (1, 28)]
    return configs + [apply_profile(config, name) for config in configs for name in profile_names()] + by_rows


def _models(data: dict) -> list:
    """Every catalogue entry validates and sizes through ModelShape."""
    entries = [CatalogEntry.model_validate(entry) for entry in data["models"]]
    return [ModelShape.from_hf_config(entry.config, name=entry.name) for entry in entries]


def _chat_templates(data: dict) -> list:
    """Every standard template parses and marks its assistant turns for the loss mask."""
    templates = list(standard_templates().values())
    assert [t.name for t in templates] == list(data["templates"])
    assert all("{% generation" in t.template.replace("{%-", "{%") for t in templates)
    return templates


VALIDATORS = {
    "chat_templates.yaml": _chat_templates,
    "gpus.yaml": lambda data: [GpuSpec.model_validate(entry) for entry in data["gpus"]],
    "hyperparams.yaml": _hyperparams,
    "models.yaml": _models,
}


@pytest.mark.parametrize("name", sorted(path.name for path in presets_dir().glob("*.yaml")))
def test_every_preset_validates(name: str) -> None:
    data = yaml.safe_load((presets_dir() / name).read_text(encoding="utf-8"))
    assert name in VALIDATORS, f"add a validator for presets/{name} to this test"
    assert VALIDATORS[name](data)


def test_task_values_override_method_values() -> None:
    config = apply_preset(FTConfig.model_validate({"model": {"name_or_path": "m"}, "method": "qlora", "task": "dpo"}))
    assert config.training.learning_rate == 5e-6  # DPO's rate, not the adapter's 2e-4
    assert config.training.optimizer == "paged_adamw_8bit"  # the method's optimizer stays
    assert (config.lora.r, config.lora.alpha) == (16, 32)


def test_low_memory_profile_keeps_the_effective_batch() -> None:
    config = FTConfig.model_validate({"model": {"name_or_path": "m"}, "training": {"micro_batch_size": 4}})
    low = apply_profile(config, "low_memory")
    assert low.training.micro_batch_size == 1 and low.training.grad_accum == 32
    assert low.training.effective_batch_size == config.training.effective_batch_size
    assert apply_profile(apply_profile(config, "quick_check"), "recommended").training.max_steps is None


def test_quick_check_is_30_steps_and_never_more_than_one_pass() -> None:
    config = FTConfig.model_validate(
        {
            "model": {"name_or_path": "m"},
            "dataset": {"source": "d.jsonl", "eval_size": 0.1},
            "training": {"micro_batch_size": 2, "grad_accum": 8, "eval_steps": 20},
        }
    )
    unknown_rows = apply_profile(config, "quick_check").training
    assert (unknown_rows.max_steps, unknown_rows.save_steps, unknown_rows.eval_steps) == (30, 10, 20)
    small = apply_profile(config, "quick_check", train_rows=28).training  # 28 rows at batch 16: 2 steps a pass
    assert (small.max_steps, small.save_steps, small.eval_steps) == (2, 2, 2)
    assert apply_profile(config, "quick_check", train_rows=100_000).training.max_steps == 30
    assert "30 steps" in profile_description("quick_check") and "one pass" in profile_description("quick_check")


def test_an_unknown_profile_is_a_user_error() -> None:
    with pytest.raises(UserError, match="no preset named 'fast': choose one of recommended, quick_check"):
        profile_description("fast")
