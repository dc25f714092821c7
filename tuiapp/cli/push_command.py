"""`ftwizard push RUN --repo NAME [--merged | --gguf] [--public] [--endpoint URL]`: publish a finished run on the
Hugging Face Hub (the adapter by default) with a generated model card, in this process. The token comes from
HF_TOKEN or `hf auth login`; a rerun after a failure sends only what the Hub does not have yet."""

from __future__ import annotations

import argparse
from typing import Any

from tuiapp.cli.train_command import RUNS_DIR_HELP


def register(commands: Any) -> None:
    push = commands.add_parser(
        "push",
        help="publish a finished run on the Hugging Face Hub (adapter, merged model or GGUF) with a model card",
        description="Publish a finished run on the Hugging Face Hub: the adapter (default), or the merged model "
        "(--merged, after `ftwizard merge RUN`), or the GGUF (--gguf, after `ftwizard gguf RUN`), with a "
        "generated model card, the loss curve and the config that trained it. The repo is private unless "
        "--public. The token comes from HF_TOKEN or `hf auth login`; it is never written anywhere.",
    )
    push.add_argument("run", metavar="RUN", help="the run's name (see `ftwizard runs`) or its directory")
    push.add_argument(
        "--repo",
        metavar="NAME",
        help="the Hub repo: name (in your account) or user-or-org/name; default: the config's output.hub_repo",
    )
    what = push.add_mutually_exclusive_group()
    what.add_argument("--merged", action="store_true", help="push the merged model (RUN/merged) instead")
    what.add_argument("--gguf", action="store_true", help="push the GGUF file and Modelfile (RUN/gguf) instead")
    push.add_argument("--public", action="store_true", help="create the repo public (default: private)")
    push.add_argument(
        "--endpoint", metavar="URL", help="a self-hosted Hub's address (default: $HF_ENDPOINT, else huggingface.co)"
    )
    push.add_argument("--runs-dir", metavar="DIR", help=RUNS_DIR_HELP)
    push.set_defaults(handler=run_push)


def run_push(args: argparse.Namespace) -> int:
    from tuiapp.cli.action_cli import run_action_here
    from tuiapp.core.config import load_config
    from tuiapp.core.hub.repo_name import check_repo_name
    from tuiapp.core.runs.layout import find_run, resolve_runs_root
    from tuiapp.core.user_error import UserError

    paths = find_run(args.run, resolve_runs_root(args.runs_dir))
    repo = args.repo or load_config(paths.config).output.hub_repo
    if not repo:
        raise UserError(
            f"no Hub repo for {paths.name}", "pass --repo NAME (name or user-or-org/name), or set output.hub_repo"
        )
    what = "merged" if args.merged else "gguf" if args.gguf else "adapter"
    options = {"repo": check_repo_name(repo), "what": what, "private": not args.public, "endpoint": args.endpoint}
    visibility = "public" if args.public else "private"
    return run_action_here(paths, "push", options, f"{what} to {options['repo']} ({visibility})")
