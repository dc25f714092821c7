"""Turn pydantic's validation errors into messages that name the field, the bad value and the fix."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import ValidationError

from tuiapp.core.user_error import UserError


class ConfigError(UserError):
    """One or more problems in a config; `problems` holds one readable line each."""

    def __init__(self, problems: list[str], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        where = f" in {source}" if source else ""
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"{len(problems)} problem(s){where}:\n{lines}")


def dotted(loc: Iterable[Any]) -> str:
    """`("lora", "r")` -> "lora.r"; list indices become `[i]`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _got(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# Names people bring from transformers, PEFT and Axolotl configs, mapped to ours.
_SYNONYMS = {
    "rank": "r",
    "lora_r": "r",
    "lora_alpha": "alpha",
    "lora_dropout": "dropout",
    "lr": "learning_rate",
    "num_train_epochs": "epochs",
    "num_epochs": "epochs",
    "batch_size": "micro_batch_size",
    "per_device_train_batch_size": "micro_batch_size",
    "gradient_accumulation_steps": "grad_accum",
    "max_seq_length": "max_length",
    "sequence_len": "max_length",
    "base_model": "name_or_path",
    "optim": "optimizer",
    "warmup": "warmup_ratio",
    "hub_model_id": "hub_repo",
    "output_dir": "runs_root",
}


def _suggest(word: str, options: Iterable[str]) -> str:
    options = list(options)
    if _SYNONYMS.get(word) in options:
        return f" (did you mean {_SYNONYMS[word]}?)"
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def describe(error: dict[str, Any], known_fields: Callable[[tuple[Any, ...]], list[str]]) -> str:
    """One pydantic error dict as a sentence; `known_fields(parent_loc)` lists valid keys for typos."""
    loc = tuple(part for part in error["loc"] if not str(part).startswith("function-"))
    path, kind, ctx, value = dotted(loc), error["type"], error.get("ctx", {}), error.get("input")
    if kind == "missing":
        return f"{path} is required"
    if kind == "extra_forbidden":
        return f"{path} is not a known setting{_suggest(str(loc[-1]), known_fields(loc[:-1]))}; remove it"
    if kind == "greater_than" and ctx.get("gt") == 0 and isinstance(value, int):
        return f"{path} must be a positive integer, got {_got(value)}"
    if kind == "literal_error":
        allowed = ctx.get("expected", "").replace("'", "")
        hint = _suggest(str(value), re.split(r", | or ", allowed))
        return f"{path} must be one of {allowed}, got {_got(value)}{hint}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{path} must be a whole number, got {_got(value)}"
    if kind in ("float_parsing", "float_type"):
        return f"{path} must be a number, got {_got(value)}"
    if kind in ("bool_parsing", "bool_type"):
        return f"{path} must be true or false, got {_got(value)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{path or 'the config'} must be a mapping of settings, got {_got(value)}"
    message = error["msg"].removeprefix("Value error, ")
    if kind == "value_error":
        return f"{path}: {message}" if path and not message.startswith(path) else message
    return f"{path}: {message[0].lower()}{message[1:]}, got {_got(value)}"


def from_validation_error(
    exc: ValidationError, known_fields: Callable[[tuple[Any, ...]], list[str]], source: str | None = None
) -> ConfigError:
    """Wrap every problem pydantic found into one ConfigError."""
    return ConfigError([describe(err, known_fields) for err in exc.errors()], source)
