"""What a comparison trials: bounds on its input, the trial configs, what fits, the CPU demo swap."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuiapp.core.compare.plan import (
    CPU_TRIAL_MAX_PARAMS,
    STEPS_BOUNDS,
    check_steps,
    make_compare_plan,
    parse_methods,
    trial_config,
)
from tuiapp.core.config import validate_config
from tuiapp.core.config.choices import STEPS_MAX
from tuiapp.core.demo import demo_config
from tuiapp.core.hardware import GpuInfo
from tuiapp.core.models.catalog import find_in_catalog
from tuiapp.core.models.resolve import ResolvedModel, resolve_model
from tuiapp.core.units import GIB
from tuiapp.core.user_error import UserError


def gpu(free_gib: float) -> GpuInfo:
    free = int(free_gib * GIB)
    return GpuInfo(index=0, name="Test GPU", total_bytes=80 * GIB, used_bytes=80 * GIB - free, free_bytes=free,
                   compute_capability=(9, 0))  # fmt: skip


def catalogue_shape(config):
    return ResolvedModel.from_catalog(find_in_catalog(config.model.name_or_path)).shape


@pytest.mark.parametrize(
    ("text", "said"),
    [("", "empty"), ("lora,dora", "unknown method 'dora'"), ("lora,lora", "twice"), (" , ", "empty")],
)
def test_bad_methods_are_refused_with_the_choices(text: str, said: str) -> None:
    with pytest.raises(UserError, match=said) as caught:
        parse_methods(text)
    assert "full" in str(caught.value) or "once" in str(caught.value)


def test_methods_keep_the_order_given() -> None:
    assert parse_methods("qlora, full") == ("qlora", "full")


@pytest.mark.parametrize("steps", [STEPS_BOUNDS[0] - 1, STEPS_BOUNDS[1] + 1, -5, 10**9])
def test_steps_out_of_bounds_are_refused(steps: int) -> None:
    with pytest.raises(UserError, match="out of range"):
        check_steps(steps)
    assert check_steps(STEPS_BOUNDS[0]) == STEPS_BOUNDS[0] and check_steps(STEPS_BOUNDS[1]) == STEPS_BOUNDS[1]


def test_a_trial_trains_n_steps_logs_each_and_saves_no_checkpoint(tiny_model_dir: Path) -> None:
    base = demo_config(tiny_model_dir)
    trial = trial_config(base, "full", 12)
    training = trial.training
    assert (trial.method, training.max_steps, training.logging_steps) == ("full", 12, 1)
    assert training.save_steps == STEPS_MAX and training.eval_steps is None and training.oom_retries == 0
    assert trial.dataset.eval_size == 0 and trial.output.run_name == "full"
    assert training.learning_rate < base.training.learning_rate  # full fine-tuning takes its preset rate
    assert trial_config(base, "lora", 12).training.learning_rate == base.training.learning_rate  # its own method


def test_a_method_that_does_not_fit_is_left_out_with_the_reason() -> None:
    config = validate_config({"model": {"name_or_path": "Qwen/Qwen2.5-7B-Instruct"}, "dataset": {"source": "x.jsonl"},
                              "training": {"max_length": 1024, "micro_batch_size": 1}})  # fmt: skip
    plan = make_compare_plan(config, ("full", "lora", "qlora"), 30, gpu(24), catalogue_shape, lambda: config)
    assert "qlora" in plan.trials
    assert "full" in plan.skipped and plan.skipped["full"].startswith("does not fit: needs about")
    assert "of the 24.0 GiB free" in plan.skipped["full"]
    assert plan.device == "cuda" and plan.gpu == "Test GPU" and set(plan.planned) == {"full", "lora", "qlora"}
    assert plan.planned["full"]["allocated"] > plan.planned["qlora"]["allocated"]


def test_without_a_gpu_a_big_model_is_swapped_for_the_demo(tiny_model_dir: Path) -> None:
    config = validate_config({"model": {"name_or_path": "Qwen/Qwen2.5-7B-Instruct"}, "framework": "unsloth"})

    def shape_of(cfg):
        return resolve_model(cfg.model.name_or_path).shape if Path(cfg.model.name_or_path).is_dir() else (
            catalogue_shape(cfg))  # fmt: skip

    plan = make_compare_plan(config, ("lora", "qlora"), 5, None, shape_of, lambda: demo_config(tiny_model_dir))
    assert plan.device == "cpu" and list(plan.trials) == ["lora", "qlora"] and plan.skipped == {}
    assert all(trial.model.name_or_path == str(tiny_model_dir) for trial in plan.trials.values())
    assert plan.base.framework == "hf"
    said = " ".join(plan.notes)
    assert "no dataset chosen yet" in said and "CPU demo" in said and "peak RSS" in said
    assert resolve_model(str(tiny_model_dir)).shape.total_params < CPU_TRIAL_MAX_PARAMS


def test_a_small_model_runs_as_it_is_on_the_cpu(tiny_model_dir: Path) -> None:
    config = demo_config(tiny_model_dir)
    plan = make_compare_plan(config, ("full",), 5, None, lambda c: resolve_model(c.model.name_or_path).shape,
                             lambda: pytest.fail("the demo is not needed"))  # fmt: skip
    assert plan.trials["full"].dataset.source == config.dataset.source
    assert not any("demo" in note for note in plan.notes)
