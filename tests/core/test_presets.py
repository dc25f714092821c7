"""Every preset file parses and validates; presets ship with the package."""

from __future__ import annotations

import pytest
import yaml

from tuiapp.core.hardware.catalog import GpuSpec
from tuiapp.core.presets import presets_dir

VALIDATORS = {"gpus.yaml": lambda data: [GpuSpec.model_validate(entry) for entry in data["gpus"]]}


@pytest.mark.parametrize("name", sorted(path.name for path in presets_dir().glob("*.yaml")))
def test_every_preset_validates(name: str) -> None:
    data = yaml.safe_load((presets_dir() / name).read_text(encoding="utf-8"))
    assert name in VALIDATORS, f"add a validator for presets/{name} to this test"
    assert VALIDATORS[name](data)
