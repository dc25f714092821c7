"""Reading a run for the dashboard: unknown event kinds kept, the worker's liveness, live GPU readings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from tuiapp.core.hardware.gpu_monitor import GpuMonitor
from tuiapp.core.runs import RunPaths
from tuiapp.core.runs.events import Metrics, Started
from tuiapp.core.runs.other_events import LenientFollower, OtherEvent, parse_any_event
from tuiapp.core.runs.run_watch import RunWatch
from tuiapp.core.runs.status import write_status
from tuiapp.core.units import GIB


def test_parse_any_event_keeps_unknown_kinds_only() -> None:
    assert parse_any_event({"event": "metrics", "time": 1.0, "step": 2, "total_steps": 4}) == Metrics(
        step=2, total_steps=4, time=1.0
    )
    assert parse_any_event({"event": "recovering_v2", "time": 3, "attempt": 1}) == OtherEvent(
        "recovering_v2", 3.0, {"attempt": 1}
    )
    assert parse_any_event({"event": "metrics", "time": 1.0}) is None  # a known kind, malformed
    assert parse_any_event({"event": "", "time": 1.0}) is None
    assert parse_any_event({"no_kind": 1}) is None
    assert parse_any_event([1, 2]) is None
    assert parse_any_event({"event": "odd", "time": "soon"}) == OtherEvent("odd", 0.0, {})


def test_lenient_follower_reads_unknown_kinds_in_order(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    lines = [
        {"event": "started", "time": 1.0, "pid": 1, "step": 0, "total_steps": 2},
        {"event": "from_the_future", "time": 2.0, "x": 1},
        "not json",
    ]
    path.write_text("".join((json.dumps(x) if isinstance(x, dict) else x) + "\n" for x in lines))
    follower = LenientFollower(path)
    first, second = follower.poll()
    assert isinstance(first, Started) and second == OtherEvent("from_the_future", 2.0, {"x": 1})
    assert follower.skipped == 1


def make_run(tmp_path: Path) -> RunPaths:
    paths = RunPaths(tmp_path / "run")
    paths.root.mkdir()
    (paths.root / "config.yaml").write_text("model: {name_or_path: x}\n")
    return paths


def test_watch_reads_new_events_and_ends_once_the_worker_is_gone(tmp_path: Path) -> None:
    paths = make_run(tmp_path)
    now = [0.0]
    watch = RunWatch(paths, alive_every_s=1.0, clock=lambda: now[0])
    assert watch.read() == [] and watch.alive is None and not watch.over  # not launched yet: keep watching
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        write_status(paths.status, worker.pid)
        now[0] = 1.0
        assert watch.read() == [] and watch.alive is True
        paths.events.write_text(json.dumps({"event": "metrics", "time": 1, "step": 1, "total_steps": 2}) + "\n")
        worker.kill()
        worker.wait()
        now[0] = 1.5  # liveness is checked at most once a second
        assert [e.step for e in watch.read()] == [1] and watch.alive is True and not watch.over
    finally:
        worker.kill()
    with paths.events.open("a") as handle:  # written just before it exited
        handle.write(json.dumps({"event": "metrics", "time": 2, "step": 2, "total_steps": 2}) + "\n")
    now[0] = 2.5
    assert [e.step for e in watch.read()] == [2]  # still read, in the same call that sees it gone
    assert watch.alive is False and watch.over


def test_watch_of_this_process_stays_alive(tmp_path: Path) -> None:
    paths = make_run(tmp_path)
    write_status(paths.status, os.getpid())
    watch = RunWatch(paths)
    watch.read()
    assert watch.alive is True and not watch.over


def test_a_watch_that_is_over_follows_a_resumed_worker(tmp_path: Path) -> None:
    paths = make_run(tmp_path)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    write_status(paths.status, gone.pid)
    now = [0.0]
    watch = RunWatch(paths, alive_every_s=1.0, clock=lambda: now[0])
    assert watch.read() == [] and watch.over
    write_status(paths.status, os.getpid())  # `ftwizard resume` (or r on the dashboard) launched a new worker
    paths.events.write_text(json.dumps({"event": "phase", "time": 5, "name": "loading the model"}) + "\n")
    now[0] = 1.0
    (phase,) = watch.read()
    assert phase.kind == "phase" and watch.alive is True and not watch.over


class NVMLError(Exception):
    pass


def fake_nvml(fail_reads: bool = False, count: int = 1) -> SimpleNamespace:
    def memory(handle: int) -> SimpleNamespace:
        if fail_reads:
            raise NVMLError("GPU is lost")
        return SimpleNamespace(total=24 * GIB, used=6 * GIB, free=18 * GIB)

    def unsupported(*args: object) -> None:
        raise NVMLError("not supported")

    return SimpleNamespace(
        NVMLError=NVMLError,
        NVML_TEMPERATURE_GPU=0,
        calls=[],
        nvmlInit=lambda: None,
        nvmlShutdown=lambda: None,
        nvmlDeviceGetCount=lambda: count,
        nvmlDeviceGetHandleByIndex=lambda index: index,
        nvmlDeviceGetName=lambda handle: b"NVIDIA GeForce RTX 4090",
        nvmlDeviceGetMemoryInfo=memory,
        nvmlDeviceGetUtilizationRates=lambda handle: SimpleNamespace(gpu=87, memory=40),
        nvmlDeviceGetTemperature=lambda handle, sensor: 66,
        nvmlDeviceGetPowerUsage=lambda handle: 301_500,
        nvmlDeviceGetEnforcedPowerLimit=unsupported,
    )


def test_gpu_monitor_reads_utilization_memory_temperature_and_power() -> None:
    monitor = GpuMonitor(fake_nvml())
    assert monitor.open() is None
    (reading,) = monitor.read()
    assert (reading.index, reading.name, reading.utilization_pct) == (0, "GeForce RTX 4090", 87.0)
    assert (reading.memory_used_bytes, reading.memory_total_bytes, reading.memory_fraction) == (6 * GIB, 24 * GIB, 0.25)
    assert (reading.temperature_c, reading.power_w, reading.power_limit_w) == (66.0, 301.5, None)
    monitor.close()
    assert monitor.read() is None


def test_gpu_monitor_without_a_gpu_says_why_and_a_lost_gpu_ends_the_readings() -> None:
    assert GpuMonitor(fake_nvml(count=0)).open() == "the NVIDIA driver reports no GPU"
    broken = fake_nvml()
    broken.nvmlInit = lambda: (_ for _ in ()).throw(NVMLError("Driver Not Loaded"))
    assert GpuMonitor(broken).open() == "NVML failed: Driver Not Loaded"
    lost = GpuMonitor(fake_nvml(fail_reads=True))
    assert lost.open() is None and lost.read() is None


def test_gpu_monitor_on_this_machine_never_raises() -> None:
    monitor = GpuMonitor()
    reason = monitor.open()
    readings = monitor.read()
    monitor.close()
    assert (reason is None) == bool(readings), (reason, readings)
