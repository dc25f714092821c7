"""The config fields' bounds as pydantic constraints, from the one table in `choices.FIELD_BOUNDS`."""

from __future__ import annotations

from tuiapp.core.config.choices import FIELD_BOUNDS


def within(path: str) -> dict[str, int]:
    """`Field(..., **within("training.seed"))`: the ge/le constraints of the field at this dotted path."""
    low, high = FIELD_BOUNDS[path]
    return {"ge": low, "le": high}
