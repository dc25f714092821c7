"""`python -m tuiapp.training.compare_main RUN_DIR`: the comparison worker, detached like the training worker.

It runs each planned trial in its own child process (`compare_trial`), one after the other, so every method
starts from an empty GPU and its peaks are its own; after each it writes `trial_measured` (and
`estimate_mismatch` for a peak more than 5% off its estimate), then removes the trial's weights (a trial
measures; its adapter is not a result). SIGTERM stops the trial running and the ones left; SIGHUP is ignored.
Imports no ML library: the trials do.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tuiapp.core.child_env import child_env
from tuiapp.core.compare.measure import measure_trial, mismatch_events
from tuiapp.core.compare.run_dir import REPORT_FILE, load_result, read_plan, trial_paths
from tuiapp.core.compare.table import report_lines
from tuiapp.core.runs.compare_events import TrialStarted
from tuiapp.core.runs.events import Completed, EventWriter, Failed, Started, Stopped
from tuiapp.core.runs.follow import read_events
from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.runs.status import read_status, write_status

TRIAL_MODULE = "tuiapp.training.compare_trial"


class Comparison:
    """The loop over trials, and the child running now (a stop request is passed on to it)."""

    def __init__(self, paths: RunPaths, plan: dict[str, Any]) -> None:
        self.paths, self.plan = paths, plan
        self.stop = threading.Event()
        self.child: subprocess.Popen[bytes] | None = None

    def request_stop(self, signum: int, frame: Any) -> None:
        self.stop.set()
        if self.child is not None and self.child.poll() is None:
            with contextlib.suppress(OSError):
                self.child.send_signal(signal.SIGTERM)

    def run_trial(self, trial: RunPaths) -> None:
        with trial.log.open("ab") as log:
            self.child = subprocess.Popen(
                [sys.executable, "-m", TRIAL_MODULE, str(trial.root)],
                cwd=trial.root, env=child_env(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            if self.stop.is_set():  # a signal that came while it started
                self.child.send_signal(signal.SIGTERM)
            self.child.wait()

    def measure(self, method: str, trial: RunPaths, writer: EventWriter) -> bool:
        """Write the trial's figures; True when it completed."""
        from tuiapp.core.estimate.from_config import setup_from_config

        config, shape = _config_and_shape(trial)
        bf16 = bool(self.plan.get("bf16", True))
        measured = measure_trial(trial, method, str(self.plan.get("device", "cpu")), config, shape, bf16)
        writer.write(measured)
        started = next((e for e in read_events(trial.events) if isinstance(e, Started)), None)
        setup = _plain(asdict(setup_from_config(config, bf16))) if config is not None else {}
        setup["batch_shape"] = measured.batch_shape
        for mismatch in mismatch_events(measured, self.plan.get("gpu"), setup, started.versions if started else {}):
            writer.write(mismatch)
        for folder in (trial.final, trial.checkpoints):
            shutil.rmtree(folder, ignore_errors=True)
        return measured.state == "completed"

    def run(self, writer: EventWriter) -> Completed | Stopped | Failed:
        methods, steps = self.plan["methods"], self.plan["steps"]
        writer.write(Started(pid=os.getpid(), step=0, total_steps=steps * len(methods),
                             notes=[f"comparison of {', '.join(methods)}, {steps} steps each"]))  # fmt: skip
        done = 0
        for index, method in enumerate(methods, start=1):
            if self.stop.is_set():
                break
            trial = trial_paths(self.paths.root, method)
            writer.write(TrialStarted(method=method, index=index, total=len(methods), run_dir=str(trial.root)))
            self.run_trial(trial)
            self.measure(method, trial, writer)
            done += steps
        if self.stop.is_set():
            return Stopped(step=done)
        return Completed(step=done, artifacts=[str(self.paths.root / REPORT_FILE)])


def _config_and_shape(trial: RunPaths) -> tuple[Any, Any]:
    """The trial's config and its model's shape, or None for what cannot be read (then no estimate)."""
    from tuiapp.core.config import load_config
    from tuiapp.core.models.resolve import resolve_model
    from tuiapp.core.user_error import UserError

    try:
        config = load_config(trial.config)
    except (UserError, OSError):
        return None, None
    try:
        return config, resolve_model(config.model.name_or_path, revision=config.model.revision).shape
    except (UserError, OSError):
        return config, None


def _plain(value: Any) -> Any:
    """A setup's fields as JSON values (tuples become lists)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def _write_report(paths: RunPaths) -> None:
    with contextlib.suppress(OSError):
        text = "\n".join(report_lines(load_result(paths.root))) + "\n"
        (paths.root / REPORT_FILE).write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """0 when every trial ran (completed or not: a trial's OOM is a result), 1 when the comparison broke."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python -m tuiapp.training.compare_main RUN_DIR", file=sys.stderr)
        return 2
    paths = RunPaths(Path(args[0]).resolve())
    status = read_status(paths.status)
    if status is None or status.pid != os.getpid():
        write_status(paths.status, os.getpid())
    with EventWriter(paths.events) as writer:
        try:
            comparison = Comparison(paths, read_plan(paths.root))
            signal.signal(signal.SIGTERM, comparison.request_stop)
            signal.signal(signal.SIGINT, comparison.request_stop)
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            final: Completed | Stopped | Failed = comparison.run(writer)
        except Exception as exc:  # the comparison must end with a final event whatever broke
            final = Failed(reason="compare", message=f"{type(exc).__name__}: {str(exc)[:500]}")
        writer.write(final)
    _write_report(paths)
    print(f"ftwizard compare: {final.kind}", flush=True)
    return 1 if isinstance(final, Failed) else 0


if __name__ == "__main__":
    sys.exit(main())
