"""Every export format behind one call, so `ftwizard export` and the Export dialog write the same files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig

# --to value: what the file is, in one line (the CLI's help and the dialog's list say it)
FORMATS: dict[str, str] = {
    "ftwizard": "our YAML, every field commented: `ftwizard train FILE`",
    "trl": "for TRL's own command line: `trl sft --config FILE`",
}


@dataclass(frozen=True)
class ExportFile:
    """One export ready to write: where, the text, the command that runs it from its folder, what the tool
    cannot express, and notes on how it was made (a dataset that could not be read here)."""

    path: Path
    text: str
    command: str
    untranslated: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def default_export_name(stem: str, to: str) -> str:
    """`job.trl.yaml` for a config `job.yaml` exported --to trl."""
    return f"{stem}.{to}.yaml"


def render_export(config: FTConfig, to: str, source_name: str, destination: Path) -> ExportFile:
    """The export of `config` (read from `source_name`) in format `to`, to be written at `destination`.
    Reads at most the dataset's first rows (to detect its format); a UserError says what cannot be exported."""
    if to == "ftwizard":
        from tuiapp.core.config import dump_config

        return ExportFile(destination, dump_config(config), f"ftwizard train {destination.name}")
    if to == "trl":
        from tuiapp.core.export.trl_cli import trl_export

        data_format, notes = local_data_format(config)
        export = trl_export(config, source_name, destination, data_format)
        return ExportFile(destination, export.yaml_text(), export.command, export.untranslated, notes)
    raise ValueError(f"unknown export format {to!r}")  # the CLI's choices and the dialog's list are FORMATS


def write_export(export: ExportFile) -> Path:
    """Write atomically (a full disk never leaves half an export); a failure is a located message."""
    from tuiapp.core.config.yaml_io import write_text_atomic
    from tuiapp.core.user_error import UserError

    try:
        return write_text_atomic(export.path, export.text)
    except OSError as exc:
        raise UserError(f"cannot write {export.path} ({exc.strerror or exc})", "choose another folder") from None


def local_data_format(config: FTConfig) -> tuple[str | None, list[str]]:
    """The dataset's format as the dataset doctor detects it from a local file's first rows, and a note when
    it could not be read here (a config exported for another box may name data that lives there). None for a
    Hub id or a format the config states."""
    from tuiapp.core.data.formats import apply_columns, detect_format
    from tuiapp.core.data.records import DataError
    from tuiapp.core.data.sources import is_local_source, peek

    if config.dataset is None or config.dataset.format != "auto" or not is_local_source(config.dataset.source):
        return None, []
    try:
        rows = peek(config.dataset.source, rows=200, skip_bad=True)
    except DataError as exc:
        return None, [f"the dataset was not read here, so its format was not checked ({exc})"]
    return detect_format([apply_columns(row.data, config.dataset.columns) for row in rows]).format, []
