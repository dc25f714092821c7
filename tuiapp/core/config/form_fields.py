"""The config's sections as form fields (label, kind, choices, help), and typed text parsed back to values.

The Hyperparameters screen builds its form from these, so a new config field shows up without UI code.
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

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
# Examples where the default is empty or says little; every other number field shows its default.
EXAMPLES = {"max_steps": "500", "eval_steps": "50", "learning_rate": "2e-4", "weight_decay": "0.01"}


@dataclass(frozen=True)
class FormField:
    """One editable config value: its dotted path, how to edit it, and its documentation."""

    path: str
    label: str
    kind: Kind
    help: str
    choices: tuple[str, ...] = ()
    optional: bool = False
    example: str = ""
    """A value that fits the field's type and bounds, for its error message."""
    low: float | None = None
    low_open: bool = False
    high: float | None = None
    high_open: bool = False

    @property
    def bounds_text(self) -> str:
        """`above 0`, `from 16 to 1,048,576`, `from 0 to below 1`, or empty when unbounded."""
        low, high = (None if v is None else _number(v) for v in (self.low, self.high))
        if low is not None and high is not None:
            start = f"above {low} and" if self.low_open else f"from {low} to"
            end = f"below {high}" if self.high_open else (f"at most {high}" if self.low_open else high)
            return f"{start} {end}"
        if low is not None:
            return f"above {low}" if self.low_open else f"{low} or more"
        if high is not None:
            return f"below {high}" if self.high_open else f"at most {high}"
        return ""


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


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


def _constraints(info: FieldInfo) -> list[Any]:
    """The field's own constraints and those inside its annotation (`PositiveInt | None`)."""
    found, stack = list(info.metadata), [info.annotation]
    while stack:
        item = stack.pop()
        if get_origin(item) is Annotated:
            found += item.__metadata__
            stack.append(get_args(item)[0])
        elif get_origin(item) is not Literal:
            stack.extend(get_args(item))
    return found


_BOUND_ATTRS = (("gt", "low", True), ("ge", "low", False), ("lt", "high", True), ("le", "high", False))


def _bounds(info: FieldInfo) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    for item in _constraints(info):
        for attr, key, is_open in (
            ("gt", "low", True),
            ("ge", "low", False),
            ("lt", "high", True),
            ("le", "high", False),
        ):
            if getattr(item, attr, None) is not None:
                bounds[key], bounds[f"{key}_open"] = getattr(item, attr), is_open
    return bounds


def _example(name: str, kind: Kind, choices: tuple[str, ...], default: Any) -> str:
    if name in EXAMPLES:
        return EXAMPLES[name]
    if kind == "choice":
        return choices[0]
    if kind == "targets":
        return "q_proj, v_proj"
    if kind == "bool" or default is None:
        return ""
    return f"{default:g}" if isinstance(default, float) else str(default)


def form_fields(section: type[BaseModel], prefix: str) -> list[FormField]:
    """Every field of a config section, in declaration order."""
    out = []
    for name, info in section.model_fields.items():
        kind, choices, optional = _kind(info.annotation)
        label = LABELS.get(name, name.replace("_", " ").capitalize())
        help_text = " ".join((info.description or "").split())
        example = _example(name, kind, choices, info.default)
        field = FormField(f"{prefix}.{name}", label, kind, help_text, choices, optional, example, **_bounds(info))
        out.append(field)
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
    if field.kind in ("int", "float"):
        return _number_value(field, text)
    if field.kind == "targets":
        return text if text == "all-linear" else [name.strip() for name in text.split(",") if name.strip()]
    return text


def _number_value(field: FormField, text: str) -> int | float:
    """An int or float field's value; else what it takes, with its bounds and an example that fits them."""
    try:
        value: int | float = int(text.replace("_", "").replace(",", "")) if field.kind == "int" else float(text)
    except ValueError:
        value = math.nan
    if math.isfinite(value):  # out of bounds is the config's to explain, with the field's own words
        return value
    noun = "a whole number" if field.kind == "int" else "a number"
    bounds = f" {field.bounds_text}" if field.bounds_text else ""
    example = f", such as {field.example}" if field.example else ""
    raise ValueError(f"{field.label} takes {noun}{bounds}{example}, not {text!r}")
