"""The Axolotl backend: our config exported to Axolotl's YAML (core/export/axolotl.py) in the run directory,
`axolotl train FILE` run as a child of this worker from Axolotl's own environment, and its progress turned into
our events, so the dashboard, stop, resume, `runs` and `attach` work as for the hf backend.

Axolotl pins other transformers / TRL versions than ours, so it never shares our environment: a plugin of ours
(axolotl_side/ftwizard_axolotl.py, on the child's PYTHONPATH) sends each logged step, evaluation, checkpoint and
the end as a JSON line on a pipe; the child's own output goes to the run's log. Its checkpoints go to the run's
checkpoints/ (so resume and `runs` find them), its result is moved to final/ (so merge, chat and push find it).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from tuiapp.core.child_env import allocator_conf, child_env
from tuiapp.core.runs.events import (
    FIRST_STEP,
    LOADING_CHECKPOINT,
    LOADING_LIBRARIES,
    CheckpointSaved,
    Completed,
    EvalDone,
    Event,
    EventWriter,
    Failed,
    Metrics,
    Started,
    Stopped,
)
from tuiapp.core.user_error import UserError
from tuiapp.training.axolotl_config import write_axolotl_config
from tuiapp.training.phases import PhaseReporter

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig
    from tuiapp.core.runs.layout import RunPaths

PLUGIN_DIR = Path(__file__).with_name("axolotl_side")
MAX_MESSAGE_BYTES = 8192  # the plugin cuts its lines at 3,800 characters
LOG_TAIL_BYTES = 64 << 10
TAIL_LINES = 20
POLL_S = 0.5
GIB = 1 << 30


def _child_env(command: Path, events_fd: int) -> dict[str, str]:
    """Ours, minus our checkout on the path; the tool's bin first (it launches `accelerate` and friends), our
    plugin importable, telemetry off."""
    env = child_env()
    env["PATH"] = os.pathsep.join(p for p in (str(command.parent), env.get("PATH")) if p)
    env["PYTHONPATH"] = str(PLUGIN_DIR)
    env.pop("PYTHONHOME", None)
    env.pop("VIRTUAL_ENV", None)
    env |= {"DO_NOT_TRACK": "1", "AXOLOTL_DO_NOT_TRACK": "1", "TQDM_DISABLE": "1", "FTWIZARD_EVENTS_FD": str(events_fd)}
    return env


def _read_messages(pipe: IO[bytes], into: queue.Queue[dict[str, Any] | None]) -> None:
    """Each JSON line the plugin writes, as a dict; None at the end. A line too long or not JSON is skipped."""
    with pipe:
        while line := pipe.readline(MAX_MESSAGE_BYTES):
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict):
                into.put(message)
    into.put(None)


def log_tail(path: Path, lines: int = TAIL_LINES) -> list[str]:
    """The last lines of the run's log (the tool's own output), read from its end only."""
    try:
        with path.open("rb") as handle:
            handle.seek(max(handle.seek(0, os.SEEK_END) - LOG_TAIL_BYTES, 0))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return []
    kept = [line.rstrip() for line in text.replace("\r", "\n").splitlines() if line.strip()]
    return [line[:300] for line in kept[-lines:]]


def _tokens_at(checkpoint: Path | None) -> int:
    """The token count Axolotl restores at resume (its tokens_state.json): our events count one launch's."""
    try:
        return int(json.loads((checkpoint / "tokens_state.json").read_text(encoding="utf-8"))["total"])  # type: ignore[operator]
    except (TypeError, OSError, ValueError, KeyError):
        return 0


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class _Progress:
    """The plugin's messages as our events, written as they come."""

    def __init__(self, writer: EventWriter, started: Callable[[dict[str, Any]], Started], tokens_base: int, batch: int):
        self.writer, self.started, self.tokens_base, self.batch = writer, started, tokens_base, batch
        self.phases = PhaseReporter(writer)
        self.began = self.hello = self.stopped_loading = False
        self.step = self.max_steps = 0
        self.summary: dict[str, float] = {}
        self.tokens: int | None = None
        self._last = (time.monotonic(), 0)

    def handle(self, message: dict[str, Any]) -> None:
        kind = message.get("kind")
        if kind == "hello":
            self.hello = True
            self.phases.show(str(message.get("phase"))[:100])
        elif kind == "phase":
            self.phases.show(str(message.get("name"))[:100], str(message.get("detail"))[:200])
        elif kind == "stopped_loading":
            self.stopped_loading = True
        elif kind == "begin":
            self.began = True
            self.step, self.max_steps = int(message.get("step") or 0), int(message.get("max_steps") or 0)
            self._last = (time.monotonic(), self.step)
            self.writer.write(self.started(message))
            self.phases.show(FIRST_STEP)
        elif kind == "log":
            self._log(message)
        elif kind == "eval":
            values = {k: float(v) for k, v in (message.get("metrics") or {}).items() if _number(v) is not None}
            self.writer.write(EvalDone(step=int(message["step"]), eval_loss=values.get("eval_loss"), metrics=values))
        elif kind == "save":
            self.writer.write(CheckpointSaved(step=int(message["step"]), path=str(message.get("path"))[:1000]))
        elif kind == "end":
            self.step = int(message.get("step") or self.step)

    def _log(self, message: dict[str, Any]) -> None:
        logs: dict[str, Any] = message.get("logs") or {}
        step = int(message.get("step") or 0)
        self.step, self.max_steps = step, int(message.get("max_steps") or self.max_steps)
        if "loss" not in logs:
            if "train_loss" in logs:  # the end-of-training summary
                self.summary = {k: float(v) for k, v in logs.items() if _number(v) is not None}
            return
        now = time.monotonic()
        elapsed, steps = max(now - self._last[0], 1e-9), step - self._last[1]
        total = _number(logs.get("tokens/total"))
        self.tokens = int(total) - self.tokens_base if total is not None else None
        peak = _number(logs.get("memory/max_allocated (GiB)"))
        reserved = _number(logs.get("memory/device_reserved (GiB)"))
        self.writer.write(
            Metrics(
                step=step,
                total_steps=self.max_steps,
                epoch=_number(message.get("epoch")),
                loss=_number(logs.get("loss")),
                learning_rate=_number(logs.get("learning_rate")),
                grad_norm=_number(logs.get("grad_norm")),
                tokens_per_s=_number(logs.get("tokens/train_per_sec_per_gpu")),
                samples_per_s=steps * self.batch / elapsed if steps > 0 else None,
                gpu_memory_allocated=int(peak * GIB) if peak else None,
                gpu_memory_reserved=int(reserved * GIB) if reserved else None,
                tokens=self.tokens,
            )
        )
        self._last = (now, step)


