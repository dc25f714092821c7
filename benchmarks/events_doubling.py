"""Events replay doubling: replaying N and 2N events of a recorded-like run, side by side in one run.

Both sides write the same mix a worker writes (phases, a started event, metrics every step, an eval and a
checkpoint every 50 steps, a stop and a resume, a final event) and replay it the two ways a run is read back:
- summary: `summarize_run`, what `ftwizard runs` and the Runs screen do for every run;
- dashboard: `RunWatch.replay` folded into `DashboardState`, what `ftwizard attach` does on opening.
Replay is linear in events when the 2N/N time ratio is about 2 (the target: under 2.5), and bounded in memory
when the peak (tracemalloc) stays about flat. Prints events/s, the ratio and the peak for each.

.venv/bin/python benchmarks/events_doubling.py [--events 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from tuiapp.core.runs.dashboard_state import DashboardState
from tuiapp.core.runs.events import (
    LOADING_MODEL,
    CheckpointSaved,
    Completed,
    EvalDone,
    EventWriter,
    Metrics,
    Phase,
    Started,
    Stopped,
)
from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.runs.listing import summarize_run
from tuiapp.core.runs.run_watch import RunWatch
from tuiapp.core.runs.status import write_status


def write_run(folder: Path, events: int) -> RunPaths:
    """A run directory with about `events` events, stopped half-way and resumed once."""
    paths = RunPaths(folder)
    folder.mkdir(parents=True)
    paths.config.write_text("model: {name_or_path: tiny}\n", encoding="utf-8")
    steps = events  # about one event a step
    clock = 1_700_000_000.0
    with EventWriter(paths.events) as writer:
        for launch, (first, last) in enumerate(((0, steps // 2), (steps // 2, steps))):
            writer.write(Phase(name=LOADING_MODEL, detail="tiny", time=clock))
            writer.write(Started(pid=4242, step=first, total_steps=steps, resumed_from=None if launch == 0 else "c"))
            for step in range(first + 1, last + 1):
                clock += 0.5
                loss = 2.0 / (1 + step / 1000)
                writer.write(Metrics(step=step, total_steps=steps, loss=loss, learning_rate=1e-4, tokens=step * 512))
                if step % 50 == 0:
                    writer.write(EvalDone(step=step, eval_loss=loss * 1.1, time=clock))
                    writer.write(CheckpointSaved(step=step, path=f"checkpoint-{step}", time=clock))
            final = Stopped(step=last, time=clock) if launch == 0 else Completed(step=last, artifacts=["final"])
            writer.write(final)
    write_status(paths.status, 4242, launched_at=1_000.0)
    return paths


def summary(paths: RunPaths) -> None:
    summarize_run(paths)


def dashboard(paths: RunPaths) -> None:
    DashboardState(paths.name).apply(RunWatch(paths).replay())


def timed(replay: Callable[[RunPaths], None], paths: RunPaths, repeat: int) -> tuple[float, int]:
    """The best time of `repeat` replays, and the peak memory of one."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        replay(paths)
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    replay(paths)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="N (the larger side replays 2N)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small, large = write_run(Path(tmp, "n"), args.events), write_run(Path(tmp, "2n"), 2 * args.events)
        counts = [sum(1 for _ in paths.events.open("rb")) for paths in (small, large)]
        sizes = [paths.events.stat().st_size / 2**20 for paths in (small, large)]
        print(f"events: {counts[0]:,} ({sizes[0]:.1f} MiB) vs {counts[1]:,} ({sizes[1]:.1f} MiB)")
        print(f"{'replay':<10} {'N events/s':>12} {'2N events/s':>12} {'time 2N/N':>10} {'peak N':>9} {'peak 2N':>9}")
        for name, replay in (("summary", summary), ("dashboard", dashboard)):
            (t1, m1), (t2, m2) = timed(replay, small, args.repeat), timed(replay, large, args.repeat)
            print(
                f"{name:<10} {counts[0] / t1:>12,.0f} {counts[1] / t2:>12,.0f} {t2 / t1:>10.2f} "
                f"{m1 / 2**20:>7.1f}Mi {m2 / 2**20:>7.1f}Mi"
            )


if __name__ == "__main__":
    main()
