"""Every export format behind one call, so `ftwizard export` and the Export dialog write the same files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig
    from tuiapp.core.estimate.sharding import Sharding

# --to value: what the file is, in one line (the CLI's help and the dialog's list say it)
FORMATS: dict[str, str] = {
    "ftwizard": "our YAML, every field commented: `ftwizard train FILE`",
    "trl": "for TRL's own command line: `trl sft --config FILE`",
    "script": "a Python script (transformers, PEFT, TRL), no ftwizard needed",
    "axolotl": "for Axolotl: `axolotl train FILE`",
    "llamafactory": "for LLaMA-Factory: `llamafactory-cli train FILE`",
    "accelerate": "several GPUs: an accelerate config and the script it launches",
}
SUFFIXES = {"script": ".py"}  # the file each format writes ends so; YAML for the rest


@dataclass(frozen=True)
class ExportFile:
    """One export ready to write: where, the text, the command that runs it from its folder, what the tool
    cannot express, and notes on how it was made (a dataset that could not be read here)."""

    path: Path
    text: str
    command: str
    untranslated: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows_file: Path | None = None  # the converted rows written beside it (the script's local dataset)
    config: FTConfig | None = None  # the config whose rows those are
    companions: dict[Path, str] = field(default_factory=dict)  # small files written beside it (dataset_info.json)


def default_export_name(stem: str, to: str) -> str:
    """`job.trl.yaml` for a config `job.yaml` exported --to trl, `job.script.py` --to script."""
    return f"{stem}.{to}{SUFFIXES.get(to, '.yaml')}"


def export_suffixes(to: str) -> tuple[str, ...]:
    """The endings a file of format `to` may have; a typed name without one gets the first."""
    return (SUFFIXES[to],) if to in SUFFIXES else (".yaml", ".yml")


def render_export(
    config: FTConfig, to: str, source_name: str, destination: Path, sharding: Sharding | None = None
) -> ExportFile:
    """The export of `config` (read from `source_name`) in format `to`, to be written at `destination`;
    `accelerate` spreads it as `sharding` says (2 GPUs, FSDP2 when None). Reads at most the dataset's first
    rows (to detect its format); a UserError says what cannot be exported."""
    if to == "ftwizard":
        from tuiapp.core.config import dump_config

        return ExportFile(destination, dump_config(config), f"ftwizard train {destination.name}")
    if to == "trl":
        from tuiapp.core.export.trl_cli import trl_export

        data_format, notes, _ = local_data_format(config)
        export = trl_export(config, source_name, destination, data_format)
        return ExportFile(destination, export.yaml_text(), export.command, export.untranslated, notes)
    if to == "script":
        from tuiapp.core.export.script import script_export

        text, lost, rows_file = script_export(config, source_name, destination)
        notes = (
            []
            if rows_file is None
            else [f"the rows are converted into {rows_file.name} now: export again after editing the data"]
        )
        command = f"python {destination.name}"
        return ExportFile(destination, text, command, lost, notes, rows_file, config)
    if to == "axolotl":
        from tuiapp.core.export.axolotl import axolotl_export

        data_format, notes, _ = local_data_format(config)
        export = axolotl_export(config, source_name, destination, data_format)
        return ExportFile(destination, export.yaml_text(), export.command, export.untranslated, notes)
    if to == "llamafactory":
        from tuiapp.core.export.llamafactory import DATASET_INFO, dataset_info_text, dataset_name, llamafactory_export

        data_format, notes, columns = local_data_format(config)
        export, entry = llamafactory_export(config, source_name, destination, data_format, columns)
        companions: dict[Path, str] = {}
        if entry is not None:
            info = destination.with_name(DATASET_INFO)
            existing = info.read_text(encoding="utf-8") if info.is_file() else None
            companions[info] = dataset_info_text(existing, dataset_name(destination), entry)
            if existing is not None:
                notes.append(f"adds the entry {dataset_name(destination)} to the {DATASET_INFO} already there")
        text = export.yaml_text()
        return ExportFile(destination, text, export.command, export.untranslated, notes, companions=companions)
    if to == "accelerate":
        return _accelerate(config, source_name, destination, sharding)
    raise ValueError(f"unknown export format {to!r}")  # the CLI's choices and the dialog's list are FORMATS


def _accelerate(config: FTConfig, source_name: str, destination: Path, sharding: Sharding | None) -> ExportFile:
    from tuiapp.core.estimate.sharding import Sharding
    from tuiapp.core.export.accelerate_config import accelerate_export, per_gpu_line

    sharding = sharding or Sharding(2)
    line, why_not = per_gpu_line(config, sharding)
    export = accelerate_export(config, source_name, destination, sharding, line)
    notes = [*export.notes, *([why_not] if why_not else []), *([f"per GPU: {line}"] if line else [])]
    if export.rows_file is not None:
        notes.append(f"the rows are converted into {export.rows_file.name} now: export again after editing the data")
    companions = {export.script: export.script_text}
    return ExportFile(
        destination,
        export.text,
        export.command,
        export.untranslated,
        notes,
        export.rows_file,
        export.config,
        companions,
    )


def write_export(export: ExportFile) -> list[str]:
    """Write the rows (if any), then the file, each atomically (a full disk never leaves half of one); what was
    written, a line each. A failure is a located message."""
    from tuiapp.core.config.yaml_io import write_text_atomic
    from tuiapp.core.user_error import UserError

    written: list[str] = []
    target = export.rows_file or export.path
    try:
        if export.rows_file is not None and export.config is not None:
            from tuiapp.core.export.script import write_rows

            count = write_rows(export.config, export.rows_file)
            written.append(f"{export.rows_file} ({count:,} rows)")
        for path, text in export.companions.items():
            target = path
            write_text_atomic(path, text)
            written.append(str(path))
        target = export.path
        write_text_atomic(export.path, export.text)
    except OSError as exc:
        raise UserError(f"cannot write {target} ({exc.strerror or exc})", "choose another folder") from None
    return [str(export.path), *written]


def local_data_format(config: FTConfig) -> tuple[str | None, list[str], set[str]]:
    """The dataset's format as the dataset doctor detects it from a local file's first rows, a note when it
    could not be read here (a config exported for another box may name data that lives there), and the columns
    those rows have (after renames). None and no columns for a Hub id; the format as stated when it is."""
    from tuiapp.core.data.formats import apply_columns, detect_format
    from tuiapp.core.data.records import DataError
    from tuiapp.core.data.sources import is_local_source, peek

    if config.dataset is None or not is_local_source(config.dataset.source):
        return None, [], set()
    try:
        rows = peek(config.dataset.source, rows=200, skip_bad=True)
    except DataError as exc:
        return None, [f"the dataset was not read here, so its format was not checked ({exc})"], set()
    renamed = [apply_columns(row.data, config.dataset.columns) for row in rows]
    columns = {name for row in renamed for name in row}
    stated = config.dataset.format
    return (detect_format(renamed).format if stated == "auto" else None), [], columns
