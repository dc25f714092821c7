"""Argument types that refuse numbers which make no sense (a micro-batch of 0, a negative row, NaN), so argparse
says so with the usage line and exits 2 instead of the value silently becoming a default or failing later.

A flag that sets a config value takes that field's bounds from `choices.FIELD_BOUNDS` (`config_number`), the
table the config model is declared with, so the flag and `ftwizard check` refuse the same numbers.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from tuiapp.core.config.choices import FIELD_BOUNDS

SHOWN_CHARS = 40  # how much of a refused value a message repeats


def _shown(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}…"


def whole_number(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """A type for `add_argument`: a whole number from `minimum` (to `maximum`)."""

    def parse(text: str) -> int:
        try:
            value = int(text.replace("_", "").replace(",", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{_shown(text)!r} is not a whole number") from None
        if value < minimum or (maximum is not None and value > maximum):
            most = f" and at most {maximum:,}" if maximum is not None else ""
            raise argparse.ArgumentTypeError(f"{_shown(text)} is not a whole number of at least {minimum:,}{most}")
        return value

    return parse


def config_number(path: str) -> Callable[[str], int]:
    """A type for a flag that sets the config's whole-number field at `path` (e.g. "training.grad_accum")."""
    return whole_number(*FIELD_BOUNDS[path])


def number_between(low: float, high: float) -> Callable[[str], float]:
    """A type for `add_argument`: a finite number from `low` to `high` (both allowed)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not low <= value <= high:  # NaN fails too
            raise argparse.ArgumentTypeError(f"{_shown(text)} is not a number from {low:g} to {high:g}")
        return value

    return parse


EVAL_ROWS_MAX = FIELD_BOUNDS["dataset.eval_size"][1]


def eval_size(text: str) -> float:
    """Rows held out for eval: a fraction below 1 (0.05) or a whole number of rows (200); 0 holds none."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (0 <= value <= EVAL_ROWS_MAX and (value < 1 or value.is_integer())):  # NaN and infinity fail
        raise argparse.ArgumentTypeError(
            f"{_shown(text)} is neither a fraction below 1 (0.05) nor a whole number of rows (200) "
            f"up to {EVAL_ROWS_MAX:,}"
        )
    return value


def gpu_name(text: str) -> str:
    """A type for `--gpu`: a catalogue GPU's name or a memory size, checked at parse time so the message names
    the option and the value as typed; the handler resolves the same text again."""
    from tuiapp.core.hardware import UnknownGpuError, resolve_gpu

    try:
        resolve_gpu(text)
    except UnknownGpuError as exc:
        raise argparse.ArgumentTypeError(f"{_shown(text)!r}: {exc}") from None
    return text
