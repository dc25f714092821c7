"""`python -m tuiapp.training.compare_trial TRIAL_DIR`: one method's trial of a comparison.

The ordinary worker's `run` trains the trial's config (the same backend, the same events), while this process
measures its peaks (compare_peaks) and writes them to measured.json as it ends. It runs as a child of the
comparison worker, in that worker's session, so it outlives the terminal as the comparison does.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tuiapp.core.compare.measure import MEASURED_FILE
from tuiapp.core.runs.events import Completed, Event, EventWriter, Started, Stopped
from tuiapp.core.runs.follow import read_events
from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.runs.run_totals import completed_with_totals
from tuiapp.core.runs.status import write_status


class TrialEventWriter(EventWriter):
    """An EventWriter that calls `on_started` as the `started` event goes out: training begins right after."""

    def __init__(self, path: Path, on_started: Callable[[], None]) -> None:
        super().__init__(path)
        self._on_started = on_started

    def write(self, event: Event) -> None:
        super().write(event)
        if isinstance(event, Started):
            self._on_started()


def _stop_on_signals(stop: threading.Event) -> None:
    def on_stop(signum: int, frame: Any) -> None:
        stop.set()  # the trainer stops at the end of its step; a trial keeps no checkpoint worth a wait

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def main(argv: Sequence[str] | None = None) -> int:
    """0 when the trial completed or was stopped, 1 when it failed, 2 on a bad argument."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or not (Path(args[0]) / "config.yaml").is_file():
        print("usage: python -m tuiapp.training.compare_trial TRIAL_DIR (holding config.yaml)", file=sys.stderr)
        return 2
    from tuiapp.training.compare_peaks import TrialPeaks
    from tuiapp.training.worker import run

    paths = RunPaths(Path(args[0]).resolve())
    stop = threading.Event()
    _stop_on_signals(stop)
    write_status(paths.status, os.getpid())
    peaks = TrialPeaks()
    with TrialEventWriter(paths.events, peaks.training_started) as writer:
        final = run(paths, stop, writer)
        if isinstance(final, Completed):
            final = completed_with_totals(final, read_events(paths.events))
        figures = peaks.figures()  # before the final event: whoever reads it finds measured.json written
        (paths.root / MEASURED_FILE).write_text(json.dumps(figures) + "\n", encoding="utf-8")
        writer.write(final)
    print(f"ftwizard trial: {final.kind} {json.dumps(figures)}", flush=True)
    return 0 if isinstance(final, Completed | Stopped) else 1


if __name__ == "__main__":
    sys.exit(main())
