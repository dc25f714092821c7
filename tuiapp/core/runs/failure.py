"""Sort a worker's failure into a reason a person can act on, judged by type names and message text only.

It works on the exception object without importing torch: `torch.OutOfMemoryError` is recognized by
its class name, the same way in the worker and in tests.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass

TRACEBACK_LINES = 20
OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
NOT_CACHED_ERRORS = {"LocalEntryNotFoundError", "OfflineModeIsEnabled"}
NOT_CACHED_WORDS = (
    "is set and the model is not in the cache",
    "couldn't find them in the cached files",
    "cannot find the requested files in the local cache",
    "offline mode is enabled",
    "outgoing traffic has been disabled",
)


@dataclass(frozen=True)
class FailureReason:
    """A machine-readable `reason`, a `hint` saying what to change, and where the library's own wording
    says less than we can, the `message` to show instead."""

    reason: str
    hint: str
    message: str | None = None


def offline_variable() -> str | None:
    """The offline switch that is on (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE), or None."""
    for name in OFFLINE_VARIABLES:
        if os.environ.get(name, "").strip().upper() in {"1", "ON", "YES", "TRUE"}:
            return name
    return None


def not_cached_fix(variable: str, model: str = "ORG/NAME") -> str:
    """The one fix for a model that cannot be had offline."""
    return (
        f"download it once with network access (`hf download {model}`), or unset {variable} so the worker "
        "downloads it, or set model.name_or_path to a local folder"
    )


def _type_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def is_out_of_memory(exc: BaseException) -> bool:
    """True for `torch.OutOfMemoryError` and the RuntimeErrors CUDA and its libraries raise for the same."""
    return "OutOfMemoryError" in _type_names(exc) or "out of memory" in str(exc).lower()


def classify_failure(exc: BaseException) -> FailureReason:
    """The reason and fix for an exception raised while loading or training; a UserError's own fix (and the
    message without it) wins over the general hint."""
    found = _classify(exc)
    fix = getattr(exc, "fix", None)
    if isinstance(fix, str) and fix:
        return FailureReason(found.reason, fix, getattr(exc, "what", None) or found.message)
    return found


def _classify(exc: BaseException) -> FailureReason:
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
    offline = offline_variable()
    not_cached = names & NOT_CACHED_ERRORS or any(word in lowered for word in NOT_CACHED_WORDS)
    if offline and not_cached:  # the library's words ("check your internet connection") miss the point
        message = f"{offline} is set and the model is not in the cache"
        return FailureReason("model_not_cached", not_cached_fix(offline), message)
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
    return _other(names, text)


def _other(names: set[str], text: str) -> FailureReason:
    if "OSError" in names and "No space left" in text:
        return FailureReason("disk_full", "free disk space in the runs folder, or lower training.save_total_limit")
    return FailureReason("error", "see worker.log in the run directory for the full traceback")


def traceback_tail(exc: BaseException, lines: int = TRACEBACK_LINES) -> list[str]:
    """The last lines of the formatted traceback (where it broke, and the message)."""
    text = "".join(traceback.format_exception(exc))
    return text.rstrip("\n").splitlines()[-lines:]
