"""Event-loop lag of the Training screen while a real CPU training run keeps the cores busy.

A tiny Llama (built in a child process, so this process stays as lean as the real TUI) trains with
LoRA in a detached worker, exactly as `ftwizard train --detach` starts it; the app is opened on it as
`ftwizard attach` does, headless, at the given terminal size. A probe sleeps 10 ms on the app's event
loop again and again and records how late each wake-up is: that lateness is what a key press would
wait. The goal is p99 < 50 ms. `--flood N` also appends N synthetic metrics events a second to the
log (a trainer logging far faster than a person can read), to show the screen coalesces them.

A bare asyncio loop is probed first for `--baseline` seconds of the same training, so what the machine
itself adds (a busy CPU delays any process) is not blamed on the screen: the screen's p99 over that loop's
is the figure to watch (goal: at most 2x). A second bare loop, in another process, is probed while the
screen is, as a check on the first (it also feels the app's own CPU use, so its ratio reads lower).
Also printed: events and batches a second, the wall time of one batch's handling and of one chart's
plotext build, and how many of those builds ran on the event loop.

.venv/bin/python benchmarks/ui_lag.py [--steps 150] [--size 120x40] [--flood 0] [--baseline 10]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from tuiapp.core.config import validate_config
from tuiapp.core.data.samples import sample_path
from tuiapp.core.runs import RunPaths, Started, read_events
from tuiapp.core.runs.launcher import launch_worker, prepare_run
from tuiapp.tui.app import FTWizardApp
from tuiapp.tui.screens.training_screen import TrainingScreen
from tuiapp.tui.widgets import metric_chart

PROBE_S = 0.010
BARE_LOOP = f"""
import asyncio, json, sys, time

async def main():
    lags, stop = [], asyncio.Event()
    asyncio.get_running_loop().add_reader(sys.stdin.fileno(), stop.set)  # readable at EOF: the parent is done
    print("probing", flush=True)
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep({PROBE_S})
        lags.append(time.perf_counter() - start - {PROBE_S})
    print(json.dumps(lags))

asyncio.run(main())
"""


def build_model(folder: Path) -> Path:
    code = f"from tuiapp.training.tiny_model import build_tiny_model; build_tiny_model({str(folder)!r}, arch='llama')"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return folder


def config_for(model: Path, steps: int):
    return validate_config(
        {
            "model": {"name_or_path": str(model)},
            "method": "lora",
            "dataset": {"source": str(sample_path("messages.jsonl")), "eval_size": 0.1},
            "training": {
                "max_steps": steps,
                "micro_batch_size": 4,
                "max_length": 256,
                "eval_steps": 20,
                "save_steps": 30,
                "logging_steps": 1,
            },
            "lora": {"r": 8, "alpha": 16},
        }
    )


def flood(path: Path, per_s: int, stop: threading.Event) -> int:
    """Append `per_s` metrics events a second (in 20 ms bursts) until `stop`; how many were written.

    Each burst is one write() on an O_APPEND descriptor, so it never splits a line the worker writes.
    Synthetic steps count from 1,000,000, apart from the run's own.
    """
    written, step = 0, 1_000_000
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        while not stop.is_set():
            burst = []
            for _ in range(max(per_s // 50, 1)):
                step += 1
                burst.append({"event": "metrics", "time": time.time(), "step": step, "total_steps": 2_000_000})
            os.write(descriptor, "".join(json.dumps(line) + "\n" for line in burst).encode())
            written += len(burst)
            time.sleep(0.02)
    finally:
        os.close(descriptor)
    return written


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


def lag_line(label: str, lags: list[float]) -> str:
    ms = [lag * 1000 for lag in lags]
    return (
        f"{label}: p50 {statistics.median(ms):.2f} ms · p99 {percentile(ms, 0.99):.2f} ms · "
        f"max {max(ms):.2f} ms ({len(ms)} wake-ups)"
    )


async def probe(lags: list[float], until: Callable[[], bool]) -> None:
    """Sleep PROBE_S on this loop until `until()`, recording how late each wake-up came."""
    while not until():
        start = time.perf_counter()
        await asyncio.sleep(PROBE_S)
        lags.append(time.perf_counter() - start - PROBE_S)


class BareLoop:
    """A bare asyncio loop probed in a child process while the screen is probed here: the same load, side by side."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", BARE_LOOP], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.process.stdout.readline()  # "probing"

    def stop(self) -> list[float]:
        out, _ = self.process.communicate("", timeout=30)
        return json.loads(out)


class Timings:
    """Wall time of the screen's batch handler (fold + widget updates) and of each chart's plotext build."""

    def __init__(self) -> None:
        self.draws: list[float] = []
        self.charts: list[float] = []
        self.on_loop = 0  # chart builds that ran on the event loop's thread

    def wrap_build(self) -> None:
        build = metric_chart.plot_text

        def counted(*args: Any) -> Any:
            self.on_loop += threading.current_thread() is threading.main_thread()
            return build(*args)

        metric_chart.plot_text = counted
        self.wrap(metric_chart, "plot_text", self.charts)

    def wrap(self, owner: Any, name: str, into: list[float]) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)  # Textual passes a handler as many arguments as its signature names
        def timed(*args: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args)
            finally:
                into.append(time.perf_counter() - start)

        setattr(owner, name, timed)


