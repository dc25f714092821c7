"""The base every config section shares: frozen, strict about unknown keys, documented fields."""

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A frozen config section; each field's docstring is its documentation (and its YAML comment)."""

    # allow_inf_nan=False: .inf and .nan are refused in every float field (torch and the trainers take neither)
    model_config = ConfigDict(
        frozen=True, extra="forbid", use_attribute_docstrings=True, validate_default=True, allow_inf_nan=False
    )
