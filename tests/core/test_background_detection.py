"""The first detection runs in a thread started before the wizard's imports; later calls detect again."""

from __future__ import annotations

import threading

import pytest

from tuiapp.core.hardware import detect_hardware
from tuiapp.core.hardware.background import DetectionInBackground


def test_first_call_returns_the_threads_result_and_later_calls_detect_again() -> None:
    calls: list[str] = []
    started = threading.Event()

    def detect():
        calls.append(threading.current_thread().name)
        started.set()
        return detect_hardware()

    early = DetectionInBackground(detect)
    assert started.wait(10)
    first = early()
    assert first.source == "detected"
    assert calls == ["ftwizard-first-detection"]
    early()
    assert calls[1] == threading.current_thread().name  # a re-detect runs where it is asked for


def test_an_error_in_the_thread_reaches_the_caller_once() -> None:
    attempts = iter([RuntimeError("NVML said no"), None])

    def detect():
        error = next(attempts)
        if error:
            raise error
        return detect_hardware()

    early = DetectionInBackground(detect)
    with pytest.raises(RuntimeError, match="NVML said no"):
        early()
    assert early().source == "detected"


def test_finished_hands_over_a_done_result_once_without_waiting() -> None:
    gate = threading.Event()
    calls: list[int] = []

    def detect():
        calls.append(1)
        gate.wait(10)
        return detect_hardware()

    early = DetectionInBackground(detect)
    assert early.finished() is None, "still running: no wait"
    gate.set()
    early._thread.join(10)
    assert early.finished().source == "detected"
    assert early.finished() is None and len(calls) == 1, "used up"
    early()
    assert len(calls) == 2, "a later call detects again (the screen's re-detect)"
