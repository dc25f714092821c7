"""A comparison's run directory: made and launched from the CLI or the Compare screen, read back by both.

```
RUNS_ROOT/compare-MODEL-STAMP/
  config.yaml     the config compared (its method is the one it was written for)
  compare.json    the plan: methods in order, steps, those left out and why (marks the folder a comparison)
  events.jsonl    compare_started, started, trial_started / trial_measured per method, estimate_mismatch, completed
  compare.txt     the report as text, written when the comparison ends
  status.json     the comparison worker's pid; worker.log its output
  trials/METHOD/  one run directory per method (config.yaml, events.jsonl, measured.json, worker.log)
```
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuiapp.core.compare.plan import ComparePlan
from tuiapp.core.compare.result import CompareResult, fold_compare
from tuiapp.core.runs.compare_events import CompareStarted
from tuiapp.core.runs.events import EventWriter
from tuiapp.core.runs.follow import read_events
from tuiapp.core.runs.layout import RunPaths, create_run_dir, resolve_runs_root, run_name_for
from tuiapp.core.user_error import UserError

if TYPE_CHECKING:
    import subprocess

COMPARE_MODULE = "tuiapp.training.compare_main"
PLAN_FILE = "compare.json"
REPORT_FILE = "compare.txt"
TRIALS_DIR = "trials"
MAX_PLAN_BYTES = 1 << 20


def is_comparison(root: Path) -> bool:
    return (root / PLAN_FILE).is_file()


def refuse_resume_of_comparison(paths: RunPaths) -> None:
    """`ftwizard resume` on a comparison would train its config.yaml as a run: say what to do instead."""
    if is_comparison(paths.root):
        raise UserError(
            f"run {paths.name} is a comparison of methods, which is not resumed",
            f"show it with `ftwizard compare --open {paths.name}`, or start a new one with "
            f"`ftwizard compare {paths.config}`",
        )


def trial_paths(root: Path, method: str) -> RunPaths:
    return RunPaths(root / TRIALS_DIR / method)


def prepare_comparison(plan: ComparePlan, runs_dir: str | None = None, base: Path | None = None) -> RunPaths:
    """Create the comparison's folder with its config, plan, trial configs and `compare_started` event."""
    from tuiapp.core.config import save_config
    from tuiapp.core.runs.launcher import resolved_config

    base = base or Path.cwd()
    configured = plan.base.output.runs_root
    root = resolve_runs_root(runs_dir, str(base / configured) if configured else None)
    paths = create_run_dir(root, run_name_for(plan.base.model.name_or_path, "compare"), exact=False)
    save_config(resolved_config(plan.base, root, paths.name, base), paths.config)
    trials_root = paths.root / TRIALS_DIR
    for method, config in plan.trials.items():
        trial = trial_paths(paths.root, method)
        trial.root.mkdir(parents=True)
        save_config(resolved_config(config, trials_root, method, base), trial.config)
    started = CompareStarted(
        methods=list(plan.trials),
        steps=plan.steps,
        model=plan.base.model.name_or_path,
        device=plan.device,
        gpu=plan.gpu,
        skipped=dict(plan.skipped),
        notes=list(plan.notes),
        planned=dict(plan.planned),
    )
    body = {"methods": started.methods, "steps": plan.steps, "skipped": started.skipped}
    body.update(device=plan.device, gpu=plan.gpu, bf16=plan.bf16)
    (paths.root / PLAN_FILE).write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    with EventWriter(paths.events) as writer:
        writer.write(started)
    return paths


def launch_comparison(paths: RunPaths) -> subprocess.Popen[bytes]:
    """Start the comparison worker detached (it outlives the terminal and the TUI), as `train` starts its own."""
    from tuiapp.core.runs.launcher import spawn_detached
    from tuiapp.core.runs.status import write_status

    launched_at = time.time()
    try:
        process = spawn_detached([sys.executable, "-m", COMPARE_MODULE, str(paths.root)], paths.root, paths.log)
        write_status(paths.status, process.pid, launched_at)
    except OSError as exc:
        raise UserError(
            f"cannot start comparison {paths.name}: {exc.filename or paths.root} cannot be written "
            f"({exc.strerror or exc})",
            f"make {paths.root.parent} writable, or free space on it",
        ) from None
    return process


def read_plan(root: Path) -> dict[str, Any]:
    """compare.json, checked: methods (a list of names) and steps (a count)."""
    try:
        raw = (root / PLAN_FILE).read_bytes()[:MAX_PLAN_BYTES]
        data = json.loads(raw)
    except (OSError, ValueError) as exc:
        raise UserError(f"{root / PLAN_FILE} cannot be read as a comparison plan ({exc})") from None
    methods, steps = data.get("methods") if isinstance(data, dict) else None, data.get("steps")
    if not (isinstance(methods, list) and all(isinstance(m, str) for m in methods) and isinstance(steps, int)):
        raise UserError(f"{root / PLAN_FILE} is not a comparison plan (methods and steps)")
    return data


def load_result(root: Path) -> CompareResult:
    """The comparison as its events have it (while it runs too)."""
    return fold_compare(read_events(root / "events.jsonl"))


def open_comparison(name: str, runs_dir: str | None) -> RunPaths:
    """A comparison by its name under the runs root, or its folder; a run that is not one is a UserError."""
    from tuiapp.core.runs.layout import find_run

    paths = find_run(name, resolve_runs_root(runs_dir))
    if not is_comparison(paths.root):
        raise UserError(
            f"run {paths.name} is a training run, not a comparison (it has no {PLAN_FILE})",
            "open it with `ftwizard attach NAME`; `ftwizard runs` lists the comparisons as compare-…",
        )
    return paths
