"""The wizard's steps in order: one numbering for the title bar, the breadcrumb and the help screen."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """A step's id (what a screen's `STEP` names), its title, and its short breadcrumb label."""

    id: str
    title: str
    short: str


STEPS: tuple[Step, ...] = (
    Step("hardware", "Hardware", "Hardware"),
    Step("model", "Model", "Model"),
    Step("method", "Method", "Method"),
    Step("dataset", "Dataset", "Dataset"),
    Step("hyperparams", "Hyperparameters", "Settings"),
    Step("train", "Training", "Train"),
    Step("finish", "Finish", "Finish"),  # merge, GGUF, chat, push: the result leaves the box
)
PLANNED_LAST = Step("train", "Save for the GPU box", "Save")  # planning for a GPU this machine lacks


def step_index(step_id: str) -> int:
    """The 0-based position of a step; KeyError for an unknown id."""
    for index, step in enumerate(STEPS):
        if step.id == step_id:
            return index
    raise KeyError(step_id)


def steps_for(planned: bool) -> tuple[Step, ...]:
    """The sequence as this session walks it: planning for another machine ends in saving, not training."""
    return (*STEPS[:-2], PLANNED_LAST) if planned else STEPS


def step_title(step_id: str, planned: bool = False) -> str:
    """`Step 3 of 7 · Method`."""
    steps = steps_for(planned)
    index = step_index(step_id)
    return f"Step {index + 1} of {len(steps)} · {steps[index].title}"
