"""A tiny app that shows one screen and records what reaches the app: messages, notifications.

It binds `?` / F1 to help as FTWizardApp does (F1 a priority key), so the Help and Runs screens are tested as
they will be wired.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen

from tuiapp.core.hardware.gpu_monitor import GpuMonitor
from tuiapp.core.runs.status import write_status
from tuiapp.tui.screens.help_screen import HelpScreen
from tuiapp.tui.screens.runs_screen import RunsScreen

CSS = Path(__file__).resolve().parents[2] / "tuiapp" / "tui" / "app.tcss"


class ScreenHarness(App[None]):
    """Pushes `make_screen()` on mount; `attached` and `notes` say what the screen asked of the app."""

    CSS_PATH = CSS
    BINDINGS = [  # as FTWizardApp binds them
        Binding("f1", "help", "Help", priority=True, show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(self, make_screen: Callable[[], Screen]) -> None:
        super().__init__()
        self._make_screen = make_screen
        self.attached: list[Path] = []
        self.messages: list[Message] = []
        self.notes: list[tuple[str, str, str]] = []  # (message, title, severity)

    def on_mount(self) -> None:
        self.push_screen(self._make_screen())

    def action_help(self) -> None:
        """F1 is a priority key, so it reaches the app even over the help: there it closes the help."""
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
        else:
            self.push_screen(HelpScreen(self.screen))

    def on_runs_screen_attach(self, message: RunsScreen.Attach) -> None:
        self.messages.append(message)
        self.attached.append(message.run_dir)

    def notify(self, message: str, *, title: str = "", severity="information", timeout=None, markup=True) -> None:
        self.notes.append((message, title, severity))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runs"
COMPLETED_RUN = FIXTURES / "tiny-llama-lora"  # 40 steps, completed
FAILED_RUN = FIXTURES / "tiny-llama-oom"  # two OOM recoveries, then failed


def recorded_run(source: Path, target: Path, keep_lines: int | None = None, pid: int | None = None) -> Path:
    """A copy of a recorded run at `target`, cut to its first `keep_lines` events, launched at time 0.

    With `pid`, status.json names that process (the test's own reads as a living worker); without, a
    process that cannot be the worker (so a run without its final event reads as died).
    """
    target.mkdir(parents=True)
    shutil.copy(source / "config.yaml", target / "config.yaml")
    lines = (source / "events.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (target / "events.jsonl").write_text("".join(lines[:keep_lines]), encoding="utf-8")
    if pid is not None:
        write_status(target / "status.json", pid, launched_at=0.0)
    else:  # pid_started far from any real process's start time: never alive
        status = {"pid": 31337, "pid_started": 1.0, "launched_at": 0.0}
        (target / "status.json").write_text(json.dumps(status), encoding="utf-8")
    return target


class NoGpus(GpuMonitor):
    """A GPU monitor that has nothing to read."""

    def open(self) -> str | None:
        return "no GPU in this test"

    def close(self) -> None:
        pass
