"""Sort a worker's failure into a reason a person can act on, judged by type names and message text only.

It works on the exception object without importing torch: `torch.OutOfMemoryError` is recognized by
its class name, the same way in the worker and in tests.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass

TRACEBACK_LINES = 20


@dataclass(frozen=True)
class FailureReason:
    """A machine-readable `reason`, and a `hint` saying what to change."""

    reason: str
    hint: str


def _type_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def is_out_of_memory(exc: BaseException) -> bool:
    """True for `torch.OutOfMemoryError` and the RuntimeErrors CUDA and its libraries raise for the same."""
    return "OutOfMemoryError" in _type_names(exc) or "out of memory" in str(exc).lower()


def classify_failure(exc: BaseException) -> FailureReason:
    """The reason and fix for an exception raised while loading or training."""
    names = _type_names(exc)
    text = str(exc)
    lowered = text.lower()
    if is_out_of_memory(exc):
        return FailureReason(
            "out_of_memory",
            "the GPU ran out of memory: lower training.micro_batch_size (raise grad_accum to keep the "
            "effective batch), turn on gradient_checkpointing, shorten max_length, or use qlora; "
            "`ftwizard plan` shows what fits",
        )
    if "DataError" in names:
        return FailureReason("bad_data", "fix the dataset as the message says; `ftwizard data inspect` checks it")
    if "ConfigError" in names:
        return FailureReason("bad_config", "fix the config as the message says; `ftwizard check` validates it")
    if "bitsandbytes" in lowered or ("cuda" in lowered and ("not available" in lowered or "no cuda" in lowered)):
        return FailureReason(
            "no_gpu_support",
            "this method or optimizer needs bitsandbytes with GPU support: install it on a CUDA machine, "
            "or choose method lora or full and optimizer adamw_torch",
        )
    if "ModuleNotFoundError" in names or "ImportError" in names:
        return FailureReason("missing_dependency", "install the missing package into ftwizard's environment")
    model_words = ("model.name_or_path", "config.json", "is not a local folder", "repository not found", "repo id")
    model_errors = {"RepositoryNotFoundError", "HFValidationError", "LocalEntryNotFoundError", "GatedRepoError"}
    if any(word in lowered for word in model_words) or names & model_errors:
        return FailureReason(
            "model_not_found",
            "check model.name_or_path: a Hub id (org/name) you can reach (gated models need `hf auth login`; "
            "offline, it must be in the cache), or a folder holding config.json",
        )
    if "UserError" in names:
        return FailureReason("bad_input", "change the setting the message names")
    if "OSError" in names and "No space left" in text:
        return FailureReason("disk_full", "free disk space in the runs folder, or lower training.save_total_limit")
    return FailureReason("error", "see worker.log in the run directory for the full traceback")


def traceback_tail(exc: BaseException, lines: int = TRACEBACK_LINES) -> list[str]:
    """The last lines of the formatted traceback (where it broke, and the message)."""
    text = "".join(traceback.format_exception(exc))
    return text.rstrip("\n").splitlines()[-lines:]
