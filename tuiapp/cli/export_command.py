"""`ftwizard export CONFIG --to FORMAT [-o PATH]`: the config in another tool's own format (ours, normalized,
or TRL's CLI), with what that tool cannot express listed on screen and in the file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig

FORMATS = {"ftwizard": "ftwizard", "trl": "trl"}  # --to value: the suffix of the default file name


def register(commands: Any) -> None:
    parser = commands.add_parser("export", help="write the config in another tool's format (ftwizard, trl)")
    parser.add_argument("config", metavar="CONFIG.yaml", help="the ftwizard config to export")
    parser.add_argument(
        "--to",
        choices=tuple(FORMATS),
        required=True,
        help="ftwizard: our YAML, normalized and commented; trl: a config for `trl sft --config FILE`",
    )
    parser.add_argument(
        "-o", "--out", metavar="PATH", help="the file to write (default: CONFIG.FORMAT.yaml beside the config)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tuiapp.core.config import load_config
    from tuiapp.core.user_paths import user_path

    source = user_path(args.config)
    config = load_config(source)  # a ConfigError exits 2 with every located problem
    destination = _destination(args.out, source, args.to)
    if args.to == "ftwizard":
        from tuiapp.core.config import dump_config

        text, untranslated, command = dump_config(config), [], f"ftwizard train {destination.name}"
    else:
        from tuiapp.core.export.trl_cli import trl_export

        export = trl_export(config, source.name, destination, _data_format(config))
        text, untranslated, command = export.yaml_text(), export.untranslated, export.command
    _write(destination, text)
    print(f"wrote {destination} ({args.to})")
    print(f"  run it from {destination.parent.resolve()}: {command}")
    if untranslated:
        print("not translated (the file lists these too):")
        for item in untranslated:
            print(f"  - {item}")
    return 0


def _destination(out: str | None, source: Path, to: str) -> Path:
    """Where to write: -o as typed (a folder gets the default name), else beside the config."""
    from tuiapp.core.file_kinds import special_kind
    from tuiapp.core.user_error import UserError
    from tuiapp.core.user_paths import user_path

    default_name = f"{source.stem}.{FORMATS[to]}.yaml"
    path = user_path(out) if out else source.with_name(default_name)
    if path.is_dir():
        path = path / default_name
    try:
        kind = special_kind(path.stat().st_mode)
    except OSError:
        kind = None
    if kind is not None:
        raise UserError(f"-o: {path} is {kind}", "give the name of a file to write")
    if path.resolve() == source.resolve():
        raise UserError(f"-o: {path} is the config being exported", "give another file name")
    return path


def _data_format(config: FTConfig) -> str | None:
    """The dataset's format as the dataset doctor detects it from a local file's first rows; None for a Hub id
    or a file that cannot be read here (a config exported for another box may name data that lives there)."""
    from tuiapp.core.data.formats import apply_columns, detect_format
    from tuiapp.core.data.records import DataError
    from tuiapp.core.data.sources import is_local_source, peek

    if config.dataset is None or config.dataset.format != "auto" or not is_local_source(config.dataset.source):
        return None
    try:
        rows = peek(config.dataset.source, rows=200, skip_bad=True)
    except DataError as exc:
        print(f"note: the dataset was not read here, so its format was not checked ({exc})", file=sys.stderr)
        return None
    return detect_format([apply_columns(row.data, config.dataset.columns) for row in rows]).format


def _write(path: Path, text: str) -> None:
    """Write atomically: a full disk never leaves half an export; a failure is a located message."""
    from tuiapp.core.config.yaml_io import write_text_atomic
    from tuiapp.core.user_error import UserError

    try:
        write_text_atomic(path, text)
    except OSError as exc:
        raise UserError(f"-o: cannot write {path} ({exc.strerror or exc})", "choose another folder") from None
