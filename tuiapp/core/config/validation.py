"""Validate plain data into an FTConfig and report every mistake at once: one message per mistake, at the line
of its key, sorted by line, the first MAX_SHOWN shown and the rest counted.

Field errors and cross-field rules come in one report: when some fields are wrong, the rules still run over
the settings that did validate (each checked on its own against its type and bounds).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from tuiapp.core.config.cross_fields import CrossFieldError, CrossFieldProblem, cross_field_problems
from tuiapp.core.config.errors import MAX_SHOWN, ConfigError, describe, dotted
from tuiapp.core.config.locations import Loc, clean_loc, known_fields, line_of, section_class, union_tag_at
from tuiapp.core.config.root import FTConfig
from tuiapp.core.config.token_scan import TOKEN_FIX, token_locations
from tuiapp.core.config.yaml_reader import KeyLines

# How a union member pydantic names in a location reads in a sentence.
_MEMBER_WORDS = {"list[str]": "a list of names", "str": "a name", "int": "a whole number", "float": "a number"}


@dataclass(frozen=True)
class Located:
    """One problem and its line; the sentence is built only if the problem is among those shown."""

    line: int | None
    text: Callable[[], str]


def _one_per_mistake(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """pydantic's errors with clean locations, a union's per-member errors folded into those of the member the
    value was meant for (the one that got furthest into it), or into one "must be A or B" error."""
    order: list[dict[str, Any] | Loc] = []
    groups: dict[Loc, list[tuple[str, Loc, dict[str, Any]]]] = {}
    for error in errors:
        loc = clean_loc(error["loc"])
        at = union_tag_at(loc)
        if at is None:
            order.append({**error, "loc": loc})
            continue
        field = loc[:at]
        if field not in groups:
            groups[field] = []
            order.append(field)
        groups[field].append((str(loc[at]), loc[at + 1 :], error))
    out: list[dict[str, Any]] = []
    for item in order:
        if isinstance(item, dict):
            out.append(item)
            continue
        members = groups[item]
        deep = next((tag for tag, rest, _ in members if rest), None)
        if deep is not None:
            out += [{**error, "loc": item + rest} for tag, rest, error in members if tag == deep]
        else:
            expected = " or ".join(_MEMBER_WORDS.get(tag, tag) for tag, _, _ in members)
            first = members[0][2]
            out.append(
                {
                    "type": "union_mismatch",
                    "loc": item,
                    "input": first.get("input"),
                    "msg": "",
                    "ctx": {"expected": expected},
                }
            )
    return out


@lru_cache(maxsize=256)
def _adapter(owner: type[BaseModel], name: str) -> TypeAdapter[Any]:
    """A validator for one field alone: its type and bounds (not its section's validators)."""
    info = owner.model_fields[name]
    return TypeAdapter(Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation)


def _field_value(owner: type[BaseModel], name: str, raw: dict[str, Any]) -> tuple[bool, Any]:
    """(True, the validated value or default) for `owner.name` read from `raw`, or (False, None)."""
    if name not in raw:
        default = owner.model_fields[name].get_default(call_default_factory=True)
        return (not owner.model_fields[name].is_required()), default
    try:
        return True, _adapter(owner, name).validate_python(raw[name])
    except ValidationError:
        return False, None


def validated_values(data: dict[str, Any], errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The settings that validated, by dotted key, from data whose full validation gave `errors`."""
    bad: dict[str, set[Any]] = defaultdict(set)
    for error in errors:
        loc = error["loc"]
        if not loc:
            return {}
        bad[str(loc[0])].add(loc[1] if len(loc) > 1 else None)
    values: dict[str, Any] = {}
    for name in FTConfig.model_fields:
        section = section_class((name,))
        raw = data.get(name)
        if name not in bad:
            ok, value = _field_value(FTConfig, name, data)
            if ok:
                values[name] = value
                if isinstance(value, BaseModel):
                    values.update({f"{name}.{sub}": getattr(value, sub) for sub in type(value).model_fields})
        elif section is not None and isinstance(raw, dict):  # a section with mistakes: its sound fields
            values[name] = raw
            for sub in section.model_fields:
                ok, value = (False, None) if sub in bad[name] else _field_value(section, sub, raw)
                if ok:
                    values[f"{name}.{sub}"] = value
    return values


def _locate_rule(problem: CrossFieldProblem, lines: KeyLines | None) -> Located:
    """A broken rule at the line of its first key; a rule over two keys or more names each key's line."""
    paths = [tuple(key.split(".")) for key in problem.keys]
    exact = [(key, lines[path]) for key, path in zip(problem.keys, paths, strict=True) if lines and path in lines]
    line = exact[0][1] if exact else (line_of(lines, paths[0]) if lines else None)
    where = ", ".join(f"{key} on line {at}" for key, at in exact)
    text = problem.message + (f" ({where})" if len(exact) > 1 else "")
    return Located(line, lambda: text)


def _keys_named(section: str, message: str) -> tuple[str, ...]:
    """The `section.field` keys a section's own rule names in its message, in the order it names them."""
    cls = section_class((section,))
    named = [(message.find(f"{section}.{name}"), f"{section}.{name}") for name in (cls.model_fields if cls else ())]
    return tuple(key for at, key in sorted(named) if at >= 0 and _whole_word(message, at + len(key)))


def _whole_word(message: str, end: int) -> bool:
    return end == len(message) or not (message[end].isalnum() or message[end] == "_")


def _locate_field_error(error: dict[str, Any], lines: KeyLines | None) -> Located:
    """A field error at its key's line; a section's own rule over its keys (a model validator in a section
    file) at the first key its message names, naming each key's line as a cross-field rule does."""
    loc = error["loc"]
    if error["type"] == "value_error" and len(loc) == 1 and lines:
        message = describe(error, known_fields)
        keys = _keys_named(str(loc[0]), message)
        if keys:
            return _locate_rule(CrossFieldProblem(message, keys), lines)
    return Located(line_of(lines, loc) if lines else None, lambda: describe(error, known_fields))


def _problems(exc: ValidationError, data: dict[str, Any], lines: KeyLines | None) -> list[Located]:
    errors = exc.errors()
    broken_rules = [e["ctx"]["error"] for e in errors if isinstance(e.get("ctx", {}).get("error"), CrossFieldError)]
    fields = _one_per_mistake([e for e in errors if not isinstance(e.get("ctx", {}).get("error"), CrossFieldError)])
    located = [_locate_field_error(error, lines) for error in fields]
    rules = broken_rules[0].problems if broken_rules else cross_field_problems(validated_values(data, fields))
    return located + [_locate_rule(problem, lines) for problem in rules]


def _token_problems(data: Any, lines: KeyLines | None) -> list[Located]:
    return [
        Located(
            line_of(lines, loc) if lines else None,
            lambda loc=loc: f"{dotted(loc) or 'the config'} holds what looks like a Hugging Face token: {TOKEN_FIX}",
        )
        for loc in token_locations(data)
    ]


def report(located: list[Located], source: str | None, lines: KeyLines | None) -> ConfigError:
    """One ConfigError: the problems sorted by line, the first MAX_SHOWN built and shown, the rest counted."""
    located = sorted(located, key=lambda problem: problem.line or 0)
    texts = []
    for problem in located[:MAX_SHOWN]:
        prefix = "" if lines is None or not source else f"{source}:{problem.line}: " if problem.line else f"{source}: "
        texts.append(prefix + problem.text())
    return ConfigError(texts, source, more=len(located) - len(texts))


def validate_config(
    data: Any, source: str | None = None, lines: KeyLines | None = None, found: list[Located] | None = None
) -> FTConfig:
    """Validate plain data into an FTConfig, raising ConfigError with every located, readable problem.

    `lines` (from the YAML reader) locates each key; `found` adds problems the reader saw in the text itself.
    """
    if not isinstance(data, dict):
        where = f"{source}: " if source and lines is not None else ""
        raise ConfigError([f"{where}the config must be a mapping of settings, got {type(data).__name__}"], source)
    located = list(found or []) + _token_problems(data, lines)
    try:
        config = FTConfig.model_validate(data)
    except ValidationError as exc:
        located += _problems(exc, data, lines)
    else:
        if not located:
            return config
    raise report(located, source, lines)


__all__ = ["Located", "report", "validate_config", "validated_values"]
