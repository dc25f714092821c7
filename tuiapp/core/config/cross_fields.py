"""Rules over two or more settings, written as checks over validated values so that every one runs.

Each rule reads settings by dotted key from `Known`; a key whose value did not validate is not known, and a
rule that needs it is skipped (its field error is reported instead). A rule returns a CrossFieldProblem
naming the keys it is about, so the report can point at their lines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from tuiapp.core.config.choices import TASK_FORMATS


@dataclass(frozen=True)
class CrossFieldProblem:
    """One broken rule: the sentence (what and what to do) and the dotted keys it is about, most to blame first."""

    message: str
    keys: tuple[str, ...]


class CrossFieldError(ValueError):
    """Raised by FTConfig's validator with every broken rule (validate_config reports each at its lines)."""

    def __init__(self, problems: list[CrossFieldProblem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = problems


class _Unknown(Exception):
    """A rule needs a setting whose value did not validate."""


class Known:
    """Validated settings by dotted key ("task", "dataset", "dataset.format"); others raise _Unknown."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def __getitem__(self, key: str) -> Any:
        if key not in self._values:
            raise _Unknown(key)
        return self._values[key]


def flat_values(config: BaseModel) -> dict[str, Any]:
    """Every setting of a validated config by dotted key, down to the sections' fields."""
    values: dict[str, Any] = {}
    for name in type(config).model_fields:
        value = values[name] = getattr(config, name)
        if isinstance(value, BaseModel):
            values.update({f"{name}.{sub}": getattr(value, sub) for sub in type(value).model_fields})
    return values


def _task_fits_data(v: Known) -> CrossFieldProblem | None:
    if v["dataset"] is None or v["dataset.format"] in TASK_FORMATS[v["task"]]:
        return None
    allowed = ", ".join(TASK_FORMATS[v["task"]])
    return CrossFieldProblem(
        f"task {v['task']} cannot train on dataset.format {v['dataset.format']}: "
        f"set dataset.format to one of {allowed}, or choose a task that fits the data",
        ("task", "dataset.format"),
    )


def _packing_is_sft(v: Known) -> CrossFieldProblem | None:
    if not v["training.packing"] or v["task"] == "sft":
        return None
    return CrossFieldProblem(
        f"training.packing works with task sft only, not {v['task']}: set packing to false",
        ("training.packing", "task"),
    )


def _eval_steps_need_eval_data(v: Known) -> CrossFieldProblem | None:
    if v["training.eval_steps"] is None:
        return None
    if v["dataset"] is not None and (v["dataset.eval_split"] or v["dataset.eval_size"] > 0):
        return None
    return CrossFieldProblem(
        "training.eval_steps is set but there is no eval data: set dataset.eval_size "
        "(e.g. 0.05) or dataset.eval_split, or clear eval_steps",
        ("training.eval_steps",),
    )


def _sgd_is_sft(v: Known) -> CrossFieldProblem | None:
    if v["method"] != "full" or v["training.optimizer"] != "sgd" or v["task"] == "sft":
        return None
    return CrossFieldProblem(
        "optimizer sgd is only offered for sft: use adamw_torch or adamw_8bit",
        ("training.optimizer", "task", "method"),
    )


def _injection_fires(v: Known) -> CrossFieldProblem | None:
    inject, max_steps = v["debug.inject_oom_at_step"], v["training.max_steps"]
    if inject is None or max_steps is None or inject <= max_steps:
        return None
    return CrossFieldProblem(
        f"debug.inject_oom_at_step ({inject}) is past training.max_steps ({max_steps}): "
        "it would never fire; lower it or clear it",
        ("debug.inject_oom_at_step", "training.max_steps"),
    )


RULES: tuple[Callable[[Known], CrossFieldProblem | None], ...] = (
    _task_fits_data,
    _packing_is_sft,
    _eval_steps_need_eval_data,
    _sgd_is_sft,
    _injection_fires,
)


def cross_field_problems(values: Mapping[str, Any]) -> list[CrossFieldProblem]:
    """Every rule broken by `values` (validated settings by dotted key); rules needing a missing key are skipped."""
    known, problems = Known(values), []
    for rule in RULES:
        try:
            problem = rule(known)
        except _Unknown:
            continue
        if problem is not None:
            problems.append(problem)
    return problems
