"""A newcomer's walk through the real terminal: tmux runs `ftwizard` at 80x24, keys go in, screens are read.

Walk 1 plans for a GPU this machine lacks: Hardware (no GPU) → target RTX 4090 → Model → Method → Dataset
(the bundled sample) → Hyperparameters → save the config for the GPU box. Walk 2 trains the CPU demo:
dashboard → detach → `ftwizard attach` → completed → Finish → a q8_0 GGUF with its Ollama Modelfile.
Each screen is checked for a traceback, the title that names it, the panel it must fill, and a footer cut
at 80 columns. Exit 0 when all holds, 1 otherwise.

Usage: .venv/bin/python scripts/newcomer_walk.py   (scripts/test.sh runs it after the test suite)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FTWIZARD = ROOT / ".venv" / "bin" / "ftwizard"
SOCKET = f"ftwizard-walk-{os.getpid()}"
WIDTH, HEIGHT = 80, 24


class WalkFailed(Exception):
    """A check failed: the message says which screen and what was wrong, with the screen attached."""


def tmux(*args: str) -> str:
    env = {**os.environ, "TERM": os.environ.get("TERM") or "xterm-256color"}  # CI has no terminal of its own
    done = subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=False, env=env)
    return done.stdout


def screen(scrollback: bool = False) -> str:
    """The pane's 24 lines (capture-pane drops trailing blank ones: put them back), with the lines
    scrolled off the top before them when `scrollback` (what a program printed as it exited)."""
    history = ("-S", "-") if scrollback else ()
    lines = tmux("capture-pane", "-p", "-t", "walk", *history).splitlines()
    return "\n".join(lines + [""] * (HEIGHT - len(lines)))


def start(command: str, env: dict[str, str]) -> None:
    tmux("kill-session", "-t", "walk")
    exports = " ".join(f"{name}={value}" for name, value in env.items())
    tmux("new-session", "-d", "-s", "walk", "-x", str(WIDTH), "-y", str(HEIGHT), "-c", str(ROOT),
         f"env {exports} {command}")  # fmt: skip
    tmux("set-option", "-t", "walk", "remain-on-exit", "on")


def keys(*typed: str) -> None:
    for key in typed:
        tmux("send-keys", "-t", "walk", key)
        time.sleep(0.25)


def wait_for(text: str, where: str, timeout_s: float = 30.0, scrollback: bool = False) -> str:
    """The screen once it shows `text`; WalkFailed after the timeout or at a traceback."""
    deadline = time.monotonic() + timeout_s
    while True:
        shown = screen(scrollback)
        if "Traceback" in shown or "unexpected error" in shown:
            raise WalkFailed(f"{where}: a traceback or crash on screen")
        if text in shown:
            return shown
        if time.monotonic() > deadline:
            raise WalkFailed(f"{where}: waited {timeout_s:.0f} s for {text!r}\n{shown}")
        time.sleep(0.3)


def wait_until_exited(where: str, timeout_s: float = 30.0) -> None:
    """The program in the pane has ended (tmux keeps the dead pane: remain-on-exit)."""
    deadline = time.monotonic() + timeout_s
    while tmux("list-panes", "-t", "walk", "-F", "#{pane_dead}").strip() != "1":
        if time.monotonic() > deadline:
            raise WalkFailed(f"{where}: ftwizard still runs {timeout_s:.0f} s after Ctrl+Q\n{screen()}")
        time.sleep(0.2)


def check_step(title: str, panel: str, where: str, timeout_s: float = 30.0) -> str:
    """The title bar names the step, the required panel is filled, and the footer is whole at 80 columns
    (checked until all three hold: a screen paints in more than one frame)."""
    deadline = time.monotonic() + timeout_s
    while True:
        shown = wait_for(panel, where, max(deadline - time.monotonic(), 0.5))
        lines = shown.splitlines()
        footer = lines[HEIGHT - 1] if len(lines) >= HEIGHT else ""
        problem = None
        if title not in lines[0]:
            problem = f"the title bar says {lines[0].strip()!r}, not {title!r}"
        elif "f1 Help" not in footer or "^q Quit" not in footer:
            problem = f"the footer is cut at {WIDTH} columns: {footer.strip()!r}"
        if problem is None:
            return shown
        if time.monotonic() > deadline:
            raise WalkFailed(f"{where}: {problem}\n{shown}")
        time.sleep(0.3)


def planning_walk(env: dict[str, str], saved: Path) -> None:
    start(str(FTWIZARD), env)
    check_step("Step 1 of 7 · Hardware", "No NVIDIA GPU found", "launch")
    keys("t")
    wait_for("Plan for a GPU", "GPU picker")
    keys("4090", "Enter")
    check_step("Step 1 of 7 · Hardware", "target (planned) · RTX 4090", "target GPU")
    keys("C-n")
    check_step("Step 2 of 6 · Model", "Qwen/Qwen2.5-7B-Instruct, ./my-model", "model screen")
    keys("Llama-3.2-1B-Instruct", "Enter")
    check_step("Step 2 of 6 · Model", "1.24B parameters", "model looked up")
    keys("C-n")
    check_step("Step 3 of 6 · Method", "★ recommended", "method")
    keys("C-n")
    check_step("Step 4 of 6 · Dataset", "Ctrl+O browses", "dataset screen")
    keys("tuiapp/sample_data/alpaca.json", "Enter")
    check_step("Step 4 of 6 · Dataset", "alpaca for sft", "dataset inspected", timeout_s=60)
    keys("C-n")
    check_step("Step 5 of 6 · Hyperparameters", "Effective batch", "hyperparameters")
    keys("C-n")
    wait_for("Save the config for the GPU box", "save dialog")
    keys("End", "C-u", str(saved), "Enter")
    check_step("Step 6 of 6 · Save for the GPU box", f"ftwizard train {saved.name}", "saved for the box")
    if not saved.is_file():
        raise WalkFailed(f"saved for the box: {saved} was not written")
    keys("C-q")
    wait_until_exited("quit")


def demo_walk(env: dict[str, str], runs: Path) -> None:
    start(str(FTWIZARD), env)
    check_step("Step 1 of 7 · Hardware", "No NVIDIA GPU found", "launch again")
    keys("c")
    check_step("Training · demo-model", "step ", "demo dashboard", timeout_s=240)
    keys("d")
    # the terminal's own lines after the app left its screen: a slow machine may scroll them up one line
    shown = wait_for("keeps training in the background", "detach", timeout_s=15, scrollback=True)
    run = next(line.split()[-1] for line in shown.splitlines() if "re-attach: ftwizard attach" in line)
    start(f"{FTWIZARD} attach {run}", env)
    check_step(f"Training · {run}", "✔ completed", "attach until completed", timeout_s=300)
    keys("f")  # what next: the Finish screen, then a GGUF for Ollama (merged first, converted by llama.cpp's tool)
    check_step(f"Finish · {run}", "adapter/model: ", "finish screen")  # the result read: the actions are offered
    keys("g")
    wait_for("Export GGUF", "GGUF options")
    keys("Tab", "Enter")  # q8_0 is the default; Tab reaches Start
    check_step(f"Finish · {run}", "done: wrote", "GGUF done", timeout_s=180)
    keys("q")
    wait_until_exited("quit from Finish")
    events = [json.loads(line)["event"] for line in (runs / run / "events.jsonl").read_text().splitlines()]
    if "completed" not in events or events[-1] != "action_done":
        raise WalkFailed(f"finish: the run's events end {events[-3:]}, not completed then a GGUF's action_done")
    ggufs, modelfile = list((runs / run / "gguf").glob("*.gguf")), runs / run / "gguf" / "Modelfile"
    if len(ggufs) != 1 or not modelfile.is_file() or "<|im_start|>" not in modelfile.read_text():
        raise WalkFailed(f"finish: expected one .gguf and a ChatML Modelfile in {runs / run / 'gguf'}")


def main() -> int:
    if shutil.which("tmux") is None:
        print("newcomer walk: tmux is not installed (apt-get install tmux)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="ftwizard-walk-") as scratch:
        work = Path(scratch)
        env = {
            "FTWIZARD_RUNS_DIR": str(work / "runs"),
            "XDG_DATA_HOME": str(work / "data"),  # the demo model is built here, not in the user's home
            "FTWIZARD_STATE_DIR": str(work / "state"),
            "HF_HUB_OFFLINE": "1",
            "HF_HUB_CACHE": str(work / "hub"),
            "TERM": "xterm-256color",
        }
        started = time.monotonic()
        try:
            planning_walk(env, work / "for-the-box.yaml")
            print(f"newcomer walk: planning for a GPU box passed ({time.monotonic() - started:.0f} s)")
            demo_walk(env, work / "runs")
        except WalkFailed as failure:
            print(f"newcomer walk FAILED: {failure}", file=sys.stderr)
            return 1
        finally:
            tmux("kill-server")
        print(f"newcomer walk: passed in {time.monotonic() - started:.0f} s (plan, save, demo, detach, attach, GGUF)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
