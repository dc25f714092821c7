"""Standard chat templates (presets/chat_templates.yaml) offered to base models without one."""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel, ConfigDict

from tuiapp.core.data.records import DataError
from tuiapp.core.presets import read_preset


class ChatTemplate(BaseModel):
    """One standard template: its Jinja text, the token that ends an assistant turn, tokens it needs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str
    end_of_turn: str
    """The text that closes an assistant turn; "{eos}" means the tokenizer's own EOS token."""
    special_tokens: tuple[str, ...] = ()
    template: str


@cache
def standard_templates() -> dict[str, ChatTemplate]:
    """Every standard template by name, in file order."""
    data = read_preset("chat_templates.yaml")["templates"]
    return {name: ChatTemplate(name=name, **fields) for name, fields in data.items()}


def standard_template(name: str) -> ChatTemplate:
    """One template by name; a DataError lists the names when it is unknown."""
    templates = standard_templates()
    if name not in templates:
        raise DataError(f"unknown chat template {name!r}: choose one of {', '.join(templates)}")
    return templates[name]