async def measure(
    run_dir: Path, size: tuple[int, int], worker: subprocess.Popen[bytes], flood_per_s: int, before: list[float]
) -> None:
    timings = Timings()
    timings.wrap(TrainingScreen, "on_training_screen_new_events", timings.draws)
    timings.wrap_build()
    app = FTWizardApp(run_dir=run_dir)
    lags: list[float] = []
    async with app.run_test(size=size) as pilot:
        while not (isinstance(app.screen, TrainingScreen) and app.screen.replayed):
            await pilot.pause(0.05)
        screen = app.screen
        stop_flood = threading.Event()
        flooded: list[int] = []
        flooder = threading.Thread(
            target=lambda: flooded.append(flood(run_dir / "events.jsonl", flood_per_s, stop_flood))
        )
        if flood_per_s:
            flooder.start()
        process = psutil.Process(worker.pid)
        process.cpu_percent()
        seen_before, batches_before, charts_before = screen.state.events_seen, len(timings.draws), len(timings.charts)
        on_loop_before = timings.on_loop
        bare_loop = BareLoop()
        began = time.perf_counter()
        await probe(lags, lambda: screen.state.final is not None or worker.poll() is not None)
        seconds = time.perf_counter() - began
        bare = bare_loop.stop()
        cpu = process.cpu_percent() if worker.poll() is None else float("nan")
        stop_flood.set()
        if flood_per_s:
            flooder.join()
        events = screen.state.events_seen - seen_before
        batches = len(timings.draws) - batches_before
        charts = timings.charts[charts_before:]
        state = screen.state
    where = f"{state.phase} at step {state.step}/{state.total_steps}"
    print(f"terminal {size[0]}x{size[1]}: watched {seconds:.1f} s, until {where}")
    print(f"worker CPU meanwhile: {cpu:.0f}% ({psutil.cpu_count()} cores); load average {os.getloadavg()[0]:.1f}")
    print(lag_line("event-loop lag of a bare asyncio loop in another process, meanwhile", bare))
    print(lag_line("event-loop lag with the Training screen", lags) + "   goal: p99 < 50 ms")
    ours = percentile(lags, 0.99)
    print(
        f"p99 ratio, Training screen / bare loop before it: {ours / percentile(before, 0.99):.2f}x   goal: <= 2x "
        f"(/ bare loop meanwhile: {ours / percentile(bare, 0.99):.2f}x)"
    )
    synthetic = f", {flooded[0]} of them synthetic" if flooded else ""
    print(
        f"events: {events} in {seconds:.1f} s ({events / seconds:.1f}/s{synthetic}) "
        f"reached the screen in {batches} batches ({batches / seconds:.1f}/s)"
    )
    draws, builds = [d * 1000 for d in timings.draws], [c * 1000 for c in charts]
    if draws and builds:
        print(
            f"one batch handled (fold + widgets): p50 {statistics.median(draws):.2f} ms, max {max(draws):.2f} ms; "
            f"one chart built: p50 {statistics.median(builds):.2f} ms, max {max(builds):.2f} ms "
            f"({len(builds)} builds, {timings.on_loop - on_loop_before} on the event loop)"
        )


def wait_until_training(paths: RunPaths, worker: subprocess.Popen[bytes]) -> None:
    """Loading the model is not the interesting part: wait for the worker's started event."""
    while not any(isinstance(event, Started) for event in read_events(paths.events)):
        if worker.poll() is not None:
            raise SystemExit(f"the worker ended before training started; see {paths.log}")
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=150, help="training steps (150: ~30 s on 2 idle CPU cores)")
    parser.add_argument("--size", default="120x40", help="terminal size, e.g. 80x24 (one chart) or 120x40 (four)")
    parser.add_argument("--flood", type=int, default=0, help="extra synthetic metrics events a second")
    parser.add_argument("--baseline", type=float, default=10.0, help="seconds of a bare-loop probe first")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory(prefix="ftwizard-ui-lag-") as tmp:
        model = build_model(Path(tmp) / "llama")
        paths = prepare_run(config_for(model, args.steps), runs_dir=str(Path(tmp) / "runs"))
        worker = launch_worker(paths)
        try:
            wait_until_training(paths, worker)
            bare: list[float] = []
            deadline = time.monotonic() + args.baseline
            asyncio.run(probe(bare, lambda: time.monotonic() > deadline))
            print(lag_line(f"event-loop lag of a bare asyncio loop, {args.baseline:.0f} s of the same training", bare))
            asyncio.run(measure(paths.root, (width, height), worker, args.flood, bare))
            worker.wait(timeout=120)
        finally:
            if worker.poll() is None:
                worker.kill()


if __name__ == "__main__":
    main()
