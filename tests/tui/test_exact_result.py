"""The exact check's answer in words: allocated, reserved and nvidia-smi (replayed when the answer has them), the
verdict on nvidia-smi's figure with its margin, and a malformed answer refused."""

from __future__ import annotations

import pytest

from tuiapp.core.estimate.closed_form import CUDA_CONTEXT_BYTES, nvidia_smi_bytes, reserved_bytes
from tuiapp.core.estimate.exact_check import ExactCheckError
from tuiapp.core.estimate.reserved import library_workspace_sizes
from tuiapp.core.units import GIB
from tuiapp.tui.widgets.exact_result import exact_result_text, simulated_memory

PEAK = 10 * GIB


def test_an_answer_without_replayed_figures_takes_the_closed_forms_allocator_term() -> None:
    reserved = reserved_bytes(PEAK)
    assert reserved == int(PEAK * 1.03) + sum(library_workspace_sizes())
    assert simulated_memory({"peak_bytes": PEAK}) == (PEAK, reserved, reserved + CUDA_CONTEXT_BYTES)


def test_the_verdict_compares_the_replayed_nvidia_smi_figure() -> None:
    answer = {"peak_bytes": PEAK, "reserved_bytes": 11 * GIB, "nvidia_smi_bytes": 12 * GIB}
    assert simulated_memory(answer) == (PEAK, 11 * GIB, 12 * GIB)
    roomy = exact_result_text("lora", answer, 40 * GIB, free_bytes=24 * GIB)
    assert "10.00 GiB allocated, 11.00 reserved, ~12.00 GiB in nvidia-smi" in roomy
    assert "[green]fits[/] in 24.0 GiB free (5% kept spare)" in roomy and "closed form 40.00 GiB (+300.0%)" in roomy
    tight = exact_result_text("lora", answer, 1 * GIB, free_bytes=int(12 * GIB / 0.96))
    assert "[red]does NOT fit[/]" in tight and "closed form 1.00 GiB (-90.0%)" in tight  # the margin is 5%
    fitting = exact_result_text("lora", answer, 1 * GIB, free_bytes=int(12 * GIB / 0.95) + 1)
    assert "[green]fits[/]" in fitting
    assert "no GPU to compare with" in exact_result_text("qlora", {"peak_bytes": PEAK}, PEAK, None)
    assert nvidia_smi_bytes(11 * GIB) == 11 * GIB + CUDA_CONTEXT_BYTES


@pytest.mark.parametrize("answer", [{}, {"peak_bytes": 0}, {"peak_bytes": -5}, {"peak_bytes": 1.5e9},
                                    {"peak_bytes": True}, {"peak_bytes": "12"}, ["peak_bytes"]])  # fmt: skip
def test_an_answer_without_a_positive_peak_is_refused(answer) -> None:
    with pytest.raises(ExactCheckError, match="answered without a peak in bytes"):
        exact_result_text("lora", answer, GIB, 24 * GIB)


def test_malformed_replayed_figures_fall_back_to_the_closed_form() -> None:
    answer = {"peak_bytes": PEAK, "reserved_bytes": "lots", "nvidia_smi_bytes": -1}
    assert simulated_memory(answer) == (PEAK, reserved_bytes(PEAK), nvidia_smi_bytes(reserved_bytes(PEAK)))
