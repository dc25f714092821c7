"""Where a problem is: the config class at a key path, the valid keys there, and the key's line in the file."""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from tuiapp.core.config.root import FTConfig
from tuiapp.core.config.yaml_reader import KeyLines

Loc = tuple[str | int, ...]


def _members(annotation: Any) -> list[Any]:
    """The non-None members of a union annotation, or the annotation itself."""
    if get_origin(annotation) in (Union, types.UnionType):
        return [arg for arg in get_args(annotation) if arg is not type(None)]
    return [annotation]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    return next((m for m in _members(annotation) if isinstance(m, type) and issubclass(m, BaseModel)), None)


def section_class(loc: Loc) -> type[BaseModel] | None:
    """The config class found by following `loc` from FTConfig, or None."""
    cls: type[BaseModel] | None = FTConfig
    for part in loc:
        field = cls.model_fields.get(str(part)) if cls else None
        if field is None:
            return None
        cls = _model_in(field.annotation)
    return cls


def known_fields(loc: Loc) -> list[str]:
    """Valid keys at `loc` (used to suggest a fix for a misspelt key)."""
    cls = section_class(loc)
    return list(cls.model_fields) if cls else []


def union_tag_at(loc: Loc) -> int | None:
    """The index in `loc` of a union member's name that pydantic inserts (`target_modules` is `list[str] | str`:
    its errors come once per member, as ("lora", "target_modules", "list[str]", 1) and (..., "str")), or None."""
    cls: type[BaseModel] | None = FTConfig
    for index, part in enumerate(loc):
        field = cls.model_fields.get(str(part)) if cls else None
        if field is None:
            return None
        members = _members(field.annotation)
        cls = _model_in(field.annotation)
        if cls is None:
            tagged = len(members) > 1 and index + 1 < len(loc) and isinstance(loc[index + 1], str)
            return index + 1 if tagged else None
    return None


def clean_loc(loc: tuple[Any, ...]) -> Loc:
    """`loc` without pydantic's validator and dict-key markers, so it is the path of keys the user wrote."""
    return tuple(part for part in loc if not str(part).startswith("function-") and part != "[key]")


def line_of(lines: KeyLines, loc: Loc) -> int | None:
    """The line of the deepest key on `loc` the file holds (a missing key: the line of its section)."""
    found = None
    for end in range(1, len(loc) + 1):
        line = lines.get(loc[:end])
        if line is None:
            break
        found = line
    return found
