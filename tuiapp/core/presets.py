"""Find and read the reviewed YAML data in presets/ (shipped inside the wheel as tuiapp/presets)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent.parent


@cache
def presets_dir() -> Path:
    """tuiapp/presets in an installed wheel; the repo's presets/ in a source checkout."""
    for candidate in (_PACKAGE / "presets", _PACKAGE.parent / "presets"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"presets/ not found next to {_PACKAGE}: reinstall ftwizard")


def read_preset(name: str) -> Any:
    """Parse one preset file, e.g. read_preset("gpus.yaml")."""
    import yaml  # here, not at the top: importing the catalogue should not cost a YAML parser until it is read

    return yaml.safe_load((presets_dir() / name).read_text(encoding="utf-8"))
