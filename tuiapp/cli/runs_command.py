"""`ftwizard runs` (list runs with their state and figures) and `ftwizard stop RUN` (stop gracefully)."""

from __future__ import annotations

import argparse
import json
import time
from typing import TYPE_CHECKING, Any

from tuiapp.cli.train_command import RUNS_DIR_HELP

if TYPE_CHECKING:
    from tuiapp.core.runs.listing import RunSummary


def register(commands: Any) -> None:
    runs = commands.add_parser("runs", help="list training runs: state, step, loss")
    runs.add_argument("--json", action="store_true", help="print a JSON list")
    runs.add_argument("--runs-dir", metavar="DIR", help=RUNS_DIR_HELP)
    runs.set_defaults(handler=run_list)
    stop = commands.add_parser("stop", help="stop a running training run (it saves a checkpoint first)")
    stop.add_argument("run", metavar="RUN", help="the run's name (see `ftwizard runs`) or its directory")
    stop.add_argument("--runs-dir", metavar="DIR", help=RUNS_DIR_HELP)
    stop.set_defaults(handler=run_stop)


def _when(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp)) if stamp else "-"


def _note(run: RunSummary) -> str:
    """`2 OOM recoveries: micro-batch 1 x 16 accumulation, checkpointing on` and `merge done, push failed`."""
    notes = []
    if run.oom_recoveries:
        plural = "y" if run.oom_recoveries == 1 else "ies"
        notes.append(f"{run.oom_recoveries} OOM recover{plural}: {run.recovered_settings}")
    if run.actions:
        notes.append(", ".join(f"{action} {state}" for action, state in run.actions.items()))
    if run.skipped_lines:
        notes.append(f"{run.skipped_lines} unreadable event line{'s' if run.skipped_lines > 1 else ''} skipped")
    return "; ".join(notes)


def _printable(text: str) -> str:
    """A folder name the file system gave in bytes that are not UTF-8 prints as escapes, never as a crash."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")[:REASON_CHARS]


REASON_CHARS = 300  # of a damaged run's reason, and of a name, in the table


def run_list(args: argparse.Namespace) -> int:
    from tuiapp.core.runs.layout import resolve_runs_root
    from tuiapp.core.runs.listing import list_runs

    root = resolve_runs_root(args.runs_dir)
    runs = list_runs(root)
    if args.json:
        print(json.dumps([run.to_json() for run in runs], indent=2))  # ensure_ascii: any name prints
        return 0
    if not runs:
        print(f"no runs in {_printable(str(root))}; start one with: ftwizard train CONFIG.yaml")
        return 0
    notes = any(run.oom_recoveries or run.actions or run.skipped_lines for run in runs)  # a NOTES column if any
    rows = [("RUN", "STATE", "STEP", "LOSS", "EVAL", "STARTED", *(("NOTES",) if notes else ()))]
    for run in runs:
        step = f"{run.step}/{run.total_steps}" if run.total_steps else str(run.step)
        loss = f"{run.loss:.4f}" if run.loss is not None else "-"
        eval_loss = f"{run.eval_loss:.4f}" if run.eval_loss is not None else "-"
        row = (_printable(run.name), run.state, step, loss, eval_loss, _when(run.started_at))
        rows.append((*row, _note(run)) if notes else row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    print(f"({len(runs)} in {_printable(str(root))})")
    for run in runs:
        if run.damaged:
            print(f"damaged {_printable(run.name)}: {_printable(run.damaged)} (in {_printable(run.path)})")
    return 0


def run_stop(args: argparse.Namespace) -> int:
    from tuiapp.core.runs.launcher import stop_run
    from tuiapp.core.runs.layout import find_run, resolve_runs_root

    paths = find_run(args.run, resolve_runs_root(args.runs_dir))
    pid = stop_run(paths)
    print(f"asked run {paths.name} (pid {pid}) to stop; it saves a checkpoint, then ends (ftwizard runs shows it)")
    return 0
