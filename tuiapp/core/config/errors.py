"""Turn pydantic's validation errors into messages that name the field, the bad value and the fix.

Every message is bounded before it is built: a value is shown through `short_value` (at most ~60 characters
however large or deep the value is), a key through `dotted` (each part cut), and a report shows the first
MAX_SHOWN problems and counts the rest.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from typing import Any

from tuiapp.core.user_error import UserError

MAX_SHOWN = 50
"""Problems shown in one report; the rest are counted ("and N more")."""

MAX_PROBLEM_CHARS = 400
"""The longest one problem line may be (a safety net: its parts are bounded already)."""

_VALUE_CHARS = 60
_KEY_PART_CHARS = 60

TOKEN_PATTERN = re.compile(r"hf_[A-Za-z0-9]{30,}")
"""What a Hugging Face access token looks like; never echoed in a message."""


def redact(text: str) -> str:
    """`text` with anything that looks like a Hugging Face token replaced by `hf_…`."""
    return TOKEN_PATTERN.sub("hf_…", text)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ConfigError(UserError):
    """One or more problems in a config; `problems` holds one readable line each (the first MAX_SHOWN),
    `more` counts those left out."""

    def __init__(self, problems: list[str] | str, source: str | None = None, more: int = 0) -> None:
        if isinstance(problems, str):  # one problem
            problems = [problems]
        self.problems = [redact(_cut(problem, MAX_PROBLEM_CHARS)) for problem in problems[:MAX_SHOWN]]
        self.more = more + max(0, len(problems) - MAX_SHOWN)
        self.source = source
        where = f" in {source}" if source else ""
        total = len(self.problems) + self.more
        shown = f" (the first {len(self.problems)})" if self.more else ""
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        tail = f"\n  ... and {self.more} more" if self.more else ""
        super().__init__(f"{total} problem(s){where}{shown}:\n{lines}{tail}")

    def __reduce__(self) -> tuple[type[ConfigError], tuple[list[str], str | None, int]]:
        """Pickled (to cross a process boundary) as its problems, so it reads the same on the other side."""
        return type(self), (self.problems, self.source, self.more)


def dotted(loc: Iterable[Any]) -> str:
    """`("lora", "r")` -> "lora.r"; list indices become `[i]`; each part is cut to a readable length."""
    out = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = _cut(str(part), _KEY_PART_CHARS)
            out += f".{name}" if out else name
    return out


def short_value(value: Any, limit: int = _VALUE_CHARS) -> str:
    """A repr of `value` of at most about `limit` characters, built without ever repr-ing the whole value
    (a list of a million items, a deeply nested one or a 5,000-digit number costs as little as a short one)."""
    if isinstance(value, str):
        return repr(value[:limit]) if len(value) <= limit else repr(value[: limit - 3]) + "..."
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        if value.bit_length() > 3 * limit:  # ~ limit digits; repr of a huge int is slow (or refused)
            return f"a {int(value.bit_length() * 0.30103) + 1}-digit number"
        return _cut(repr(value), limit)
    if isinstance(value, (list, tuple, dict)):
        return _short_collection(value, limit)
    return _cut(f"<{type(value).__name__}>", limit)


def _short_collection(value: list[Any] | tuple[Any, ...] | dict[Any, Any], limit: int) -> str:
    opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
    items = value.items() if isinstance(value, dict) else value
    out = opening
    for index, item in enumerate(items):
        room = limit - len(out) - 1
        if room <= 4:
            return out + "..." + closing
        if isinstance(value, dict):
            key, val = item
            text = f"{short_value(key, room)}: {short_value(val, max(room - 4, 1))}"
        else:
            text = short_value(item, room)
        out += (", " if index else "") + text
        if len(out) >= limit:
            return out[: limit - 3] + "..." + closing
    return out + closing


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
    word = word[:_KEY_PART_CHARS]  # difflib's cost grows with the word's length
    if _SYNONYMS.get(word) in options:
        return f" (did you mean {_SYNONYMS[word]}?)"
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


_BOUND_WORDS = {
    "greater_than": ("above", "gt"),
    "greater_than_equal": ("at least", "ge"),
    "less_than": ("below", "lt"),
    "less_than_equal": ("at most", "le"),
}


def _is_positive_bound(ctx: dict[str, Any]) -> bool:
    """A whole-number field's `gt=0` / `ge=1` (a float field's bound comes as 0.0: "above 0", not an integer)."""
    bound = ctx.get("gt", ctx.get("ge"))
    return isinstance(bound, int) and (ctx.get("gt") == 0 or ctx.get("ge") == 1)


def _number(bound: Any) -> str:
    """A bound as people write it: 4,294,967,295 or 0.5."""
    if isinstance(bound, float) and bound.is_integer() and abs(bound) < 1e15:
        bound = int(bound)
    return f"{bound:,}" if isinstance(bound, int) else f"{bound:g}" if isinstance(bound, float) else str(bound)


def describe(error: dict[str, Any], known_fields: Callable[[tuple[Any, ...]], list[str]]) -> str:
    """One pydantic error dict as a sentence; `known_fields(parent_loc)` lists valid keys for typos."""
    loc = tuple(part for part in error["loc"] if not str(part).startswith("function-"))
    path, kind, ctx, value = dotted(loc), error["type"], error.get("ctx", {}), error.get("input")
    got = short_value(value)
    if kind == "missing":
        return f"{path} is required"
    if kind == "extra_forbidden":
        return f"{path} is not a known setting{_suggest(str(loc[-1]), known_fields(loc[:-1]))}; remove it"
    if kind in ("greater_than", "greater_than_equal") and isinstance(value, int) and _is_positive_bound(ctx):
        return f"{path} must be a positive integer, got {got}"
    if kind in _BOUND_WORDS:
        word, name = _BOUND_WORDS[kind]
        return f"{path} must be {word} {_number(ctx.get(name))}, got {got}"
    if kind == "finite_number":
        return f"{path} must be a finite number (not .inf or .nan), got {got}"
    if kind == "literal_error":
        allowed = ctx.get("expected", "").replace("'", "")
        hint = _suggest(value, re.split(r", | or ", allowed)) if isinstance(value, str) else ""
        return f"{path} must be one of {allowed}, got {got}{hint}"
    if kind == "union_mismatch":
        return f"{path} must be {ctx['expected']}, got {got}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{path} must be a whole number, got {got}"
    if kind in ("float_parsing", "float_type"):
        return f"{path} must be a number, got {got}"
    if kind in ("bool_parsing", "bool_type"):
        return f"{path} must be true or false, got {got}"
    if kind == "string_type":
        return f"{path} must be text, got {got}"
    if kind == "list_type":
        return f"{path} must be a list, got {got}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{path or 'the config'} must be a mapping of settings, got {got}"
    message = _cut(str(error["msg"]).removeprefix("Value error, "), MAX_PROBLEM_CHARS)
    if kind == "value_error":
        return f"{path}: {message}" if path and not message.startswith(path) else message
    return f"{path}: {message[0].lower()}{message[1:]}, got {got}"
