"""An Axolotl plugin that runs inside Axolotl's own environment (PYTHONPATH names this folder); ftwizard never
imports it. It sends the trainer's progress to the ftwizard worker as JSON lines on the file descriptor named by
$FTWIZARD_EVENTS_FD (Axolotl prints its logs rounded to 4 digits and without the step), and makes SIGTERM mean
"save a checkpoint at this step, then stop", as our other backends do (Axolotl's own handler covers SIGINT only).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from importlib import metadata
from typing import Any

from axolotl.integrations.base import BasePlugin

EVENTS_FD_ENV = "FTWIZARD_EVENTS_FD"
MAX_KEYS = 40  # figures sent per log: Axolotl logs about a dozen
LIBRARIES = ("axolotl", "torch", "transformers", "trl", "peft", "datasets", "accelerate", "bitsandbytes")
_state = {"stop": False, "training": False}


def send(kind: str, **fields: Any) -> None:
    """One message, one write (atomic on a pipe below 4 KiB); a worker gone away is not our problem to report."""
    fd = os.environ.get(EVENTS_FD_ENV)
    if not fd or not fd.isdigit():
        return
    line = json.dumps({"kind": kind, **fields}, default=str)[:3800] + "\n"
    with contextlib.suppress(OSError):
        os.write(int(fd), line.encode("utf-8", "replace"))


def _numbers(values: dict[str, Any] | None) -> dict[str, float]:
    found = {k: v for k, v in (values or {}).items() if isinstance(v, int | float) and not isinstance(v, bool)}
    return dict(list(found.items())[:MAX_KEYS])


def _versions() -> dict[str, str]:
    import platform

    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _hardware() -> dict[str, Any]:
    import torch

    facts: dict[str, Any] = {"device": "cuda" if torch.cuda.is_available() else "cpu", "cpu_count": os.cpu_count()}
    if torch.cuda.is_available():
        props = [torch.cuda.get_device_properties(i) for i in range(torch.cuda.device_count())]
        facts["gpus"] = [
            {"name": p.name, "memory_bytes": p.total_memory, "capability": f"{p.major}.{p.minor}"} for p in props
        ]
        facts["cuda"] = torch.version.cuda
    return facts


def _on_sigterm(signum: int, frame: Any) -> None:
    if not _state["training"]:  # still loading: nothing trained, nothing to save
        send("stopped_loading")
        os._exit(0)
    _state["stop"] = True


class FtwizardEvents(BasePlugin):
    """Axolotl calls these hooks; each sends what the worker turns into one of our events."""

    def __init__(self) -> None:
        super().__init__()
        signal.signal(signal.SIGTERM, _on_sigterm)  # constructed in the main thread, as the config loads

    def register(self, cfg: dict) -> None:
        send("hello", phase="preparing the dataset")

    def pre_model_load(self, cfg: Any) -> None:
        send("phase", name="loading the model", detail=str(cfg.base_model)[:200])

    def add_callbacks_post_trainer(self, cfg: Any, trainer: Any) -> list:
        from transformers import TrainerCallback

        class Progress(TrainerCallback):
            def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
                _state["training"] = True
                versions, hardware = _versions(), _hardware()
                send("begin", step=state.global_step, max_steps=state.max_steps, versions=versions, hardware=hardware)

            def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
                if _state["stop"]:
                    control.should_save = True
                    control.should_training_stop = True

            def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
                send("log", step=state.global_step, max_steps=state.max_steps, epoch=state.epoch, logs=_numbers(logs))

            def on_evaluate(self, args: Any, state: Any, control: Any, metrics: Any = None, **kwargs: Any) -> None:
                send("eval", step=state.global_step, metrics=_numbers(metrics))

            def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
                path = os.path.join(args.output_dir, f"checkpoint-{state.global_step}")
                send("save", step=state.global_step, path=path)

            def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
                send("end", step=state.global_step, max_steps=state.max_steps, stopped=_state["stop"])

        return [Progress()]
