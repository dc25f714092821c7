"""The config's sections as form fields (label, kind, choices, help), and typed text parsed back to values.

The Hyperparameters screen builds its form from these, so a new config field shows up without UI code.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

Kind = Literal["bool", "choice", "int", "float", "targets", "text"]
LABELS = {
    "lr_scheduler": "LR schedule",
    "r": "LoRA rank r",
    "alpha": "LoRA alpha",
    "dropout": "LoRA dropout",
    "oom_retries": "OOM retries",
    "use_dora": "DoRA",
    "use_rslora": "rsLoRA",
}


@dataclass(frozen=True)
class FormField:
    """One editable config value: its dotted path, how to edit it, and its documentation."""

    path: str
    label: str
    kind: Kind
    help: str
    choices: tuple[str, ...] = ()
    optional: bool = False


def _kind(annotation: Any) -> tuple[Kind, tuple[str, ...], bool]:
    args = get_args(annotation)
    optional = get_origin(annotation) in (Union, types.UnionType) and type(None) in args
    inner = [a for a in args if a is not type(None)] if optional else [annotation]
    base = inner[0] if len(inner) == 1 else annotation
    while hasattr(base, "__origin__") and get_origin(base) is not Literal and get_origin(base) is not list:
        base = get_args(base)[0] if get_args(base) else base.__origin__  # Annotated[int, ...] -> int
    if get_origin(base) is Literal:
        return "choice", tuple(str(a) for a in get_args(base)), optional
    if base is bool:
        return "bool", (), optional
    if base is int:
        return "int", (), optional
    if base is float:
        return "float", (), optional
    if get_origin(annotation) in (Union, types.UnionType) and any(get_origin(a) is list for a in args):
        return "targets", (), optional
    return "text", (), optional


def form_fields(section: type[BaseModel], prefix: str) -> list[FormField]:
    """Every field of a config section, in declaration order."""
    out = []
    for name, info in section.model_fields.items():
        kind, choices, optional = _kind(info.annotation)
        label = LABELS.get(name, name.replace("_", " ").capitalize())
        help_text = " ".join((info.description or "").split())
        out.append(FormField(f"{prefix}.{name}", label, kind, help_text, choices, optional))
    return out


def shown_value(field: FormField, value: Any) -> str | bool:
    """The text (or bool) an editor shows for a config value."""
    if field.kind == "bool":
        return bool(value)
    if value is None:
        return ""
    if field.kind == "targets":
        return value if isinstance(value, str) else ", ".join(value)
    if field.kind == "float":
        return f"{value:g}"
    return str(value)


def parse_value(field: FormField, raw: str | bool) -> Any:
    """The typed value for what the user entered; ValueError with a short reason when it is not one."""
    if field.kind == "bool":
        return bool(raw)
    text = str(raw).strip()
    if not text:
        if field.optional:
            return None
        raise ValueError(f"{field.label} needs a value")
    if field.kind == "int":
        try:
            return int(text.replace("_", "").replace(",", ""))
        except ValueError:
            raise ValueError(f"{field.label} takes a whole number, not {text!r}") from None
    if field.kind == "float":
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{field.label} takes a number such as 2e-4 or 0.03, not {text!r}") from None
    if field.kind == "targets":
        return text if text == "all-linear" else [name.strip() for name in text.split(",") if name.strip()]
    return text
