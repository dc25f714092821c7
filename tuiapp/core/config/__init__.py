"""The one config model (FTConfig), its YAML round trip and its readable validation errors.

The names load on first use, so `tuiapp.core.config.choices` alone (the CLI parser's choices) costs no pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuiapp.core.config.errors import ConfigError
    from tuiapp.core.config.root import SCHEMA_VERSION, FTConfig
    from tuiapp.core.config.yaml_io import (
        dump_config,
        load_config,
        loads_config,
        save_config,
        validate_config,
        with_changes,
    )

_MODULE_OF = {
    "SCHEMA_VERSION": "root",
    "ConfigError": "errors",
    "FTConfig": "root",
    "dump_config": "yaml_io",
    "load_config": "yaml_io",
    "loads_config": "yaml_io",
    "save_config": "yaml_io",
    "validate_config": "yaml_io",
    "with_changes": "yaml_io",
}


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "SCHEMA_VERSION",
    "ConfigError",
    "FTConfig",
    "dump_config",
    "load_config",
    "loads_config",
    "save_config",
    "validate_config",
    "with_changes",
]
