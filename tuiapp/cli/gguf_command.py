"""`ftwizard gguf RUN --quant Q`: a finished run's model as one GGUF file (llama.cpp's own converter) plus an
Ollama Modelfile, in RUN/gguf or -o DIR: what the Finish screen's GGUF action does, here."""

from __future__ import annotations

import argparse
from typing import Any

from tuiapp.cli.train_command import RUNS_DIR_HELP
from tuiapp.core.user_paths import user_path


def register(commands: Any) -> None:
    from tuiapp.core.gguf_plan import LLAMA_QUANTIZE_ENV, QUANTS

    gguf = commands.add_parser(
        "gguf", help="convert a finished run's model to GGUF (llama.cpp, Ollama) with an Ollama Modelfile"
    )
    gguf.add_argument("run", metavar="RUN", help="the run's name (see `ftwizard runs`) or its directory")
    gguf.add_argument(
        "--quant",
        required=True,
        type=str.lower,
        choices=list(QUANTS),
        metavar="Q",
        help="the GGUF type: f16, bf16 or q8_0 need only the converter; "
        f"{', '.join(q for q, v in QUANTS.items() if not v.direct)} also need llama.cpp's llama-quantize",
    )
    gguf.add_argument("-o", "--out", metavar="DIR", help="write the .gguf and the Modelfile here (default: RUN/gguf)")
    gguf.add_argument(
        "--dtype",
        choices=("bf16", "fp16"),
        default="bf16",
        help="the precision of the merge made first, when RUN/merged is missing or older than the adapter "
        "(default: bf16)",
    )
    gguf.add_argument(
        "--llama-quantize",
        metavar="PATH",
        help=f"llama.cpp's llama-quantize binary (default: ${LLAMA_QUANTIZE_ENV}, else llama-quantize on PATH)",
    )
    gguf.add_argument("--runs-dir", metavar="DIR", help=RUNS_DIR_HELP)
    gguf.set_defaults(handler=run_gguf)


def run_gguf(args: argparse.Namespace) -> int:

    from tuiapp.cli.action_cli import run_action_here
    from tuiapp.core.runs.layout import find_run, resolve_runs_root

    paths = find_run(args.run, resolve_runs_root(args.runs_dir))
    out = str(user_path(args.out).resolve()) if args.out else None
    tool = str(user_path(args.llama_quantize).resolve()) if args.llama_quantize else None
    options = {"quant": args.quant, "dtype": args.dtype, "out": out, "llama_quantize": tool}
    return run_action_here(paths, "gguf", options, f"{args.quant} into {out or paths.gguf}")
