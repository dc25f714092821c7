"""`ftwizard merge RUN`: fold a finished run's adapter into its base model and save a plain 16-bit model
(RUN/merged, or -o DIR) that loads with from_pretrained alone: what the Finish screen's merge does, here."""

from __future__ import annotations

import argparse
from typing import Any

from tuiapp.cli.train_command import RUNS_DIR_HELP
from tuiapp.core.user_paths import user_path


def register(commands: Any) -> None:
    merge = commands.add_parser(
        "merge", help="merge a finished run's LoRA/QLoRA adapter into its 16-bit base model (safetensors shards)"
    )
    merge.add_argument("run", metavar="RUN", help="the run's name (see `ftwizard runs`) or its directory")
    merge.add_argument(
        "--dtype", choices=("bf16", "fp16"), default="bf16", help="the merged weights' precision (default: bf16)"
    )
    merge.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where to merge: auto uses the GPU when the model fits in its free memory, else the CPU",
    )
    merge.add_argument(
        "-o",
        "--out",
        metavar="DIR",
        help="write the merged model here (default: RUN/merged); an earlier merge is replaced",
    )
    merge.add_argument("--runs-dir", metavar="DIR", help=RUNS_DIR_HELP)
    merge.set_defaults(handler=run_merge)


def run_merge(args: argparse.Namespace) -> int:

    from tuiapp.cli.action_cli import run_action_here
    from tuiapp.core.runs.layout import find_run, resolve_runs_root

    paths = find_run(args.run, resolve_runs_root(args.runs_dir))
    out = str(user_path(args.out).resolve()) if args.out else None
    options = {"dtype": args.dtype, "device": args.device, "out": out}
    detail = f"{args.dtype} on {args.device} into {out or paths.merged}"
    return run_action_here(paths, "merge", options, detail)
