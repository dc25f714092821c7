"""What each field of an event may hold when it is read back: the JSON type of its annotation, and bounds.

`events.jsonl` is written by our worker, but also by older and newer workers, by a crash half-way through a
line, and sometimes by a person with an editor. A line whose field does not fit is skipped (as a cut one is),
so that what reaches a summary, a chart or `ftwizard runs --json` is always of its declared type and within
bounds every consumer can format: no `"step": "12"`, no negative step, no NaN, no time `1e300` (the clock
functions overflow), no string that cannot be printed (a lone surrogate), no unbounded nesting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from functools import cache
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

Check = Callable[[Any], bool]

MAX_COUNT = 2**53  # steps, pids, byte and token counts: a float holds every count up to this exactly
MAX_FIGURE = 1e18  # |loss|, learning rate, grad norm, rates: far past any real value, and sums of them stay finite
MAX_TIME = 253_402_300_799.0  # 9999-12-31 23:59:59 UTC, the last second the clock functions format everywhere
MAX_ITEMS = 10_000  # items of a list or dict field
MAX_DEPTH = 16  # nesting of a free-form (`Any`) value such as `hardware` or an action's `facts`
SIGNED = frozenset({"loss", "eval_loss", "train_loss", "metrics", "facts", "hardware"})
"""Fields whose numbers may be negative (an RL loss, a reward margin); every other number is a count, a time
or a rate, at least 0."""


def _printable(value: str) -> bool:
    """Whether the text can be written as UTF-8 (a lone surrogate, from `"\\ud800"` in JSON, cannot)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _number(signed: bool, integral: bool, ceiling: float) -> Check:
    floor = -ceiling if signed else 0
    kinds = (int,) if integral else (int, float)

    def check(value: Any) -> bool:  # exact types (JSON gives no others; a bool is not a number); NaN fails both
        return type(value) in kinds and floor <= value <= ceiling

    return check


_any_number = _number(True, False, MAX_FIGURE)


def free_form(value: Any, depth: int = 0) -> bool:
    """A JSON value of any shape, with finite numbers, printable strings and bounded size and nesting."""
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int | float):
        return _any_number(value)
    if isinstance(value, str):
        return _printable(value)
    if depth >= MAX_DEPTH:
        return False
    if isinstance(value, list):
        return len(value) <= MAX_ITEMS and all(free_form(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return len(value) <= MAX_ITEMS and all(
            _printable(key) and free_form(item, depth + 1) for key, item in value.items()
        )
    return False


def _check_for(hint: Any, name: str) -> Check:
    """The check of one annotation (`int | None`, `list[str]`, `dict[str, float]`, `Any`, ...)."""
    signed = name in SIGNED
    origin = get_origin(hint)
    if origin in (Union, UnionType):
        args = get_args(hint)
        options = [_check_for(option, name) for option in args if option is not type(None)]
        if len(options) == 1 and len(args) == 2:  # `X | None`, nearly every optional field: the fast path
            (only,) = options
            return lambda value: value is None or only(value)
        options += [_check_for(type(None), name)] if len(options) < len(args) else []
        return lambda value: any(option(value) for option in options)
    if origin is list:
        item = _check_for(get_args(hint)[0], name)
        return lambda value: isinstance(value, list) and len(value) <= MAX_ITEMS and all(map(item, value))
    if origin is dict:
        key, item = (_check_for(arg, name) for arg in get_args(hint))
        return lambda value: (
            isinstance(value, dict) and len(value) <= MAX_ITEMS and all(key(k) and item(v) for k, v in value.items())
        )
    if hint is Any:
        return free_form
    if hint is type(None):
        return lambda value: value is None
    if hint is bool:
        return lambda value: isinstance(value, bool)
    if hint is str:
        return lambda value: isinstance(value, str) and _printable(value)
    if hint is int:
        return _number(signed, True, MAX_COUNT)
    if hint is float:
        return _number(signed, False, MAX_TIME if name == "time" else MAX_FIGURE)
    raise TypeError(f"event field {name}: no reading rule for {hint!r}")  # a new annotation needs one here


@cache
def field_checks(cls: type) -> dict[str, Check]:
    """Per field of an event class, the check its value must pass when read back."""
    hints = get_type_hints(cls)
    return {f.name: _check_for(hints[f.name], f.name) for f in fields(cls)}
