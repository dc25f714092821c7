"""A run killed while saving its result resumes from the checkpoint of its last step: nothing is left to train.

The trainer would still run one more optimizer step before it noticed (step 13 of 12), so the backend saves the
result from that checkpoint instead of training.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tuiapp.core.runs.events import Completed
from tuiapp.core.runs.layout import RunPaths


def checkpoint_is_the_end(checkpoint: Path | None) -> bool:
    """True when `checkpoint` holds the run's last step (its trainer state says global_step >= max_steps)."""
    if checkpoint is None:
        return False
    try:
        state = json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))
        return int(state["global_step"]) >= int(state["max_steps"]) > 0
    except (OSError, ValueError, KeyError, TypeError):
        return False


def save_result_from(trainer: Any, tokenizer: Any, checkpoint: Path, paths: RunPaths) -> Completed:
    """Load the last checkpoint's weights into the trainer's model and save them as the result, training nothing.
    The callbacks still hear the launch begin, so it has its started event (at the last step)."""
    from transformers import TrainerState

    trainer._load_from_checkpoint(str(checkpoint))  # the weights only, as train(resume_from_checkpoint) loads them
    trainer.state = TrainerState.load_from_json(str(checkpoint / "trainer_state.json"))
    trainer.callback_handler.on_train_begin(trainer.args, trainer.state, trainer.control)
    trainer.save_model(str(paths.final))
    tokenizer.save_pretrained(str(paths.final))
    step = int(checkpoint.name.removeprefix("checkpoint-"))
    return Completed(step=step, artifacts=[str(paths.final)], train_loss=None, runtime_s=0.0, tokens=0)
