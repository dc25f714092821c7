"""The `ftwizard` command: opens the wizard, or runs a step headless. Imports stay lazy for a fast start:
`--version` and the plain wizard (`ftwizard`, `ftwizard --gpu X`) skip the parser, which imports every command."""

from __future__ import annotations

import sys

from tuiapp import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: a fifth of what `--version` costs
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from tuiapp.core.hardware import GpuSpec


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; each subcommand module adds its own parser."""
    import argparse

    from tuiapp.cli import (
        attach_command,  # step 4: the live Training dashboard
        chat_command,
        check_command,
        compare_command,
        data_command,
        demo_command,
        export_command,
        finish_command,
        gguf_command,
        gpu_command,
        import_command,
        merge_command,
        plan_command,
        push_command,
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
    parser.add_argument(
        "--config",
        metavar="CONFIG.yaml",
        help="open the wizard with a saved config, at the first step that needs you (Hyperparameters when all is set)",
    )
    parser.set_defaults(handler=_open_wizard)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    gpu_command.register(commands)
    check_command.register(commands)
    plan_command.register(commands)
    data_command.register(commands)
    train_command.register(commands)
    compare_command.register(commands)
    runs_command.register(commands)
    attach_command.register(commands)
    demo_command.register(commands)
    chat_command.register(commands)
    finish_command.register(commands)
    merge_command.register(commands)
    gguf_command.register(commands)
    push_command.register(commands)
    export_command.register(commands)
    import_command.register(commands)
    return parser


def _open_wizard(args: argparse.Namespace) -> int:
    if not args.config:
        return _run_wizard(args.gpu)
    from tuiapp.core.config import load_config
    from tuiapp.core.user_paths import user_path
    from tuiapp.tui.app import FTWizardApp

    path = user_path(args.config).resolve()
    config = load_config(path)  # a bad config is reported here, located, before the screen opens
    app = FTWizardApp(target=_target_gpu(args.gpu), config=config, config_path=path)
    app.run()
    return app.return_code or 0


def _run_wizard(gpu: str | None) -> int:
    from tuiapp.core.hardware import detect_hardware
    from tuiapp.core.hardware.background import DetectionInBackground

    detect = DetectionInBackground(detect_hardware)  # overlaps the imports below
    from tuiapp.tui.app import FTWizardApp

    app = FTWizardApp(target=_target_gpu(gpu), detect=detect)
    app.run()
    return app.return_code or 0


def _target_gpu(gpu: str | None) -> GpuSpec | None:
    """The catalogue GPU `--gpu` names; the catalogue loads only then (its models are not needed to start)."""
    if not gpu:
        return None
    from tuiapp.core.hardware import resolve_gpu

    return resolve_gpu(gpu)


def _wizard_only(words: list[str]) -> tuple[str | None] | None:
    """`(gpu,)` when the words only open the wizard (none, `--gpu X`, `--gpu=X`), as the parser would read them."""
    if not words:
        return (None,)
    if len(words) == 2 and words[0] == "--gpu" and not words[1].startswith("-"):
        return (words[1],)
    if len(words) == 1 and words[0].startswith("--gpu="):
        return (words[0].removeprefix("--gpu="),)
    return None


def _print_version() -> int:
    print(f"ftwizard {__version__}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and of `python -m tuiapp`."""
    from tuiapp.cli.safety import run_safely  # a closed pipe (`| head`) ends any command quietly

    words = sys.argv[1:] if argv is None else list(argv)
    if words[:1] == ["--version"]:  # what argparse would print, without building the parser
        return run_safely(_print_version)
    if (wizard := _wizard_only(words)) is not None:
        return run_safely(lambda: _run_wizard(*wizard))
    return run_safely(lambda: _run_command(words))


def _run_command(words: list[str]) -> int:
    """Parse (argparse prints help or a usage error and exits itself), then run the subcommand."""
    args = build_parser().parse_args(words)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
