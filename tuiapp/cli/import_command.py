"""`ftwizard import FILE [--from TOOL] [-o OUT.yaml] [--force]`: an Axolotl, LLaMA-Factory or TRL config read
into ours, with what mapped, what did not (and why) and our settings left at their defaults, all on screen."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

MAX_PRINTED = 200  # lines a section prints; the rest counted (a 1 MB file could hold many thousand keys)


def register(commands: Any) -> None:
    from tuiapp.core.imports import TOOLS

    parser = commands.add_parser("import", help="read an Axolotl, LLaMA-Factory or TRL config into ours")
    parser.add_argument("file", metavar="FILE", help="the other tool's YAML config")
    parser.add_argument(
        "--from", dest="tool", choices=tuple(TOOLS), help="the tool FILE is for (default: told from its keys)"
    )
    parser.add_argument(
        "-o", "--out", metavar="OUT.yaml", help="where to write ours (default: FILE's stem + .ftwizard.yaml beside it)"
    )
    parser.add_argument("--force", action="store_true", help="replace OUT.yaml when it exists")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tuiapp.core.config.yaml_io import write_text_atomic
    from tuiapp.core.imports import TOOLS
    from tuiapp.core.imports.engine import import_config
    from tuiapp.core.user_error import UserError
    from tuiapp.core.user_paths import user_path

    source = user_path(args.file)
    imported = import_config(source, args.tool)  # a bad file or value exits 2, named by file, line and key
    destination = _destination(args.out, source, args.force)
    for note in imported.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"{source}: read as a config for {TOOLS[imported.tool]}")
    _section(f"mapped ({len(imported.mapped)}):", imported.mapped, "  ")
    _section(f"as ftwizard does it already ({len(imported.agreed)}):", imported.agreed, "  ")
    _section(f"not mapped, left out ({len(imported.not_mapped)}):", imported.not_mapped, "  - ")
    _section(f"left at ftwizard's defaults ({len(imported.defaults)}):", imported.defaults, "  - ")
    try:
        write_text_atomic(destination, imported.yaml_text(source.name))
    except OSError as exc:
        raise UserError(f"cannot write {destination} ({exc.strerror or exc})", "choose another folder") from None
    print(f"wrote {destination}")
    print(f"  check it: ftwizard check {destination}   open it: ftwizard --config {destination}")
    return 0


def _section(title: str, items: list[str], bullet: str) -> None:
    if not items:
        return
    print(title)
    for item in items[:MAX_PRINTED]:
        print(f"{bullet}{item}")
    if len(items) > MAX_PRINTED:
        print(f"  ... and {len(items) - MAX_PRINTED} more")


def _destination(out: str | None, source: Path, force: bool) -> Path:
    """Where to write: -o as typed (a folder gets the default name), else STEM.ftwizard.yaml beside FILE; an
    existing file only with --force, and never FILE itself."""
    from tuiapp.core.save_target import save_target
    from tuiapp.core.user_error import UserError

    default_name = f"{source.stem}.ftwizard.yaml"
    try:
        path = save_target(out, default_name) if out is not None else source.with_name(default_name)
    except UserError as exc:
        raise UserError(f"-o: {exc.what}", exc.fix) from None
    if path.resolve() == source.resolve():
        raise UserError(f"-o: {path} is the file being imported", "give another file name")
    if path.exists() and not force:
        raise UserError(f"{path} exists", "pass --force to replace it, or -o another file")
    return path