def _move_result(output_dir: Path, final: Path) -> None:
    """Axolotl saves the result at the top of its output_dir, beside the checkpoints: move those files to
    final/ (a folder made whole first, then renamed into place). Beside an adapter, the base model's config.json
    is left out, as the hf backend's final/ has none (merge and chat tell an adapter from a model by it)."""
    import shutil

    staging = final.with_name(final.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    adapter = (output_dir / "adapter_config.json").is_file()
    for path in output_dir.iterdir():
        if path.is_file() and path.name != "debug.log" and not (adapter and path.name == "config.json"):
            os.replace(path, staging / path.name)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(staging, final)


def _failure(code: int, paths: RunPaths) -> Failed:
    """One event for a tool that failed: its exit code, its last words and the tail of its output."""
    tail = log_tail(paths.log)
    errors = [line for line in tail if "Error" in line or "error:" in line.lower()]
    said = (errors or tail or ["(no output)"])[-1][:300]
    if any("out of memory" in line.lower() for line in tail):
        return Failed(
            reason="out_of_memory",
            message=f"axolotl ran out of GPU memory: {said}",
            hint="lower training.micro_batch_size or max_length, or use qlora (Axolotl does not retry lighter)",
            traceback_tail=tail,
        )
    return Failed(
        reason="tool_failed",
        message=f"axolotl train exited with code {code}: {said}",
        hint=f"read the tool's output in {paths.log}; `ftwizard export --to axolotl` writes the same YAML to try",
        traceback_tail=tail,
    )


def train(config: FTConfig, paths: RunPaths, writer: EventWriter, stop_requested: Callable[[], bool]) -> Event:
    """Run `axolotl train` on the run's exported YAML (continuing from its last checkpoint); the final event."""
    from tuiapp.core.axolotl_tool import axolotl_command

    if config.task != "sft":
        raise UserError(f"the axolotl backend trains task sft only, not {config.task}", "set framework: hf")
    command = axolotl_command(config.axolotl_command)
    phases = PhaseReporter(writer)
    phases.show(LOADING_LIBRARIES, f"axolotl ({command})")
    resume_from = paths.last_checkpoint()
    yaml_path, notes = write_axolotl_config(config, paths, command, resume_from)

    def started(message: dict[str, Any]) -> Started:
        return Started(
            pid=os.getpid(),
            step=int(message.get("step") or 0),
            total_steps=int(message.get("max_steps") or 0),
            resumed_from=str(resume_from) if resume_from else None,
            versions={str(k): str(v)[:40] for k, v in dict(message.get("versions") or {}).items()},
            hardware=dict(message.get("hardware") or {}),
            allocator_conf=allocator_conf(),
            notes=[*notes, "framework axolotl"],
        )

    batch = config.training.micro_batch_size * config.training.grad_accum
    progress = _Progress(writer, started, _tokens_at(resume_from), batch)
    if resume_from:
        phases.show(LOADING_CHECKPOINT, resume_from.name)
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        child = subprocess.Popen(
            [str(command), "train", str(yaml_path), "--launcher", "python"],
            cwd=paths.root,
            env=_child_env(command, write_fd),
            stdin=subprocess.DEVNULL,
            pass_fds=(write_fd,),
        )
    except OSError as exc:
        os.close(read_fd)
        raise UserError(f"cannot start {command}: {exc.strerror or exc}", "check axolotl_command") from None
    finally:
        os.close(write_fd)
    messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
    threading.Thread(target=_read_messages, args=(os.fdopen(read_fd, "rb"), messages), daemon=True).start()
    signalled = False
    try:
        while True:
            if stop_requested() and not signalled:
                child.send_signal(signal.SIGTERM)  # the plugin saves a checkpoint at this step, then stops
                signalled = True
            try:
                message = messages.get(timeout=POLL_S)
            except queue.Empty:
                if child.poll() is not None and messages.empty():
                    break  # exited; a helper it forked may still hold the pipe open
                continue
            if message is None:
                break
            progress.handle(message)
        code = child.wait()
    except BaseException:  # a second stop signal (HardStop), or anything else: the child goes with us
        child.kill()
        child.wait()
        raise
    checkpoint = paths.last_checkpoint()
    before_its_handler = code == -signal.SIGTERM  # stopped while Axolotl was still importing
    stopped_early = code == 0 and progress.step < progress.max_steps
    if signalled and (progress.stopped_loading or before_its_handler or stopped_early):
        resumed_at = int(resume_from.name.removeprefix("checkpoint-")) if resume_from else 0
        step = progress.step if progress.began else resumed_at
        return Stopped(step=step, checkpoint=str(checkpoint) if checkpoint else None)
    if code != 0:
        return _failure(code, paths)
    if not progress.hello:
        return Failed(
            reason="tool_failed",
            message="axolotl ran without ftwizard's progress plugin, so its result cannot be followed",
            hint=f"the plugin is {PLUGIN_DIR / 'ftwizard_axolotl.py'}; read {paths.log} for why it did not load",
            traceback_tail=log_tail(paths.log),
        )
    _move_result(paths.checkpoints, paths.final)
    return Completed(
        step=progress.step,
        artifacts=[str(paths.final)],
        train_loss=progress.summary.get("train_loss"),
        runtime_s=progress.summary.get("train_runtime"),
        tokens=progress.tokens,
    )
