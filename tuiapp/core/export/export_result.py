"""What an exporter gives back: the target tool's values, the lines above them, what could not be said."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MAX_LISTED = 50  # untranslated items shown; a config has far fewer fields


@dataclass(frozen=True)
class Export:
    """One export: `values` in the target tool's own keys, `header` lines for the file's top comment,
    `untranslated` sentences for what the tool cannot express, and the command that runs the file."""

    values: dict[str, Any]
    header: list[str]
    untranslated: list[str] = field(default_factory=list)
    command: str = ""

    def yaml_text(self) -> str:
        """The file: the header and what was not translated as comments, then the values in their order."""
        lines = [f"# {line}" for line in self.header]
        if self.untranslated:
            lines += ["#", "# Not translated (the tool has no setting for these):"]
            lines += [f"#  - {item}" for item in self.untranslated[:MAX_LISTED]]
        body = yaml.safe_dump(self.values, sort_keys=False, allow_unicode=True, width=100)
        return "\n".join(lines) + "\n" + body


def relative_to_export(reference: str, destination: Path) -> str:
    """A local path as the export should name it: relative to the export's folder when it lies inside it
    (the folder can move to another box), else absolute; anything else (a Hub id) as given."""
    from tuiapp.core.user_error import UserError
    from tuiapp.core.user_paths import user_path

    try:
        path = user_path(reference)
    except UserError:
        return reference
    if not path.exists():
        return reference
    path, folder = path.resolve(), destination.parent.resolve()
    if path.is_relative_to(folder):
        return os.path.relpath(path, folder)
    return str(path)


def from_export(reference: str, export_file: Path) -> str:
    """The inverse of relative_to_export, for a file being imported: a relative path that names something in the
    file's folder becomes that absolute path; anything else (a Hub id, a path on another box) stays as written."""
    from tuiapp.core.user_error import UserError
    from tuiapp.core.user_paths import user_path

    try:
        path = user_path(reference)
    except UserError:
        return reference
    if path.is_absolute() or not (export_file.parent / path).exists():
        return reference
    return os.path.normpath((export_file.parent / path).absolute())
