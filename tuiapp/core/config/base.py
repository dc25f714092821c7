"""The base every config section shares: frozen, strict about unknown keys, documented fields."""

from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


def _takes_numbers_only(annotation: Any) -> bool:
    """True when a field's type admits int or float but not bool (`PositiveInt | None`, `float`)."""
    kinds: list[Any] = []
    pending = [annotation]
    while pending:
        kind = pending.pop()
        args = get_args(kind)
        pending.extend(args) if args else kinds.append(kind)
    return bool not in kinds and any(kind in (int, float) for kind in kinds)


class Section(BaseModel):
    """A frozen config section; each field's docstring is its documentation (and its YAML comment)."""

    # allow_inf_nan=False: .inf and .nan are refused in every float field (torch and the trainers take neither)
    model_config = ConfigDict(
        frozen=True, extra="forbid", use_attribute_docstrings=True, validate_default=True, allow_inf_nan=False
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_truth_value_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        """`micro_batch_size: true` is a slip, not 1: pydantic's lax mode would read it as 1 without a word."""
        if (
            isinstance(value, bool)
            and info.field_name
            and _takes_numbers_only(cls.model_fields[info.field_name].annotation)
        ):
            raise ValueError(f"must be a number, got {str(value).lower()}")
        return value
