"""`ftwizard train CONFIG.yaml` and `ftwizard resume RUN`: start the worker, then follow its progress."""

from __future__ import annotations

import argparse
import sys
from typing import Any

RUNS_DIR_HELP = "the folder holding the runs (default: $FTWIZARD_RUNS_DIR, else ~/.local/share/ftwizard/runs)"


def register(commands: Any) -> None:
    train = commands.add_parser("train", help="train headless from a config file (a detached worker does the work)")
    train.add_argument("config", metavar="CONFIG.yaml", help="the config file to run")
    train.add_argument("--detach", action="store_true", help="start the run and return at once")
    train.add_argument("--runs-dir", metavar="DIR", help=RUNS_DIR_HELP + "; overrides output.runs_root")
    train.set_defaults(handler=run_train)
    resume = commands.add_parser("resume", help="continue a stopped, died or failed run from its last checkpoint")
    resume.add_argument("run", metavar="RUN", help="the run's name (see `ftwizard runs`) or its directory")
    resume.add_argument("--detach", action="store_true", help="restart the run and return at once")
    resume.add_argument("--runs-dir", metavar="DIR", help=RUNS_DIR_HELP)
    resume.set_defaults(handler=run_resume)


def _start(paths: Any, detach: bool, launch: Any) -> int:
    from tuiapp.cli.run_progress import follow_run
    from tuiapp.core.runs.follow import EventFollower

    follower = EventFollower(paths.events)
    follower.offset = paths.events.stat().st_size if paths.events.exists() else 0  # only this launch's events
    process = launch(paths)
    print(f"run {paths.name} (pid {process.pid}) in {paths.root}")
    if detach:
        print(f"follow: tail -f {paths.log}   list: ftwizard runs   stop: ftwizard stop {paths.name}")
        return 0
    return follow_run(paths, follower, process)


def run_train(args: argparse.Namespace) -> int:
    from tuiapp.core.config import load_config
    from tuiapp.core.runs.launcher import launch_worker, prepare_run

    config = load_config(args.config)
    if refused := _refused_before_launch(config, args.config):
        return refused
    return _start(prepare_run(config, runs_dir=args.runs_dir), args.detach, launch_worker)


def _refused_before_launch(config: Any, source: str) -> int:
    """2 after printing them when `ftwizard check` would report errors (no run folder is made for a run the
    worker would refuse); warnings are printed and the run goes on. 0 when nothing stops it."""
    from tuiapp.cli.check_command import launch_findings
    from tuiapp.core.hardware import detect_hardware

    findings, _notes = launch_findings(config, detect_hardware())
    for finding in findings:
        print(f"{source}: {finding}", file=sys.stderr)
    errors = [finding for finding in findings if finding.level == "error"]
    if errors:
        print(f"ftwizard: {source} was not started: fix the error(s) above", file=sys.stderr)
    return 2 if errors else 0


def run_resume(args: argparse.Namespace) -> int:
    from tuiapp.core.runs.launcher import resume_run
    from tuiapp.core.runs.layout import find_run, resolve_runs_root

    paths = find_run(args.run, resolve_runs_root(args.runs_dir))
    return _start(paths, args.detach, resume_run)
