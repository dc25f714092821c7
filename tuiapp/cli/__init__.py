"""The `ftwizard` command: opens the wizard, or runs a step headless. Imports stay lazy for a fast start."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tuiapp import __version__
from tuiapp.cli.safety import run_safely


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; each subcommand module adds its own parser."""
    from tuiapp.cli import (
        attach_command,  # step 4: the live Training dashboard
        check_command,
        data_command,
        demo_command,
        gpu_command,
        plan_command,
        runs_command,
        train_command,
    )

    parser = argparse.ArgumentParser(
        prog="ftwizard",
        description="Fine-tune a model on one GPU, from plan to Hub. With no command, opens the wizard.",
    )
    parser.add_argument("--version", action="version", version=f"ftwizard {__version__}")
    parser.add_argument(
        "--gpu",
        metavar="GPU",
        help='plan for a GPU you do not have here: a name ("RTX 4090") or a size (24GB)',
    )
    parser.set_defaults(handler=_open_wizard)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    gpu_command.register(commands)
    check_command.register(commands)
    plan_command.register(commands)
    data_command.register(commands)
    train_command.register(commands)
    runs_command.register(commands)
    attach_command.register(commands)
    demo_command.register(commands)
    return parser


def _open_wizard(args: argparse.Namespace) -> int:
    from tuiapp.core.hardware import resolve_gpu
    from tuiapp.tui.app import FTWizardApp

    target = resolve_gpu(args.gpu) if args.gpu else None
    FTWizardApp(target=target).run()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and of `python -m tuiapp`."""
    args = build_parser().parse_args(argv)
    return run_safely(lambda: args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
