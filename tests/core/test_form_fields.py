"""Every form field's error example fits that field: its type and its bounds (no learning rate on Epochs)."""

from __future__ import annotations

import pytest

from tuiapp.core.config.form_fields import FormField, form_fields, parse_value
from tuiapp.core.config.lora_section import LoraSection
from tuiapp.core.config.training_section import TrainingSection

SECTIONS = {"training": TrainingSection, "lora": LoraSection}
FIELDS = [field for prefix, section in SECTIONS.items() for field in form_fields(section, prefix)]


def _validates(field: FormField, value: object) -> None:
    prefix, name = field.path.split(".")
    SECTIONS[prefix].model_validate({name: value})  # raises when the value is outside the field's bounds


@pytest.mark.parametrize("field", FIELDS, ids=[field.path for field in FIELDS])
def test_every_example_parses_and_fits_its_field(field: FormField) -> None:
    if field.kind == "bool":
        return
    assert field.example, f"{field.path} needs an example"
    value = parse_value(field, field.example)
    assert type(value) is {"int": int, "float": float}.get(field.kind, type(value))
    _validates(field, value)


@pytest.mark.parametrize(
    "field", [f for f in FIELDS if f.kind in ("int", "float")], ids=lambda f: f.path if isinstance(f, FormField) else ""
)
def test_a_bad_number_is_explained_with_that_fields_example_and_bounds(field: FormField) -> None:
    with pytest.raises(ValueError) as caught:
        parse_value(field, "lots")
    message = str(caught.value)
    assert message.startswith(f"{field.label} takes {'a whole number' if field.kind == 'int' else 'a number'}")
    assert f"such as {field.example}, not 'lots'" in message
    assert field.bounds_text in message
    for other in {f.example for f in FIELDS if f.kind in ("int", "float")} - {field.example}:
        assert f"such as {other}," not in message


def test_epochs_example_is_a_number_of_passes() -> None:
    epochs = next(field for field in FIELDS if field.path == "training.epochs")
    with pytest.raises(ValueError, match=r"^Epochs takes a number above 0 and at most 10,000, such as 1, not 'two'$"):
        parse_value(epochs, "two")
    max_length = next(field for field in FIELDS if field.path == "training.max_length")
    assert max_length.bounds_text == "from 16 to 1,048,576"
    with pytest.raises(ValueError, match="takes a whole number"):
        parse_value(max_length, "inf")
    with pytest.raises(ValueError, match="takes a number"):
        parse_value(epochs, "nan")
