"""Read a model's config.json defensively: a size cap, a nesting cap, a JSON object or a located refusal.

A real config.json is a few KB and nests four levels at most (text_config -> rope_parameters); one shared
with us may be 200 MB or 100,000 brackets deep, which would otherwise cost seconds and gigabytes or end in
Python's RecursionError.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tuiapp.core.user_error import UserError

MAX_CONFIG_BYTES = 4 * 1024 * 1024
"""The largest config.json read; real ones are under 100 KB even with a long id2label table."""
MAX_CONFIG_DEPTH = 32
"""The deepest nesting accepted; real ones nest four levels."""
_FIX = "download it again (`hf download <id> config.json`) or restore it from the original model"


class ConfigFileError(UserError):
    """A config.json that cannot be read as a model's configuration; the message names the file."""


def read_config_json(path: Path) -> dict[str, Any]:
    """The JSON object in `path`, or a ConfigFileError saying what is wrong with the file and what to do."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigFileError(
            f"cannot read {path} ({exc.strerror or exc}): check the file's permissions, or {_FIX}"
        ) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigFileError(
            f"{path} is larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MiB, so it is not a model's config.json "
            f"(real ones are a few KB): {_FIX}"
        )
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigFileError(f"{path} is not UTF-8 text (byte {exc.start}): {_FIX}") from None
    except json.JSONDecodeError as exc:
        raise ConfigFileError(
            f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}): {_FIX}"
        ) from None
    except RecursionError:
        raise ConfigFileError(_too_deep(path)) from None
    except ValueError as exc:  # a number past Python's 4,300-digit limit for int()
        raise ConfigFileError(f"{path} holds a value JSON cannot read here ({str(exc)[:120]}): {_FIX}") from None
    if not isinstance(data, dict):
        raise ConfigFileError(f"{path} holds a JSON {_json_kind(data)}, not an object: {_FIX}")
    if _depth_exceeds(data, MAX_CONFIG_DEPTH):
        raise ConfigFileError(_too_deep(path))
    return data


def _too_deep(path: Path) -> str:
    return f"{path} nests more than {MAX_CONFIG_DEPTH} levels deep, so it is not a model's config.json: {_FIX}"


def _json_kind(value: object) -> str:
    names = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _depth_exceeds(data: object, limit: int) -> bool:
    """Whether lists and objects nest deeper than `limit`, found without recursion."""
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False
