"""Starting a run from the wizard: once per key press, asking first where training here surprises.

Ctrl+N pressed twice starts one run: a launch in progress ignores further launches. With no GPU the user
confirms training on the CPU (how slow, what it downloads); with a run already going, a second one on
the same GPU needs a yes that shows the memory the first holds. The run directory and the worker are
made in a thread, so the event loop never waits on the disk or on process start-up.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App

from tuiapp.core.cpu_training import cpu_training_detail
from tuiapp.core.runs.launcher import prepare_run
from tuiapp.core.units import GIB
from tuiapp.tui.running_runs import memory_held
from tuiapp.tui.screens.confirm_screen import ConfirmScreen
from tuiapp.tui.screens.step_screen import failure_text

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig
    from tuiapp.core.data.token_stats import TokenStats
    from tuiapp.core.hardware import GpuInfo
    from tuiapp.core.models.resolve import ResolvedModel
    from tuiapp.core.runs.layout import RunPaths


class LaunchFlow:
    """One launch at a time for the app; `busy` is true from the key press until the dashboard opens."""

    def __init__(self, app: App[Any], launch: Callable[[RunPaths], object]) -> None:
        self.app, self._launch = app, launch
        self.busy = False

    def train(
        self, config: FTConfig, model: ResolvedModel | None, gpu: GpuInfo | None, stats: TokenStats | None
    ) -> None:
        """Check what needs asking (in a thread: it reads the runs), ask, then start the worker."""
        if self.busy:
            return
        self.busy = True
        self.app.run_worker(lambda: self._questions(config, model, gpu, stats), thread=True, group="launch",
                            exit_on_error=False)  # fmt: skip

    def start_demo(self) -> None:
        """`ftwizard demo` from the wizard: build the tiny model (a child process), then launch its run."""
        if self.busy:
            return
        self.busy = True
        self.app.notify("Building the tiny demo model and starting the run…", title="CPU demo", timeout=4)
        self.app.run_worker(self._demo, thread=True, group="launch", exit_on_error=False)

    # ----- in the thread ---------------------------------------------------------------------------
    def _questions(
        self, config: FTConfig, model: ResolvedModel | None, gpu: GpuInfo | None, stats: TokenStats | None
    ) -> None:
        running = self.app.runs.running()  # type: ignore[attr-defined]
        asks: list[str] = []
        if running:
            run = running[0]
            held = memory_held(run)
            holding = f", holding {held / GIB:.1f} GiB of GPU memory" if held else ""
            where = f"{gpu.name} ({gpu.total_bytes / GIB:.0f} GiB)" if gpu else "this machine"
            asks.append(
                f"Run {run.name} is already training on {where}{holding}. A second run shares it: if memory "
                "runs out, the new run stops with an out-of-memory error (the first is not affected)."
            )
        if gpu is None and model is not None:
            cores = os.cpu_count() or 1
            asks.append(cpu_training_detail(config, model, cores, stats.rows if stats else None))
        if not asks:
            self._start(config, step=True)
            return
        question = "Start a second run?" if running else "Train on this CPU?"
        self.app.call_from_thread(
            self.app.push_screen, ConfirmScreen(question, "\n\n".join(asks)), lambda yes: self._answered(yes, config)
        )

    def _answered(self, yes: bool | None, config: FTConfig) -> None:
        if yes:
            self.app.run_worker(lambda: self._start(config, step=True), thread=True, group="launch",
                                exit_on_error=False)  # fmt: skip
        else:
            self.busy = False

    def _start(self, config: FTConfig, step: bool) -> None:
        try:
            paths = prepare_run(config, base=Path.cwd())  # where relative dataset paths were typed
            self._launch(paths)
        except Exception as exc:
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._started, paths, step)

    def _demo(self) -> None:
        from tuiapp.core.demo import demo_config, ensure_demo_model

        try:
            config = demo_config(ensure_demo_model())
        except Exception as exc:
            self.app.call_from_thread(self._failed, exc)
            return
        self._start(config, step=False)

    # ----- back on the event loop --------------------------------------------------------------------
    def _failed(self, error: BaseException) -> None:
        self.busy = False
        self.app.notify(failure_text(error), title="Cannot start training", severity="error", timeout=10)

    def _started(self, paths: RunPaths, step: bool) -> None:
        self.busy = False
        self.app.notify(f"The run lives in {paths.root}", title="Training started")
        self.app.open_run(paths.root, step=step)  # type: ignore[attr-defined]
        self.app.poll_runs()  # type: ignore[attr-defined]  (the title bar counts it now, not in 2 s)
