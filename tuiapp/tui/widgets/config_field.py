"""One labelled editor for one config value; it reports edits upward as typed values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Checkbox, Input, Label, Select

from tuiapp.core.config.form_fields import FormField, parse_value, shown_value
from tuiapp.tui.widgets.state_checkbox import StateCheckbox


class ConfigField(Horizontal):
    """Label + editor (checkbox, select or text box). Posts Edited with a typed value, or Invalid."""

    DEFAULT_CSS = """
    ConfigField { height: 1; }
    ConfigField > Label { width: 24; }
    ConfigField > Input, ConfigField > Select { width: 28; }
    """

    @dataclass
    class Edited(Message):
        field: FormField
        value: Any

    @dataclass
    class Invalid(Message):
        field: FormField
        reason: str

    @dataclass
    class Focused(Message):
        field: FormField

    def __init__(self, field: FormField, value: Any) -> None:
        super().__init__(id="field-" + field.path.replace(".", "-"))
        self.field, self._value = field, value

    def compose(self) -> ComposeResult:
        field, shown = self.field, shown_value(self.field, self._value)
        yield Label(field.label)
        if field.kind == "bool":
            yield StateCheckbox(_on_off(bool(shown)), bool(shown))
        elif field.kind == "choice":
            yield Select([(c, c) for c in field.choices], value=str(shown), allow_blank=False, compact=True)
        else:
            placeholder = "empty = none" if field.optional else ""
            yield Input(str(shown), placeholder=placeholder, compact=True)

    def show(self, value: Any) -> None:
        """Put a value in the editor without reporting it as an edit (presets, other fields' effects)."""
        shown = shown_value(self.field, value)
        editor = self.children[1]
        with editor.prevent(Input.Changed, Select.Changed, Checkbox.Changed):
            if isinstance(editor, Checkbox):
                editor.value = bool(shown)
                editor.label = _on_off(bool(shown))
            elif isinstance(editor, Select | Input) and editor.value != shown:
                editor.value = str(shown)
        self.remove_class("-invalid")

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _changed(self, event: Input.Changed | Select.Changed | Checkbox.Changed) -> None:
        event.stop()
        if isinstance(event, Checkbox.Changed):
            event.checkbox.label = _on_off(event.value)
        try:
            value = parse_value(self.field, event.value)
        except ValueError as exc:
            self.add_class("-invalid")
            self.post_message(self.Invalid(self.field, str(exc)))
            return
        self.post_message(self.Edited(self.field, value))

    def on_descendant_focus(self) -> None:
        self.post_message(self.Focused(self.field))


def _on_off(value: bool) -> str:
    return "on" if value else "off"
