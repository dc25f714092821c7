"""Phase events while a launch loads (libraries, model, dataset, checkpoint) and until its first logged step.

`datasets` counts the rows it reads, converts and tokenizes with its own progress bars; while `dataset_progress`
is open, those bars also report to the phase reporter, so "tokenizing train dataset 1,200/5,000" reaches the
dashboard. Where a newer `datasets` moved its bars, the phases still come, without the counts.
"""

from __future__ import annotations

import contextlib
import importlib
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from tuiapp.core.runs.events import PREPARING_DATASET, EventWriter, Phase

PROGRESS_EVERY_S = 0.5  # the most often one phase's counts are written
DATASETS_MODULES = ("datasets.arrow_dataset", "datasets.builder")  # each holds `hf_tqdm`, its progress bar


class PhaseReporter:
    """Writes phase events: each new phase at once, its progress at most every PROGRESS_EVERY_S seconds."""

    def __init__(self, writer: EventWriter, clock: Callable[[], float] = time.monotonic) -> None:
        self._writer, self._clock = writer, clock
        self._current: tuple[str, str | None] | None = None
        self._written_at = 0.0

    def show(self, name: str, detail: str | None = None, done: int | None = None, total: int | None = None) -> None:
        now = self._clock()
        new = (name, detail) != self._current
        finished = done is not None and total is not None and done >= total
        if not new and not finished and now - self._written_at < PROGRESS_EVERY_S:
            return
        self._current, self._written_at = (name, detail), now
        self._writer.write(Phase(name=name, detail=detail, done=done, total=total))


def _detail(description: str) -> str:
    """`Tokenizing train dataset (num_proc=4): ` -> `tokenizing train dataset`."""
    text = re.sub(r"\(num_proc=\d+\)|\(\d+/\d+ shards\)", "", description).strip(" :")
    return text[:1].lower() + text[1:] if text else "reading rows"


def _reporting_bar(base: type, reporter: PhaseReporter) -> type:
    """A subclass of `datasets`' progress bar that also reports its counts as the dataset phase."""

    class ReportingBar(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._phase_detail = _detail(str(kwargs.get("desc") or ""))
            total = kwargs.get("total")
            self._phase_total = int(total) if isinstance(total, int | float) and total > 0 else None
            self._phase_done = int(kwargs.get("initial") or 0)
            reporter.show(PREPARING_DATASET, self._phase_detail, self._phase_done, self._phase_total)

        def update(self, n: float | None = 1) -> Any:
            self._phase_done += int(n or 0)
            reporter.show(PREPARING_DATASET, self._phase_detail, self._phase_done, self._phase_total)
            return super().update(n)

    return ReportingBar


@contextlib.contextmanager
def dataset_progress(reporter: PhaseReporter) -> Iterator[None]:
    """While open, `datasets`' progress bars (reading, converting, tokenizing rows) report to `reporter`."""
    replaced: list[tuple[Any, Any]] = []
    for name in DATASETS_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        bar = getattr(module, "hf_tqdm", None)
        if isinstance(bar, type):
            replaced.append((module, bar))
            module.hf_tqdm = _reporting_bar(bar, reporter)
    try:
        yield
    finally:
        for module, bar in replaced:
            module.hf_tqdm = bar
