"""FTWizardApp: sequences the wizard's steps; each step is a Screen that posts its result up to here.

The app owns what crosses steps: the hardware profile, the chosen model, saving configs (asking where),
launching runs (one at a time, one per GPU unless confirmed), the runs going on this machine (shown in
the title bar), help, the command palette and quitting (a run going keeps going, and we say so).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from tuiapp import __version__
from tuiapp.core.crash_log import one_line
from tuiapp.core.hardware import detect_hardware
from tuiapp.core.user_error import UserError
from tuiapp.tui.messages import ExportRequested, FinishRequested, SaveConfigRequested
from tuiapp.tui.screens.confirm_screen import ConfirmScreen
from tuiapp.tui.screens.step_screen import StepScreen, failure_text

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig
    from tuiapp.core.data.token_stats import TokenStats
    from tuiapp.core.hardware import GpuInfo, GpuSpec, HardwareProfile
    from tuiapp.core.models.resolve import ResolvedModel
    from tuiapp.core.runs.layout import RunPaths
    from tuiapp.tui.flow_launch import LaunchFlow
    from tuiapp.tui.running_runs import RunningRuns
    from tuiapp.tui.screens.dataset_screen import DatasetScreen, Inspector
    from tuiapp.tui.screens.gpu_box_screen import GpuBoxScreen
    from tuiapp.tui.screens.hardware_screen import HardwareScreen
    from tuiapp.tui.screens.hyperparams_screen import HyperparamsScreen
    from tuiapp.tui.screens.method_screen import MethodScreen
    from tuiapp.tui.screens.model_screen import ModelScreen
    from tuiapp.tui.screens.runs_screen import RunsScreen

RUNS_POLL_S = 2.0  # how often the title bar's "runs going" note is refreshed
AFTER_FIRST_PAINT_S = 0.4  # the runs are first read once the Hardware screen has its facts (a GIL-bound import)


def _launch_worker(paths: RunPaths) -> object:
    """The real launcher, imported when a run starts (not before the first screen paints)."""
    from tuiapp.core.runs.launcher import launch_worker

    return launch_worker(paths)


class FTWizardApp(App[None]):
    """The wizard. `hardware` (or `detect`) injects a fixed profile for tests and screenshots."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute, so subclasses elsewhere find it too
    TITLE = "ftwizard"
    BINDINGS = [
        Binding("f1", "help", "Help", priority=True),  # works in text boxes too, where ? is typed
        Binding("question_mark", "help", "Help", show=False),
        Binding("ctrl+r", "runs", "Runs", show=False),
        Binding("q", "quit", "Quit", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        target: GpuSpec | None = None,
        hardware: HardwareProfile | None = None,
        detect: Callable[[], HardwareProfile] = detect_hardware,
        resolve: Callable[[str], ResolvedModel] | None = None,
        save_dir: Path | None = None,
        inspect: Inspector | None = None,  # the dataset inspection (default: the real one, in a child)
        launch: Callable[[RunPaths], object] = _launch_worker,
        run_dir: Path | None = None,  # open straight on this run's Training screen (ftwizard attach)
        finish_dir: Path | None = None,  # open straight on this run's Finish screen (ftwizard finish)
        config: FTConfig | None = None,  # start from a saved config (ftwizard --config FILE)
        config_path: Path | None = None,
        runs_dir: Path | None = None,
        installed: Callable[[str], bool] | None = None,  # which modules (Unsloth) are here, as `hardware` injects
    ) -> None:
        super().__init__()
        self._installed = installed
        self._run_dir, self._finish_dir, self._resolve, self._inspect = run_dir, finish_dir, resolve, inspect
        self._target, self._hardware, self._detect = target, hardware, detect
        self._start_config, self._config_path = config, config_path
        self._save_dir = config_path.parent if config_path else save_dir
        self._runs_dir, self._runs = runs_dir, None
        self._launch, self._launch_flow = launch, None
        self._model: ResolvedModel | None = None
        self._profile: HardwareProfile | None = None
        self._stats: TokenStats | None = None
        self.running_note = ""

    # ----- the app as a whole --------------------------------------------------------------------
    def _fatal_error(self) -> None:
        """An unhandled error: one line for the user, the traceback in a crash log.

        Overrides Textual's private hook that would print a full traceback on exit; textual is pinned
        exactly, and tests/tui/test_app_errors.py fails if this hook stops being called.
        """
        error = self._exception or RuntimeError("unknown error")
        self._return_code = 1  # the command exits 1, as for any unexpected failure
        self._exit_renderables.append(one_line(error))
        self._close_messages_no_wait()

    @property
    def runs(self) -> RunningRuns:
        """The runs going on this machine; built on first use (after the first paint)."""
        if self._runs is None:
            from tuiapp.tui.running_runs import RunningRuns

            self._runs = RunningRuns(self._runs_dir)
        return self._runs

    @property
    def launcher(self) -> LaunchFlow:
        """Starts runs, one at a time; built on first use."""
        if self._launch_flow is None:
            from tuiapp.tui.flow_launch import LaunchFlow

            self._launch_flow = LaunchFlow(self, self._launch)
        return self._launch_flow

    def _inspector(self) -> Inspector:
        from tuiapp.core.data.inspect_job import inspection_events

        return self._inspect or inspection_events

    @property
    def planned(self) -> bool:
        """Planning for a GPU this machine does not have: the last step saves the config for that box."""
        return self._profile is not None and self._profile.source == "planned"

    def on_mount(self) -> None:
        self.title = f"ftwizard {__version__}"
        gc.freeze()  # startup objects leave the collector's view: full collections stop stalling the dashboard
        self.set_timer(AFTER_FIRST_PAINT_S, self.poll_runs)  # its imports would slow the first screen
        self.set_interval(RUNS_POLL_S, self.poll_runs)
        if self._run_dir is not None:  # ftwizard attach RUN
            self.open_run(self._run_dir)
            return
        if self._finish_dir is not None:  # ftwizard finish RUN
            self.on_finish_requested(FinishRequested(self._finish_dir))
            return
        from tuiapp.tui.screens.hardware_screen import HardwareScreen

        finished = getattr(self._detect, "finished", None)  # detection started before Textual: often done by now
        detected = self._hardware or (finished() if callable(finished) else None)
        hardware = HardwareScreen(detected=detected, target=self._target, detect=self._detect)
        self.push_screen(hardware)
        if self._start_config is not None:
            self.start_from_config(self._start_config)
        else:
            self.set_timer(AFTER_FIRST_PAINT_S, self.offer_attach)

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs-poll")
    def poll_runs(self) -> None:
        """Refresh the title bar's note on running runs (status files only, every few seconds)."""
        from tuiapp.tui.running_runs import running_note

        note = running_note(len(self.runs.alive()))
        if note != self.running_note:
            self.call_from_thread(self._show_running, note)

    def _show_running(self, note: str) -> None:
        self.running_note = note
        if isinstance(self.screen, StepScreen):
            self.screen.show_title()

    @work(thread=True, exclusive=True, exit_on_error=False, group="offer-attach")
    def offer_attach(self) -> None:
        """`ftwizard` with a run going offers to attach to it."""
        running = self.runs.running()
        if running:
            run = running[0]
            step = f"step {run.step}/{run.total_steps}" if run.total_steps else f"step {run.step}"
            question = f"Run {run.name} is training ({step}). Watch it?"
            detail = "y opens its dashboard; n goes on to the wizard (the run keeps going either way)."
            self.call_from_thread(
                self.push_screen,
                ConfirmScreen(question, detail),
                lambda yes: self.open_run(Path(run.path)) if yes else None,
            )

    def action_quit(self) -> None:  # type: ignore[override]
        self.quit_saying_what_runs()

    @work(thread=True, exclusive=True, exit_on_error=False, group="quit")
    def quit_saying_what_runs(self) -> None:
        """Quit; a run going keeps training, and the terminal says how to get back to it (the runs are
        read here, off the event loop: a long run's events take a moment). A screen with work of its own
        going (the Finish screen's upload) adds its `quit_note`."""
        quit_note = getattr(self.screen, "quit_note", None)
        lines = [note] if callable(quit_note) and (note := quit_note()) else []
        running = self.runs.running()
        lines += [f"Run {run.name} keeps training in the background." for run in running]
        if running:
            lines += [
                f"  re-attach: ftwizard attach {running[0].name}",
                f"  stop it:   ftwizard stop {running[0].name}",
            ]
        self.call_from_thread(self.exit, message=Text("\n".join(lines)) if lines else None)

    def action_help(self) -> None:
        from tuiapp.tui.screens.help_screen import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()  # F1 again closes it (it is a priority key, so the help never sees it)
        else:
            self.push_screen(HelpScreen(self.screen))

    def action_runs(self) -> None:
        from tuiapp.tui.screens.runs_screen import RunsScreen

        if not isinstance(self.screen, RunsScreen):
            self.push_screen(RunsScreen(self.runs.root))

    def open_run(self, run_dir: Path, step: bool = False) -> None:
        """The live dashboard of a run; `step` marks it as the wizard's last step (breadcrumb and title)."""
        from tuiapp.core.compare.run_dir import is_comparison
        from tuiapp.tui.screens.training_screen import TrainingScreen

        if is_comparison(run_dir):  # a comparison of methods (ftwizard compare) has its own screen
            from tuiapp.tui.screens.compare_screen import CompareScreen

            self.push_screen(CompareScreen(run_dir=run_dir))
            return
        screen = TrainingScreen(run_dir)
        if step:
            screen.step_id = "train"
        self.push_screen(screen)

    def on_runs_screen_attach(self, message: RunsScreen.Attach) -> None:
        self.open_run(message.run_dir)

    def on_finish_requested(self, message: FinishRequested) -> None:
        """The Finish screen of a run: the wizard's last step after its Training screen, or opened alone."""
        from tuiapp.tui.screens.finish_screen import FinishScreen

        self.push_screen(FinishScreen(message.run_dir, in_wizard=message.in_wizard))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The palette (Ctrl+P): the wizard's own commands first, then Textual's (theme, keys, screenshot)."""
        yield SystemCommand("Help for this screen", "What this step is for and every key (? or F1)", self.action_help)
        yield SystemCommand("Runs", "Every run: attach, stop, resume, open its folder (Ctrl+R)", self.action_runs)
        yield SystemCommand("Plan for another GPU", "Pick the GPU you will rent (Hardware screen, t)", self._target_gpu)
        yield SystemCommand("Re-detect hardware", "Read the GPUs, RAM and disk again", self._redetect)
        if callable(getattr(screen, "action_save", None)):
            yield SystemCommand("Save config", "Save this screen's config as YAML (asks where)", screen.action_save)
        if callable(getattr(screen, "action_export", None)):
            yield SystemCommand(
                "Export config", "For TRL's CLI or as our YAML (asks the format and file)", screen.action_export
            )
        yield SystemCommand("CPU demo", "Train a tiny model on the CPU with the live dashboard", self.start_demo)
        yield from super().get_system_commands(screen)

    def _hardware_screen(self) -> HardwareScreen:
        """Back to the first step (the steps after it follow the hardware), and that screen."""
        from tuiapp.tui.screens.hardware_screen import HardwareScreen

        while not isinstance(self.screen, HardwareScreen) and len(self.screen_stack) > 2:
            self.pop_screen()
        if not isinstance(self.screen, HardwareScreen):
            self.switch_screen(HardwareScreen(detected=self._hardware, detect=self._detect))
        return self.screen  # type: ignore[return-value]

    def _target_gpu(self) -> None:
        self._hardware_screen().action_pick_target()

    def _redetect(self) -> None:
        self._hardware_screen().action_redetect()

    # ----- the steps, in order -------------------------------------------------------------------
    def on_hardware_screen_demo_requested(self) -> None:
        self.start_demo()

    def start_demo(self) -> None:
        self.launcher.start_demo()

    def on_hardware_screen_chosen(self, message: HardwareScreen.Chosen) -> None:
        from tuiapp.tui.screens.model_screen import ModelScreen

        self._profile, self._hardware = message.profile, message.detected
        self.push_screen(ModelScreen(resolve=self._resolve))

    def on_model_screen_chosen(self, message: ModelScreen.Chosen) -> None:
        from tuiapp.tui.screens.method_screen import MethodScreen

        self._model = message.model
        assert self._profile is not None
        self.push_screen(MethodScreen(message.model, self._profile, installed=self._installed))

    def on_method_screen_chosen(self, message: MethodScreen.Chosen) -> None:
        from tuiapp.core.estimate.at_length import memory_line
        from tuiapp.tui.screens.dataset_screen import DatasetScreen

        assert self._model is not None
        shape, option = self._model.shape, message.option
        memory_at: Callable[[int], str] = lambda n: memory_line(shape, option, n)  # noqa: E731
        self.push_screen(DatasetScreen(message.config, inspect=self._inspector(), memory_at=memory_at))

    def on_dataset_screen_chosen(self, message: DatasetScreen.Chosen) -> None:
        from tuiapp.core.estimate.schedule_line import schedule_line
        from tuiapp.tui.screens.hyperparams_screen import HyperparamsScreen

        assert self._model is not None
        model, gpu, stats = self._model, self._gpu(), message.stats
        self._stats = stats
        self.push_screen(
            HyperparamsScreen(
                message.config,
                model,
                free_bytes=gpu.free_bytes if gpu else None,
                schedule=lambda config: schedule_line(config, model.shape, stats, gpu),
                bf16=gpu.bf16 if gpu else True,
                train_rows=stats.rows,
            )
        )

    def on_hyperparams_screen_chosen(self, message: HyperparamsScreen.Chosen) -> None:
        """The last step: for the GPU box when planning, else training here (asking first where it must)."""
        if self.planned:
            self.save_config(message.config, self._saved_for_gpu_box, title="Save the config for the GPU box")
        else:
            self.launcher.train(message.config, self._model, self._gpu(), self._stats)

    def on_gpu_box_screen_train_here_requested(self, message: GpuBoxScreen.TrainHereRequested) -> None:
        """Train the planned config on this machine anyway: on its own GPU if it has one, else the CPU."""
        here = self._hardware.primary_gpu if self._hardware else None
        self.launcher.train(message.config, self._model, here, self._stats)

    def _gpu(self) -> GpuInfo | None:
        return self._profile.primary_gpu if self._profile else None

    # ----- saving ------------------------------------------------------------------------------------
    def on_save_config_requested(self, message: SaveConfigRequested) -> None:
        self.save_config(message.config, self._saved)

    def save_config(self, config: FTConfig, then: Callable[[FTConfig, Path], None], title: str = "") -> None:
        """Ask where (suggesting the last folder used and a name from the model and method), then save."""
        from tuiapp.tui.screens.save_config_screen import SaveConfigScreen, suggested_name

        if self._config_path is not None:
            suggested = self._config_path
        else:
            folder = self._save_dir or Path.cwd()
            suggested = folder / suggested_name(config)
            suggested = suggested.relative_to(Path.cwd()) if suggested.is_relative_to(Path.cwd()) else suggested

        def saved(path: Path | None) -> None:
            if path is not None:
                self._config_path, self._save_dir = path, path.parent
                then(config, path)

        self.push_screen(SaveConfigScreen(config, suggested, title or "Save the config"), saved)

    def on_export_requested(self, message: ExportRequested) -> None:
        """The Export dialog, suggesting the folder the last config was saved in."""
        from tuiapp.tui.screens.export_screen import ExportScreen
        from tuiapp.tui.screens.save_config_screen import suggested_name

        saved = self._config_path
        stem = message.stem or (saved.stem if saved else suggested_name(message.config).removesuffix(".yaml"))
        source = message.source_name or (saved.name if saved else "a config not saved yet")
        self.push_screen(ExportScreen(message.config, self._save_dir or Path.cwd(), stem, source))

    def _saved(self, config: FTConfig, path: Path) -> None:
        self.notify(f"{path}\nCheck it any time: ftwizard check {path.name}", title="Config saved")

    def _saved_for_gpu_box(self, config: FTConfig, path: Path) -> None:
        from tuiapp.tui.screens.gpu_box_screen import GpuBoxScreen

        gpu = self._gpu()
        self.push_screen(GpuBoxScreen(config, path, gpu.name if gpu else "GPU", Path.cwd()))

    # ----- starting from a saved config --------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="from-config")
    def start_from_config(self, config: FTConfig) -> None:
        """Detect the hardware and look the model up, then lay the steps down to the first one not valid."""
        from tuiapp.core.hardware import planned_hardware
        from tuiapp.core.models.resolve import resolve_model

        profile = self._hardware or self._detect()
        if self._target is not None:
            profile = planned_hardware(self._target, profile.system)
        try:
            model = (self._resolve or resolve_model)(config.model.name_or_path)
        except UserError as exc:
            self.call_from_thread(self._steps_from_config, config, profile, None, failure_text(exc))
            return
        self.call_from_thread(self._steps_from_config, config, profile, model, None)

    def _steps_from_config(
        self, config: FTConfig, profile: HardwareProfile, model: ResolvedModel | None, problem: str | None
    ) -> None:
        from tuiapp.tui.screens.dataset_screen import DatasetScreen
        from tuiapp.tui.screens.method_screen import MethodScreen
        from tuiapp.tui.screens.model_screen import ModelScreen

        self._profile, self._model = profile, model
        model_screen = ModelScreen(resolve=self._resolve, initial=config.model.name_or_path, chosen=model)
        self.push_screen(model_screen)
        if model is None:
            model_screen.call_after_refresh(setattr, model_screen, "problem", problem)
            return
        self.push_screen(MethodScreen(model, profile, prefer=config.method, installed=self._installed))

        self.push_screen(DatasetScreen(config, inspect=self._inspector(), advance=config.dataset is not None))
