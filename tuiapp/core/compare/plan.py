"""What a comparison trials: the config's settings once per method, for a bounded number of steps, for each
method the estimator says fits here; the others are listed with the reason."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tuiapp.core.config import FTConfig, with_changes
from tuiapp.core.config.choices import STEPS_MAX, Method, choices
from tuiapp.core.data.samples import sample_path
from tuiapp.core.estimate.from_config import estimate_config
from tuiapp.core.hyperparam_presets import preset_changes
from tuiapp.core.units import GIB
from tuiapp.core.user_error import UserError

if TYPE_CHECKING:
    from tuiapp.core.estimate.closed_form import MemoryEstimate
    from tuiapp.core.hardware import GpuInfo
    from tuiapp.core.models.shape import ModelShape

DEFAULT_METHODS = ("full", "lora", "qlora")
DEFAULT_STEPS = 30
STEPS_BOUNDS = (2, 200)  # tokens/s needs two logged steps; past 200 a trial is a training run, not a trial
CPU_TRIAL_MAX_PARAMS = 50_000_000
"""On a machine without a CUDA GPU a model past this size trains too slowly for a trial: the demo runs instead."""
QUANTIZED_METHODS = frozenset({"qlora", "lora8"})
SAMPLE_DATASET = "messages.jsonl"  # what a comparison started before a dataset is chosen trains on


def parse_methods(text: str) -> tuple[str, ...]:
    """`full,lora,qlora` as a tuple of known, distinct methods, in the order given."""
    known = choices(Method)
    words = [word.strip() for word in text[:200].split(",") if word.strip()]
    if not words:
        raise UserError("--methods is empty", f"name one or more of {', '.join(known)}, comma-separated")
    unknown = [word for word in words if word not in known]
    if unknown:
        shown = ", ".join(repr(word[:20]) for word in unknown[:3])
        raise UserError(f"--methods: unknown method {shown}", f"choose from {', '.join(known)}, comma-separated")
    if len(set(words)) != len(words):
        raise UserError(f"--methods names a method twice ({text[:80]})", "name each method once")
    return tuple(words)


def check_steps(steps: int) -> int:
    low, high = STEPS_BOUNDS
    if not low <= steps <= high:
        raise UserError(
            f"--steps {steps} is out of range: a trial trains {low} to {high} steps",
            f"use --steps {DEFAULT_STEPS} (the default): enough for a steady tokens/s and a first loss",
        )
    return steps


def estimate_figures(estimate: MemoryEstimate) -> dict[str, int | None]:
    """allocated / reserved / nvidia-smi bytes of an estimate, keyed as the trial's measured FIGURES are."""
    return {
        "allocated": estimate.peak_alloc_bytes,
        "reserved": estimate.peak_reserved_bytes,
        "nvidia_smi": estimate.nvidia_smi_bytes,
    }


@dataclass(frozen=True)
class ComparePlan:
    """The trials in order (method -> the config its worker runs), what is left out and why, and notes."""

    base: FTConfig
    trials: dict[str, FTConfig]
    steps: int
    device: str  # "cuda" or "cpu"
    gpu: str | None = None
    skipped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    planned: dict[str, dict[str, int | None]] = field(default_factory=dict)
    bf16: bool = True  # the GPU has bfloat16 (what "auto" precision resolves to, for the estimates)


def trial_config(config: FTConfig, method: str, steps: int) -> FTConfig:
    """The config once for `method`: `steps` steps, a loss every step, no eval, no checkpoint, no OOM retry (an
    OOM is a result here). Another method than the config's takes its preset learning rate (full fine-tuning
    wants a tenth of LoRA's)."""
    changes: dict[str, object] = {
        "method": method,
        "training.max_steps": steps,
        "training.logging_steps": 1,
        "training.save_steps": STEPS_MAX,
        "training.eval_steps": None,
        "training.oom_retries": 0,
        "output.run_name": method,
        "output.runs_root": None,
    }
    if config.dataset is not None:
        changes.update({"dataset.eval_size": 0.0, "dataset.eval_split": None})
    if method != config.method and (rate := preset_changes(method, config.task).get("training.learning_rate")):
        changes["training.learning_rate"] = rate
    return with_changes(config, changes)


def _missing_library(method: str, framework: str) -> str | None:
    if method in QUANTIZED_METHODS and importlib.util.find_spec("bitsandbytes") is None:
        return "bitsandbytes is not installed (pip install bitsandbytes)"
    if framework == "unsloth" and importlib.util.find_spec("unsloth") is None:
        return "Unsloth is not installed (pip install 'ftwizard[unsloth]')"
    return None


def make_compare_plan(
    config: FTConfig,
    methods: tuple[str, ...],
    steps: int,
    gpu: GpuInfo | None,
    shape_of: Callable[[FTConfig], ModelShape],
    demo: Callable[[], FTConfig],
) -> ComparePlan:
    """Which methods run here and how. Without a CUDA GPU a model past CPU_TRIAL_MAX_PARAMS is swapped for the
    CPU demo (its tiny model and chat samples): the figures then show the comparison, not the model."""
    notes: list[str] = []
    if config.dataset is None:
        notes.append(f"no dataset chosen yet: the trials train on the bundled {SAMPLE_DATASET} examples")
        config = with_changes(config, {"dataset": {"source": str(sample_path(SAMPLE_DATASET)), "format": "messages"}})
    shape = shape_of(config)
    if gpu is None and shape.total_params > CPU_TRIAL_MAX_PARAMS:
        notes.append(
            f"no CUDA GPU here: {shape.name} ({shape.total_params / 1e9:.1f}B parameters) is too slow to trial on "
            "the CPU, so the trials run the CPU demo (a tiny model, the bundled chat samples); run this on the GPU "
            "machine for your model's figures"
        )
        config = with_changes(demo(), {"method": config.method})
        shape = shape_of(config)
    if gpu is None and config.framework != "hf":
        notes.append(f"no CUDA GPU here: the trials use the hf backend ({config.framework} needs one)")
        config = with_changes(config, {"framework": "hf"})
    if gpu is None:
        notes.append("on the CPU GPU memory is not measured (n/a); the process's peak RSS is shown instead")
    trials: dict[str, FTConfig] = {}
    skipped: dict[str, str] = {}
    planned: dict[str, dict[str, int | None]] = {}
    for method in methods:
        trial = trial_config(config, method, steps)
        estimate = estimate_config(trial, shape, bf16=gpu.bf16 if gpu else True)
        planned[method] = estimate_figures(estimate)
        if why := _missing_library(method, trial.framework):
            skipped[method] = why
        elif gpu is not None and not estimate.fits(gpu.free_bytes):
            need = estimate.peak_reserved_bytes / GIB
            skipped[method] = f"does not fit: needs about {need:.1f} GiB of the {gpu.free_bytes / GIB:.1f} GiB free"
        else:
            trials[method] = trial
    device = "cpu" if gpu is None else "cuda"
    bf16 = gpu.bf16 if gpu else True
    return ComparePlan(config, trials, steps, device, gpu.name if gpu else None, skipped, notes, planned, bf16)
