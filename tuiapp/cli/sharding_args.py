"""`--gpus N --sharding S --offload O`: one job over several GPUs of one machine, for `plan` and `export`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from tuiapp.cli.arg_types import whole_number
from tuiapp.core.estimate.sharding import GPUS_MAX, OFFLOADS, STRATEGIES

if TYPE_CHECKING:
    from tuiapp.core.estimate.sharding import Sharding


def add_sharding_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """The three flags; `what` ends the --gpus help ("per-GPU figures", "the accelerate config")."""
    parser.add_argument(
        "--gpus", type=whole_number(1, GPUS_MAX), metavar="N", help=f"GPUs of one machine (1-{GPUS_MAX}): {what}"
    )
    parser.add_argument(
        "--sharding",
        choices=tuple(STRATEGIES),
        help="with --gpus: "
        + "; ".join(f"{name}: {summary}" for name, summary in STRATEGIES.items())
        + " (default fsdp2)",
    )
    offloads = "; ".join(f"{name}: {', '.join(kinds)}" for name, kinds in OFFLOADS.items())
    parser.add_argument(
        "--offload",
        choices=("none", "optimizer", "all"),
        help=f"with --gpus: what moves to CPU memory (default none). Each strategy can: {offloads}",
    )


def sharding_from(args: argparse.Namespace, method: str | None) -> Sharding | None:
    """The Sharding the flags ask for (None for one GPU); a UserError when they do not go together."""
    from tuiapp.core.estimate.sharding import Sharding
    from tuiapp.core.user_error import UserError

    if args.gpus in (None, 1):
        extra = [flag for flag, value in (("--sharding", args.sharding), ("--offload", args.offload)) if value]
        if extra:
            verb = "applies" if len(extra) == 1 else "apply"
            raise UserError(f"{' and '.join(extra)} only {verb} to several GPUs", "add --gpus N (2 or more)")
        return None
    sharding = Sharding(args.gpus, args.sharding or "fsdp2", args.offload or "none")
    problem = sharding.problem(method or "lora")
    if problem:
        raise UserError(problem, "choose another --sharding or --offload (ftwizard plan --help lists them)")
    return sharding
