"""Where a file the user names is written: the Save and Export dialogs and `export -o` read a typed path alike."""

from __future__ import annotations

from pathlib import Path

from tuiapp.core.file_kinds import special_kind
from tuiapp.core.user_error import UserError
from tuiapp.core.user_paths import user_path


def save_target(typed: str, default_name: str, suffixes: tuple[str, ...] = (".yaml", ".yml")) -> Path:
    """The file to write for `typed`: `~` expanded, a folder gets `default_name`, a name without one of
    `suffixes` gets the first. A device, FIFO or socket there is refused (writing to it would block or break
    the machine), as is an empty name; a UserError says which."""
    if not typed.strip():
        raise UserError("no file name was given", "type a file name or a folder")
    path = user_path(typed.strip())  # ~nosuchuser and a NUL are refused here
    _refuse_special(path)
    if path.is_dir():
        path = path / default_name
    if suffixes and path.suffix not in suffixes:
        path = path.with_name(path.name + suffixes[0])
    _refuse_special(path)
    return path


def _refuse_special(path: Path) -> None:
    try:
        kind = special_kind(path.stat().st_mode)  # links followed: what a write would reach
    except OSError:  # nothing there yet (or unreachable: the write says why)
        return
    if kind is not None:
        raise UserError(f"{path} is {kind}", "type the name of a file to write")
