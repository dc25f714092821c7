"""Time to the first painted Hardware screen of `ftwizard`, as a ratio of a bare Textual app's first paint.

Both run in a real terminal (a private tmux server, 80x24), alternated round by round so that a busy
machine weighs on both alike. A round starts the program in a new tmux session and polls the pane until
the expected text is drawn: for ftwizard the detected hardware ("No NVIDIA GPU found" on a machine without
one; `--expect` to change it), for the bare app its one label. The goal is ftwizard ≤ 1.5x the bare app.
Also printed: the wall time of `ftwizard --version` (median of 10 runs), next to a bare `python -c pass`.
Both run as a user's would, with bytecode cached (round 0 writes it; PYTHONDONTWRITEBYTECODE is unset).

.venv/bin/python benchmarks/startup.py [--rounds 5] [--expect "No NVIDIA GPU found"]
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE_LABEL = "bare textual app ready"
BARE_APP = f"""
from textual.app import App
from textual.widgets import Label


class Bare(App[None]):
    def compose(self):
        yield Label({BARE_LABEL!r})


Bare().run()
"""
POLL_S = 0.005
# As a user runs it: bytecode is cached after the first start. A sandbox's PYTHONDONTWRITEBYTECODE=1 would
# compile our (editable) sources afresh each start, while the bare app's Textual has its .pyc from pip.
USER_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
TIMEOUT_S = 30.0


class Tmux:
    """A tmux server of our own (its own socket), so the sessions and their environment are ours alone."""

    def __init__(self) -> None:
        self.socket = f"ftwizard-startup-{os.getpid()}"

    def __call__(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True).stdout

    def start(self) -> None:
        self("new-session", "-d", "-s", "keeper", "-x", "80", "-y", "24", "sleep 86400")

    def stop(self) -> None:
        self("kill-server")


def time_to_text(tmux: Tmux, name: str, command: list[str], expect: str) -> float:
    """Seconds from starting `command` in a fresh 80x24 session to `expect` showing in its pane."""
    line = f"cd {shlex.quote(os.getcwd())} && exec env -u PYTHONDONTWRITEBYTECODE {shlex.join(command)}"
    began = time.perf_counter()
    tmux("new-session", "-d", "-s", name, "-x", "80", "-y", "24", line)
    try:
        while time.perf_counter() - began < TIMEOUT_S:
            if expect in tmux("capture-pane", "-p", "-t", name):
                return time.perf_counter() - began
            time.sleep(POLL_S)
        screen = tmux("capture-pane", "-p", "-t", name)
        raise SystemExit(f"{expect!r} did not appear within {TIMEOUT_S:.0f} s; the pane shows:\n{screen}")
    finally:
        tmux("kill-session", "-t", name)


def median_run_s(command: list[str], runs: int = 10) -> float:
    """Median wall time of `command` as a subprocess, after one untimed run."""
    times = []
    for run in range(runs + 1):
        began = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, env=USER_ENV)
        if run:
            times.append(time.perf_counter() - began)
    return statistics.median(times)


def version_line() -> str:
    """`ftwizard --version` through the console script where installed, else `python -m tuiapp --version`."""
    script = Path(sys.executable).with_name("ftwizard")
    command, label = ([str(script)], "ftwizard") if script.exists() else ([sys.executable, "-m", "tuiapp"], "-m tuiapp")
    ours, bare = median_run_s([*command, "--version"]), median_run_s([sys.executable, "-c", "pass"])
    return f"{label} --version: median {ours * 1000:.1f} ms of 10 (python -c pass: {bare * 1000:.1f} ms)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each program, alternated")
    parser.add_argument("--expect", default="No NVIDIA GPU found", help="text of ftwizard's painted Hardware screen")
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed: apt-get install -y tmux")
    pythonpath = [f"PYTHONPATH={os.environ['PYTHONPATH']}"] if os.environ.get("PYTHONPATH") else []
    tmux = Tmux()
    tmux.start()
    ours: list[float] = []
    bare: list[float] = []
    with tempfile.TemporaryDirectory(prefix="ftwizard-startup-") as tmp:
        script = Path(tmp) / "bare_app.py"
        script.write_text(BARE_APP, encoding="utf-8")
        programs = (
            ([*pythonpath, sys.executable, "-m", "tuiapp"], args.expect, ours),
            ([*pythonpath, sys.executable, str(script)], BARE_LABEL, bare),
        )
        try:
            for round_ in range(args.rounds + 1):  # round 0 is untimed: bytecode and file system caches
                for number, (command, expect, into) in enumerate(programs):
                    seconds = time_to_text(tmux, f"r{round_}p{number}", command, expect)
                    if round_:
                        into.append(seconds)
        finally:
            tmux.stop()
    print(f"ftwizard, first painted Hardware screen: median {statistics.median(ours):.3f} s  " + _all(ours))
    print(f"bare Textual app, one label:              median {statistics.median(bare):.3f} s  " + _all(bare))
    ratio = statistics.median(ours) / statistics.median(bare)
    print(f"ratio ftwizard/bare: {ratio:.2f}x   goal: <= 1.5x")
    print(version_line())


def _all(values: list[float]) -> str:
    return "(" + " ".join(f"{value:.3f}" for value in values) + ")"


if __name__ == "__main__":
    main()
