"""Argument types that refuse numbers which make no sense (a micro-batch of 0, a negative row), so argparse
says so and exits 2 instead of the value silently becoming a default."""

from __future__ import annotations

import argparse
from collections.abc import Callable

MAX_LENGTH_BOUNDS = (16, 1_048_576)  # training.max_length's bounds in the config


def whole_number(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """A type for `add_argument`: a whole number from `minimum` (to `maximum`)."""

    def parse(text: str) -> int:
        try:
            value = int(text.replace("_", "").replace(",", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum or (maximum is not None and value > maximum):
            most = f" and at most {maximum:,}" if maximum is not None else ""
            raise argparse.ArgumentTypeError(f"{text} is not a whole number of at least {minimum}{most}")
        return value

    return parse


def eval_size(text: str) -> float:
    """Rows held out for eval: a fraction below 1 (0.05) or a whole number of rows (200); 0 holds none."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value >= 0 and (value < 1 or value.is_integer())):  # NaN and infinity fail both
        raise argparse.ArgumentTypeError(
            f"{text} is neither a fraction below 1 (0.05) nor a whole number of rows (200)"
        )
    return value
