"""`ftwizard compare CONFIG`: a short measured trial of each method, beside the planner's estimates; and
`ftwizard compare --open RUN` to show a comparison again. The trials run in a detached worker
(tuiapp.training.compare_main), one after the other, in a run directory `ftwizard runs` lists."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from tuiapp.cli.train_command import RUNS_DIR_HELP

if TYPE_CHECKING:
    from tuiapp.core.compare.result import CompareResult
    from tuiapp.core.runs.layout import RunPaths

POLL_S = 0.5


def register(commands: Any) -> None:
    from tuiapp.cli.arg_types import whole_number
    from tuiapp.core.compare.plan import DEFAULT_METHODS, DEFAULT_STEPS, STEPS_BOUNDS
    from tuiapp.core.config.choices import STEPS_MAX  # a number at all; check_steps says a trial's bounds

    parser = commands.add_parser(
        "compare", help="measure a short trial of each method here (tokens/s, peak memory, loss) beside the estimates"
    )
    parser.add_argument("config", metavar="CONFIG.yaml", nargs="?", help="the config to compare methods for")
    parser.add_argument(
        "--methods", default=",".join(DEFAULT_METHODS), help=f"comma-separated (default {','.join(DEFAULT_METHODS)})"
    )
    low, high = STEPS_BOUNDS
    parser.add_argument(
        "--steps",
        type=whole_number(1, STEPS_MAX),
        default=DEFAULT_STEPS,
        help=f"steps per trial, {low}-{high} (default {DEFAULT_STEPS})",
    )
    parser.add_argument("--open", metavar="RUN", help="show a comparison made before (its name or folder)")
    parser.add_argument("--detach", action="store_true", help="start the comparison and return at once")
    parser.add_argument("--json", action="store_true", help="with --open: print the comparison as JSON")
    parser.add_argument("--runs-dir", metavar="DIR", help=RUNS_DIR_HELP)
    parser.set_defaults(handler=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    from tuiapp.core.compare.run_dir import load_result, open_comparison
    from tuiapp.core.user_error import UserError

    if args.open is not None:
        if args.config is not None:
            raise UserError("give either CONFIG.yaml (a new comparison) or --open RUN (an old one), not both")
        paths = open_comparison(args.open, args.runs_dir)
        return _show(paths, load_result(paths.root), args.json)
    if args.config is None:
        raise UserError("no config given", "run `ftwizard compare CONFIG.yaml`, or `ftwizard compare --open RUN`")
    if args.json:
        raise UserError("--json goes with --open RUN (a new comparison prints its progress as it goes)")
    paths, process = start_comparison(args.config, args.methods, args.steps, args.runs_dir)
    print(f"comparison {paths.name} (pid {process.pid}) in {paths.root}")
    if args.detach:
        print(f"show it: ftwizard compare --open {paths.name}   stop: ftwizard stop {paths.name}")
        return 0
    return _follow(paths)


def start_comparison(config_path: str, methods_text: str, steps: int, runs_dir: str | None) -> tuple[RunPaths, Any]:
    """Check the input, plan, make the run directory and launch its worker (the TUI's Compare screen too)."""
    from tuiapp.core.compare.plan import check_steps, parse_methods
    from tuiapp.core.compare.start import start_for_config
    from tuiapp.core.config import load_config

    methods, steps = parse_methods(methods_text), check_steps(steps)
    return start_for_config(load_config(config_path), methods, steps, runs_dir)


def _line(event: Any) -> str | None:
    from tuiapp.core.runs.compare_events import EstimateMismatch, TrialMeasured, TrialStarted

    if isinstance(event, TrialStarted):
        return f"[{event.index}/{event.total}] {event.method}: training…"
    if isinstance(event, TrialMeasured):
        speed = f", {event.tokens_per_s:,.0f} tokens/s" if event.tokens_per_s is not None else ""
        loss = f", loss {event.loss:.4f}" if event.loss is not None else ""
        return f"      {event.method}: {event.state} after {event.steps} steps{speed}{loss}"
    if isinstance(event, EstimateMismatch):
        return f"      {event.method}: {event.figure} {event.ratio - 1:+.1%} off the estimate (recorded)"
    return None


def _follow(paths: RunPaths) -> int:
    """Print each trial as it starts and ends, then the report; Ctrl-C leaves the comparison running."""
    from tuiapp.core.compare.run_dir import load_result
    from tuiapp.core.runs.events import FINAL_KINDS
    from tuiapp.core.runs.follow import EventFollower
    from tuiapp.core.runs.status import is_alive, read_status

    follower = EventFollower(paths.events)
    try:
        while True:
            events = follower.poll()
            for event in events:
                if (line := _line(event)) is not None:
                    print(line, flush=True)
            if any(event.kind in FINAL_KINDS for event in events):
                break
            status = read_status(paths.status)
            if status is not None and not is_alive(status) and not follower.poll():
                print(f"ftwizard: the comparison worker died; its log: {paths.log}", file=sys.stderr)
                return 1
            time.sleep(POLL_S)
    except KeyboardInterrupt:
        print(f"\nthe comparison goes on: ftwizard compare --open {paths.name}   stop: ftwizard stop {paths.name}")
        return 130
    result = load_result(paths.root)
    _show(paths, result, as_json=False)
    return 0 if result.final == "completed" else 1


def result_to_json(result: CompareResult) -> dict[str, Any]:
    started = result.started
    return {
        "plan": asdict(started) if started else None,
        "state": result.final or "running",
        "methods": {
            row.method: {
                "state": row.state,
                "skipped": row.skipped,
                "planned": row.planned,
                "trial": asdict(row.trial) if row.trial else None,
                "off_estimate": row.off,
            }
            for row in result.rows.values()
        },
    }


def _show(paths: RunPaths, result: CompareResult, as_json: bool) -> int:
    from tuiapp.core.compare.table import report_lines

    if as_json:
        print(json.dumps({"run": paths.name, **result_to_json(result)}, indent=2))
        return 0
    print("\n".join(report_lines(result)))
    if result.final is None:
        print(f"(still running: ftwizard compare --open {paths.name} again for the rest)")
    print(f"run: {paths.root}")
    return 0
