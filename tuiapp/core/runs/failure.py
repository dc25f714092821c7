"""Sort a worker's failure into a reason a person can act on, judged by type names and message text only.

It works on the exception object without importing torch: `torch.OutOfMemoryError` is recognized by
its class name, the same way in the worker and in tests.
"""

from __future__ import annotations

import errno
import os
import traceback
from dataclasses import dataclass

TRACEBACK_LINES = 20
DISK_FULL_ERRNOS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up"}
FILE_LIMIT_ERRNO = errno.EFBIG  # `ulimit -f` or a filesystem's largest file
# What the libraries say when they lose the errno: safetensors (Rust's io::Error), torch.save's C++ writer.
DISK_FULL_WORDS = {
    "no space left on device": errno.ENOSPC,
    "os error 28": errno.ENOSPC,
    "kind: storagefull": errno.ENOSPC,
    "disk quota exceeded": errno.EDQUOT,
    "os error 122": errno.EDQUOT,
    "kind: quotaexceeded": errno.EDQUOT,
    "file too large": errno.EFBIG,
    "os error 27": errno.EFBIG,
    "kind: filetoolarge": errno.EFBIG,
    "pytorchstreamwriter failed writing file": 0,  # torch.save says only "file write failed"
}
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
    if (number := disk_full_errno(exc)) is not None:  # before everything: a full disk is no bug of the config
        return FailureReason(
            "disk_full",
            "free space on the disk holding the runs folder (or set output.runs_root to a larger one, or lower "
            "training.save_total_limit), then `ftwizard resume RUN` continues from the last checkpoint",
            f"{disk_full_words(number)}: {_first_words(text)}",
        )
    if is_out_of_memory(exc):
        return FailureReason(
            "out_of_memory",
            "the GPU ran out of memory: lower training.micro_batch_size (raise grad_accum to keep the "
            "effective batch), turn on gradient_checkpointing, shorten max_length, or use qlora; "
            "`ftwizard plan` shows what fits",
        )
    if "DataError" in names:
        return FailureReason("bad_data", "fix the dataset as the message says; `ftwizard data inspect` checks it")
    if "target modules" in lowered and "not found" in lowered:  # PEFT, for lora.target_modules it lacks
        return FailureReason(
            "bad_config",
            'lora.target_modules names modules this model does not have: use "all-linear", or names of its '
            "linear layers (q_proj, k_proj, v_proj, o_proj, … in Llama-style models)",
        )
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
    return FailureReason("error", "see worker.log in the run directory for the full traceback")


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and those it was raised from or during (a library often wraps the OSError)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not s for s in seen) and len(seen) < 20:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def disk_full_errno(exc: BaseException) -> int | None:
    """ENOSPC, EDQUOT or EFBIG when writing failed for want of space (or a file size limit), else None."""
    for link in _chain(exc):
        if isinstance(link, OSError) and (link.errno in DISK_FULL_ERRNOS or link.errno == FILE_LIMIT_ERRNO):
            return link.errno
    for link in _chain(exc):
        lowered = str(link)[:2000].lower()
        for words, number in DISK_FULL_WORDS.items():
            if words in lowered:
                return number
        if "inline_container" in lowered and "unexpected pos" in lowered:  # torch.save's writer, cut short
            return 0
    return None


def written_path(exc: BaseException) -> str | None:
    """The file being written when it failed, when the exception names it."""
    for link in _chain(exc):
        if isinstance(link, OSError) and link.filename:
            return os.fsdecode(link.filename)
    return None


def disk_full_words(number: int) -> str:
    """`the disk is full`, `the disk quota is used up`, or what a file size limit means."""
    if number == FILE_LIMIT_ERRNO:
        return "a file size limit (`ulimit -f`) was reached"
    return DISK_FULL_ERRNOS.get(number, "a file could not be written (the disk is full or a file size limit hit)")


def _first_words(text: str, limit: int = 300) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "(no message)"
    return line if len(line) <= limit else line[: limit - 1] + "…"


def traceback_tail(exc: BaseException, lines: int = TRACEBACK_LINES) -> list[str]:
    """The last lines of the formatted traceback (where it broke, and the message)."""
    text = "".join(traceback.format_exception(exc))
    return text.rstrip("\n").splitlines()[-lines:]
