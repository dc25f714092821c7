"""One rule shared by `ftwizard check` and the Hyperparameters screen: the max length fits the model's context."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig


def max_length_problem(config: FTConfig, context_length: int) -> str | None:
    """What is wrong when training.max_length is past the model's context (None when it is not): positions
    beyond what the model was trained for give it nothing to learn from, only memory to spend."""
    max_length = config.training.max_length
    if max_length <= context_length:
        return None
    return (
        f"Max length {max_length:,} is past the model's {context_length:,}-token context: "
        f"lower it to {context_length:,} or less"
    )


def past_context_refusal(config: FTConfig) -> str | None:
    """For the worker: the problem `ftwizard check` reports as an error, so both refuse the same configs. A
    model whose config.json cannot be read here (offline, a Hub id) is not judged, as check only notes it."""
    from tuiapp.core.models.resolve import resolve_model
    from tuiapp.core.user_error import UserError

    try:
        model = resolve_model(config.model.name_or_path, revision=config.model.revision)
    except UserError:
        return None
    return max_length_problem(config, model.context_length)
