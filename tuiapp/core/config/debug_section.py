"""Testing aids: faults injected on purpose, so the recovery paths can be proven on a CPU. Leave them empty."""

from pydantic import PositiveInt

from tuiapp.core.config.base import Section


class DebugSection(Section):
    inject_oom_at_step: PositiveInt | None = None
    """For tests only: raise torch.OutOfMemoryError as optimizer step N begins, to exercise the out-of-memory
    recovery without a GPU. Leave empty."""

    inject_oom_times: PositiveInt = 1
    """For tests only: how many training attempts the injected error hits (each automatic recovery uses
    one up), so a test can exhaust training.oom_retries."""
