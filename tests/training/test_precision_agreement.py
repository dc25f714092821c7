"""The worker decides precision with `check`'s rule (tuiapp.core.preflight.resolve_precision): what `check`
warns about, the worker notes and trains; what `check` refuses, the worker refuses before loading the model."""

from __future__ import annotations

import pytest
from hardware_fixtures import cpu_only

from tuiapp.core.config import loads_config
from tuiapp.core.preflight import check_against_hardware
from tuiapp.core.user_error import UserError
from tuiapp.training.backend_hf import _precision

CPU_ONLY = cpu_only("planned")


def config(precision: str):
    return loads_config(f"model: {{name_or_path: org/m}}\ntraining: {{precision: {precision}}}\n")


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_on_a_cpu_check_warns_and_the_worker_notes_the_same_words(precision: str) -> None:
    (finding,) = check_against_hardware(config(precision), CPU_ONLY)
    notes: list[str] = []
    assert _precision(config(precision), cuda=False, notes=notes) == "fp32"
    assert finding.level == "warning" and notes == [finding.message]


@pytest.fixture
def turing_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """torch as it looks on a T4 (compute 7.5): it would still call bf16 supported, by emulation."""
    import torch

    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *a: (7, 5))
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "Tesla T4")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)


def test_bf16_on_a_gpu_without_it_is_refused_by_the_worker_too(turing_gpu: None) -> None:
    with pytest.raises(UserError, match=r"bf16 needs compute capability 8\.0"):
        _precision(config("bf16"), cuda=True, notes=[])


def test_auto_on_a_gpu_without_bf16_trains_in_fp16_as_check_plans(turing_gpu: None) -> None:
    assert _precision(config("auto"), cuda=True, notes=[]) == "fp16"
