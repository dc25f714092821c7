"""`ftwizard export CONFIG --to FORMAT [-o PATH]`: the config in another tool's own format (ours, normalized,
or TRL's CLI), with what that tool cannot express listed on screen and in the file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    from tuiapp.cli.sharding_args import add_sharding_arguments
    from tuiapp.core.export.render import FORMATS

    parser = commands.add_parser("export", help=f"write the config in another tool's format ({', '.join(FORMATS)})")
    parser.add_argument("config", metavar="CONFIG.yaml", help="the ftwizard config to export")
    parser.add_argument(
        "--to",
        choices=tuple(FORMATS),
        required=True,
        help="; ".join(f"{name}: {summary}" for name, summary in FORMATS.items()),
    )
    parser.add_argument(
        "-o", "--out", metavar="PATH", help="the file to write (default: CONFIG.FORMAT.yaml beside the config)"
    )
    add_sharding_arguments(parser, "--to accelerate writes the config for them (default 2, FSDP2)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tuiapp.core.config import load_config
    from tuiapp.core.export.render import render_export, write_export
    from tuiapp.core.user_paths import user_path

    source = user_path(args.config)
    config = load_config(source)  # a ConfigError exits 2 with every located problem
    sharding = _sharding(args, config.method)
    export = render_export(config, args.to, source.name, _destination(args.out, source, args.to), sharding)
    for note in export.notes:
        print(f"note: {note}", file=sys.stderr)
    written = write_export(export)
    print(f"wrote {export.path} ({args.to})")
    for also in written[1:]:
        print(f"wrote {also}")
    print(f"  run it from {export.path.parent.resolve()}: {export.command}")
    if export.untranslated:
        print("not translated (the file lists these too):")
        for item in export.untranslated:
            print(f"  - {item}")
    return 0


def _sharding(args: argparse.Namespace, method: str) -> Any:
    """--gpus/--sharding/--offload, which only --to accelerate reads."""
    from tuiapp.cli.sharding_args import sharding_from
    from tuiapp.core.user_error import UserError

    if args.to != "accelerate":
        given = [flag for flag in ("gpus", "sharding", "offload") if getattr(args, flag) is not None]
        if given:
            flags = " and ".join(f"--{flag}" for flag in given)
            raise UserError(
                f"{flags} go with --to accelerate, not --to {args.to}", "add --to accelerate or leave them out"
            )
        return None
    if args.gpus == 1:
        raise UserError("--gpus 1: the accelerate export is for 2 GPUs or more", "export --to script for one GPU")
    return sharding_from(argparse.Namespace(**{**vars(args), "gpus": args.gpus or 2}), method)


def _destination(out: str | None, source: Path, to: str) -> Path:
    """Where to write: -o as typed (a folder gets the default name), else beside the config."""
    from tuiapp.core.export.render import default_export_name
    from tuiapp.core.save_target import save_target
    from tuiapp.core.user_error import UserError

    default_name = default_export_name(source.stem, to)
    try:
        path = save_target(out, default_name, suffixes=()) if out is not None else source.with_name(default_name)
    except UserError as exc:
        raise UserError(f"-o: {exc.what}", exc.fix) from None
    if path.resolve() == source.resolve():
        raise UserError(f"-o: {path} is the config being exported", "give another file name")
    return path
