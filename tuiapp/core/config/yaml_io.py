"""Read and write FTConfig as commented YAML; errors point at file:line and say what to change."""

from __future__ import annotations

import os
import tempfile
import textwrap
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from tuiapp.core.config.errors import ConfigError, describe, dotted
from tuiapp.core.config.root import FTConfig

HEADER = "# ftwizard fine-tuning config. Edit freely; `ftwizard train THIS_FILE` runs it.\n"


def _section_class(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The config class found by following `loc` from FTConfig, or None."""
    cls: type[BaseModel] | None = FTConfig
    for part in loc:
        field = cls.model_fields.get(str(part)) if cls else None
        if field is None:
            return None
        sub = [arg for arg in (field.annotation, *get_args(field.annotation)) if isinstance(arg, type)]
        cls = next((arg for arg in sub if issubclass(arg, BaseModel)), None)
    return cls


def known_fields(loc: tuple[Any, ...]) -> list[str]:
    """Valid keys at `loc` (used to suggest a fix for a misspelt key)."""
    cls = _section_class(loc)
    return list(cls.model_fields) if cls else []


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest YAML node that `loc` reaches."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if k.value == str(part)]
            if not match:
                break
            key, node = match[0]
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def validate_config(data: Any, source: str | None = None, node: yaml.Node | None = None) -> FTConfig:
    """Validate plain data into an FTConfig, raising ConfigError with located, readable problems."""
    if not isinstance(data, dict):
        raise ConfigError([f"the config must be a mapping of settings, got {type(data).__name__}"], source)
    try:
        return FTConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            line = _line_of(node, tuple(err["loc"])) if node is not None and source else None
            prefix = f"{source}:{line}: " if line else ""
            problems.append(prefix + describe(err, known_fields))
        raise ConfigError(problems, source) from None


def loads_config(text: str, source: str = "<config>") -> FTConfig:
    """Parse YAML text into an FTConfig."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            [f"{where}: not valid YAML ({reason}); check the indentation and quote values with ':' or '#'"],
            source,
        ) from None
    return validate_config(data if data is not None else {}, source, node)


def load_config(path: str | os.PathLike[str]) -> FTConfig:
    """Read a config file; a missing or unreadable file is a ConfigError too."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file; check the path or run `ftwizard` to create one"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read it ({exc})"]) from None
    return loads_config(text, str(path))


def _comment(text: str | None, indent: str) -> str:
    if not text:
        return ""
    lines = textwrap.wrap(" ".join(text.split()), width=96 - len(indent))
    return "".join(f"{indent}# {line}\n" for line in lines)


def _inline(value: Any) -> str:
    """A value as one line of YAML (flow style for lists and mappings)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1_000_000, sort_keys=False)
    return text.removesuffix("\n...\n").strip()


def _emit(model: BaseModel, indent: str = "") -> str:
    out = ""
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        out += _comment(field.description, indent)
        if isinstance(value, BaseModel):
            out += f"{indent}{name}:\n{_emit(value, indent + '  ')}"
        else:
            out += f"{indent}{name}: {_inline(value)}\n"
    return out


def dump_config(config: FTConfig) -> str:
    """The config as YAML with every field's documentation as a comment above it."""
    return HEADER + _emit(config)


def save_config(config: FTConfig, path: str | os.PathLike[str]) -> Path:
    """Write atomically (temp file + rename), so a full disk never leaves a half-written config."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(dump_config(config))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def with_changes(config: FTConfig, changes: dict[str, Any]) -> FTConfig:
    """A new validated config with dotted-path changes applied, e.g. {"lora.r": 8, "method": "qlora"}."""
    data = config.model_dump()
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        target = data
        for part in parents:
            if target.get(part) is None:
                target[part] = {}
            target = target[part]
        target[leaf] = value
    return validate_config(data)


__all__ = [
    "dotted",
    "dump_config",
    "load_config",
    "loads_config",
    "save_config",
    "validate_config",
    "with_changes",
]
