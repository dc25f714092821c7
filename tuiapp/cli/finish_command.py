"""`ftwizard finish RUN`: the Finish screen of a run (chat, merge, GGUF, push); with `--print` (or when the
output is not a terminal) the same facts as text: the result, each action's last outcome, the commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tuiapp.cli.train_command import RUNS_DIR_HELP


def register(commands: Any) -> None:
    finish = commands.add_parser(
        "finish", help="a finished run's result and what to do with it: chat, merge, GGUF, push (the Finish screen)"
    )
    finish.add_argument("run", metavar="RUN", nargs="?", help="the run's name or directory (default: the newest)")
    finish.add_argument("--print", action="store_true", help="print the result and the next commands; no screen")
    finish.add_argument("--runs-dir", metavar="DIR", help=RUNS_DIR_HELP)
    finish.set_defaults(handler=run_finish)


def _pick(name: str | None, root: Path) -> Path:
    from tuiapp.core.runs.layout import find_run
    from tuiapp.core.runs.listing import list_runs
    from tuiapp.core.user_error import UserError

    if name is not None:  # an empty name is a mistake to say, not a request for the newest run
        return find_run(name, root).root
    completed = [run for run in list_runs(root) if run.state == "completed"]
    if not completed:
        raise UserError(f"no completed run in {root}", "`ftwizard runs` lists them; name one: ftwizard finish NAME")
    return Path(completed[0].path)


def finish_lines(run_dir: Path) -> list[str]:
    """The text form of the Finish screen."""
    from tuiapp.core.runs.action_history import action_records, latest_by_action
    from tuiapp.core.runs.follow import read_events
    from tuiapp.core.runs.layout import RunPaths
    from tuiapp.core.runs.run_result import run_result
    from tuiapp.tui.widgets.finish_panels import result_text

    paths = RunPaths(run_dir)
    events = read_events(paths.events)
    result = run_result(paths, events)
    lines = result_text(result).plain.splitlines()
    latest = latest_by_action(action_records(events))
    name = paths.name
    commands = {
        "chat": f"ftwizard chat {name}",
        "merge": f"ftwizard merge {name}",
        "gguf": f"ftwizard gguf {name} --quant q8_0",
        "push": f"ftwizard push {name} --repo NAME",
    }
    lines.append("")
    for action, command in commands.items():
        record = latest.get(action)
        state = record.line().split(": ", 1)[1] if record else "not run yet"
        lines.append(f"{action:6} {state[:160]}")
        lines.append(f"       {command}")
    return lines


def run_finish(args: argparse.Namespace) -> int:
    from tuiapp.core.runs.layout import resolve_runs_root

    run_dir = _pick(args.run, resolve_runs_root(args.runs_dir))
    if args.print or not sys.stdout.isatty():
        print("\n".join(finish_lines(run_dir)))
        return 0
    from tuiapp.tui.app import FTWizardApp

    app = FTWizardApp(finish_dir=run_dir)
    app.run()
    return app.return_code or 0
