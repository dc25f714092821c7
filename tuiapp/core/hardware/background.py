"""The first hardware detection, started in a thread before the wizard imports Textual.

NVML's start-up on a GPU box takes tens to hundreds of milliseconds in C (the GIL released), and the
wizard's imports take about as long: overlapping them paints the Hardware screen with its facts sooner.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from tuiapp.core.hardware.profile import HardwareProfile


class DetectionInBackground:
    """Callable like `detect_hardware`: the first call returns the result of the thread started here
    (raising what it raised), later calls detect again (the screen's re-detect)."""

    def __init__(self, detect: Callable[[], HardwareProfile]) -> None:
        self._detect = detect
        self._result: HardwareProfile | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = threading.Thread(
            target=self._run, name="ftwizard-first-detection", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        try:
            self._result = self._detect()
        except BaseException as error:  # handed to the caller, who shows it as a detection failure
            self._error = error

    def finished(self) -> HardwareProfile | None:
        """The first detection's profile if it is already there, without waiting (it is then used up: later
        calls detect again); None while it runs, when it failed (the next call raises it) or once used."""
        thread = self._thread
        if thread is None or thread.is_alive() or self._error is not None:
            return None
        self._thread = None
        return self._result

    def __call__(self) -> HardwareProfile:
        thread, self._thread = self._thread, None
        if thread is None:
            return self._detect()
        thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result
