"""The one config model (FTConfig), its YAML round trip and its readable validation errors."""

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
