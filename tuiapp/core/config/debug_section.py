"""Testing aids: faults injected on purpose, so the recovery paths can be proven on a CPU. Leave them empty."""

from pydantic import Field

from tuiapp.core.config.base import Section
from tuiapp.core.config.bounds import within


class DebugSection(Section):
    inject_oom_at_step: int | None = Field(default=None, **within("debug.inject_oom_at_step"))
    """For tests only: raise torch.OutOfMemoryError as optimizer step N begins, to exercise the out-of-memory
    recovery without a GPU. Leave empty."""

    inject_oom_times: int = Field(default=1, **within("debug.inject_oom_times"))
    """For tests only: how many training attempts the injected error hits (each automatic recovery uses
    one up), so a test can exhaust training.oom_retries."""

    inject_disk_full_at_step: int | None = Field(default=None, **within("debug.inject_oom_at_step"))  # a step too
    """For tests only: fail the first save made at optimizer step N (past training.max_steps: the final save)
    with OSError ENOSPC, as a full disk would, once its folder exists. Leave empty."""

    inject_kill_in_save_at_step: int | None = Field(default=None, **within("debug.inject_oom_at_step"))
    """For tests only: SIGKILL the worker partway through the first save made at optimizer step N (past
    training.max_steps: the final save): the adapter is written, the rest of the save is not. Leave empty."""
