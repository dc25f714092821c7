"""`ftwizard attach [RUN]`: open the live Training dashboard for a run (the newest running one by default)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tuiapp.cli.train_command import RUNS_DIR_HELP


def register(commands: Any) -> None:
    attach = commands.add_parser(
        "attach", help="open the live training dashboard for a run (d detaches again; training goes on)"
    )
    attach.add_argument(
        "run", metavar="RUN", nargs="?", help="the run's name or directory (default: the newest running run)"
    )
    attach.add_argument("--runs-dir", metavar="DIR", help=RUNS_DIR_HELP)
    attach.set_defaults(handler=run_attach)


def pick_run(name: str | None, root: Path) -> Path:
    """The run directory to attach to: the one named, else the newest running run under `root`."""
    from tuiapp.core.runs.layout import find_run
    from tuiapp.core.runs.listing import list_runs
    from tuiapp.core.runs.run_damage import events_problem
    from tuiapp.core.user_error import UserError

    if name is not None:  # an empty name is a mistake to say, not a request for the newest run
        paths = find_run(name, root)
        if problem := events_problem(paths.events):
            raise UserError(
                f"run {paths.name} cannot be shown: {problem} (in {paths.root})",
                f"give yourself read access to it (chmod u+r {paths.events}); `ftwizard runs` lists the others",
            )
        return paths.root
    running = [run for run in list_runs(root) if run.state == "running"]
    if not running:
        raise UserError(
            f"no run is training in {root}: `ftwizard runs` lists every run; "
            "attach to a finished one by name (ftwizard attach NAME) to see its charts"
        )
    newest = max(running, key=lambda run: run.started_at or 0.0)
    return Path(newest.path)


def run_attach(args: argparse.Namespace) -> int:
    from tuiapp.core.runs.layout import resolve_runs_root
    from tuiapp.tui.app import FTWizardApp

    run_dir = pick_run(args.run, resolve_runs_root(args.runs_dir))
    app = FTWizardApp(run_dir=run_dir)
    app.run()
    return app.return_code or 0
