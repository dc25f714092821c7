"""The exact check's answer in words: the verdict follows the measured peak, and a malformed answer is refused."""

from __future__ import annotations

import pytest

from tuiapp.core.estimate.closed_form import CUDA_CONTEXT_BYTES, reserved_bytes
from tuiapp.core.estimate.exact_check import ExactCheckError
from tuiapp.core.units import GIB
from tuiapp.tui.widgets.exact_result import exact_result_text

PEAK = 10 * GIB


def test_the_verdict_compares_the_measured_peak_not_the_estimate() -> None:
    reserved = reserved_bytes(PEAK)
    assert reserved == int(PEAK * 1.06) + CUDA_CONTEXT_BYTES
    roomy = exact_result_text("lora", {"peak_bytes": PEAK}, 40 * GIB, free_bytes=24 * GIB)
    tight = exact_result_text("lora", {"peak_bytes": PEAK}, 1 * GIB, free_bytes=int(reserved / 0.96))
    assert "[green]fits[/] in 24.0 GiB free" in roomy and "closed form 40.00 GiB (+300.0%)" in roomy
    assert "[red]does NOT fit[/]" in tight and "closed form 1.00 GiB (-90.0%)" in tight  # the margin is 5%
    assert "no GPU to compare with" in exact_result_text("qlora", {"peak_bytes": PEAK}, PEAK, None)


@pytest.mark.parametrize("answer", [{}, {"peak_bytes": 0}, {"peak_bytes": -5}, {"peak_bytes": 1.5e9},
                                    {"peak_bytes": True}, {"peak_bytes": "12"}, ["peak_bytes"]])  # fmt: skip
def test_an_answer_without_a_positive_peak_is_refused(answer) -> None:
    with pytest.raises(ExactCheckError, match="answered without a peak in bytes"):
        exact_result_text("lora", answer, GIB, 24 * GIB)
