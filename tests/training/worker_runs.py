"""Running a real worker to the end, shared by the training tests."""

from __future__ import annotations

import subprocess
import time

from tuiapp.core.runs import RunPaths
from tuiapp.core.runs.launcher import launch_worker


def run_to_end(paths: RunPaths, timeout_s: float = 120) -> tuple[int, float]:
    """Launch the worker and wait for it: (exit code, seconds); killed if it outlives `timeout_s`."""
    start = time.monotonic()
    process = launch_worker(paths)
    try:
        code = process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return code, time.monotonic() - start
