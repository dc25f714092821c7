"""Read and write FTConfig as commented YAML; errors point at file:line and say what to change."""

from __future__ import annotations

import os
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from tuiapp.core.config.errors import TOKEN_PATTERN, dotted
from tuiapp.core.config.locations import line_of
from tuiapp.core.config.root import FTConfig
from tuiapp.core.config.token_scan import TOKEN_FIX, token_lines, token_locations
from tuiapp.core.config.validation import Located, validate_config
from tuiapp.core.config.yaml_reader import KeyLines, parse_config_yaml, read_config_text

HEADER = "# ftwizard fine-tuning config. Edit freely; `ftwizard train THIS_FILE` runs it.\n"


def loads_config(text: str, source: str = "<config>") -> FTConfig:
    """Parse YAML text once into an FTConfig; every mistake is reported at its line."""
    parsed = parse_config_yaml(text, source)
    data = parsed.data if parsed.data is not None else {}
    found = _tokens_outside_values(text, data, parsed.lines)
    return validate_config(data, source, parsed.lines, found)


def _tokens_outside_values(text: str, data: Any, lines: KeyLines) -> list[Located]:
    """Lines holding a token that no value holds (a comment, say): the config would still carry it."""
    if not TOKEN_PATTERN.search(text):
        return []
    in_values = {line_of(lines, loc) for loc in token_locations(data)}
    return [
        Located(line, lambda: f"this line holds what looks like a Hugging Face token: {TOKEN_FIX}")
        for line in token_lines(text)
        if line not in in_values
    ]


def load_config(path: str | os.PathLike[str]) -> FTConfig:
    """Read a config file (a regular file of at most 1 MB); a missing or unreadable file is a ConfigError too."""
    path = Path(path)
    return loads_config(read_config_text(path), str(path))


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
    """Write atomically, so a full disk never leaves a half-written config."""
    return write_text_atomic(Path(path), dump_config(config))


def write_text_atomic(path: Path, text: str) -> Path:
    """Write `text` to a temp file beside `path`, then rename it over `path`: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
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
