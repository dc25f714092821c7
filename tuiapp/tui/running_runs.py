"""The runs going on this machine, as the app shows them: the title bar's note, the quit message, attach."""

from __future__ import annotations

from pathlib import Path

from tuiapp.core.runs.events import Metrics
from tuiapp.core.runs.follow import read_events
from tuiapp.core.runs.layout import RunPaths, resolve_runs_root
from tuiapp.core.runs.listing import RunSummary, summarize_run
from tuiapp.core.runs.status import is_alive, read_status


class RunningRuns:
    """Reads the runs root; only runs whose worker is alive are read in full, so a long history costs little."""

    def __init__(self, runs_dir: Path | None = None) -> None:
        self.root = resolve_runs_root(str(runs_dir) if runs_dir else None)

    def alive(self) -> list[RunPaths]:
        """Runs whose worker process lives: a status file each, no events read (the title bar's poll)."""
        if not self.root.is_dir():
            return []
        found = []
        for folder in self.root.iterdir():
            paths = RunPaths(folder)
            status = read_status(paths.status) if paths.status.is_file() else None
            if status is not None and is_alive(status):
                found.append(paths)
        return found

    def running(self) -> list[RunSummary]:
        """Live runs that have not written their final event, newest first (reads their events)."""
        summaries = [summarize_run(paths) for paths in self.alive()]
        found = [summary for summary in summaries if summary.state == "running"]
        return sorted(found, key=lambda run: run.started_at or 0.0, reverse=True)


def running_note(count: int) -> str:
    """`● 1 run training`, `● 2 runs training`, or empty."""
    return f"● {count} run{'s' if count > 1 else ''} training" if count else ""


def memory_held(run: RunSummary) -> int | None:
    """The GPU memory the run's trainer last reported reserved (bytes), or None when it has not said."""
    for event in reversed(read_events(RunPaths(Path(run.path)).events)):
        if isinstance(event, Metrics) and event.gpu_memory_reserved:
            return event.gpu_memory_reserved
    return None
