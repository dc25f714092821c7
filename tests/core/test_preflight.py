"""Rules that need the config and the hardware together."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hardware_fixtures import SYSTEM, cpu_only

from tuiapp.core.config import loads_config
from tuiapp.core.hardware import HardwareProfile, planned_hardware, resolve_gpu
from tuiapp.core.preflight import check_against_hardware, resolve_precision

CPU_ONLY = cpu_only("detected")


def gpu(name: str, source: str = "planned") -> HardwareProfile:
    return replace(planned_hardware(resolve_gpu(name), SYSTEM), source=source)


def findings(yaml_extra: str, profile: HardwareProfile, installed: tuple[str, ...] = ("bitsandbytes",)) -> list[str]:
    base = "" if yaml_extra.startswith("model:") else "model: {name_or_path: org/m}\n"  # a second model: is refused
    config = loads_config(base + yaml_extra)
    return [str(f) for f in check_against_hardware(config, profile, installed=lambda name: name in installed)]


def test_a_plain_lora_on_a_4090_is_clean() -> None:
    assert findings("method: lora\n", gpu("RTX 4090")) == []


def test_bf16_on_a_t4_is_an_error_with_the_fix() -> None:
    (problem,) = findings("training: {precision: bf16}\n", gpu("T4"))
    assert problem.startswith("error: training.precision") and "set precision to fp16 or auto" in problem


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_without_a_gpu_is_a_warning_the_worker_trains_in_fp32(precision: str) -> None:
    """The worker trains such a run in fp32 (it said so in a note while `check` refused it): a warning now."""
    (problem,) = findings(f"training: {{precision: {precision}}}\n", CPU_ONLY)
    assert problem.startswith("warning: training.precision") and "training in fp32 on the CPU" in problem


@pytest.mark.parametrize(
    ("wanted", "gpu_bf16", "trains_in", "level"),
    [
        ("auto", None, "fp32", None),
        ("fp32", None, "fp32", None),
        ("bf16", None, "fp32", "warning"),
        ("fp16", None, "fp32", "warning"),
        ("auto", True, "bf16", None),
        ("auto", False, "fp16", None),
        ("bf16", True, "bf16", None),
        ("bf16", False, "bf16", "error"),  # the trainer refuses bf16 on a GPU without it
        ("fp16", False, "fp16", None),
        ("fp32", True, "fp32", None),
    ],
)
def test_one_precision_rule_for_check_and_the_worker(wanted: str, gpu_bf16: bool | None, trains_in: str, level) -> None:
    precision, finding = resolve_precision(wanted, gpu_bf16)
    assert precision == trains_in
    assert (finding.level if finding else None) == level


def test_qlora_without_bitsandbytes_is_an_error_only_on_a_real_machine() -> None:
    detected = findings("method: qlora\n", gpu("RTX 4090", source="detected"), installed=())
    assert any("qlora needs bitsandbytes" in f for f in detected)
    assert findings("method: qlora\n", gpu("RTX 4090"), installed=()) == []  # planning for a box elsewhere


def test_qlora_on_cpu_is_a_warning() -> None:
    (problem,) = findings("method: qlora\n", CPU_ONLY)
    assert problem.startswith("warning: method: qlora on CPU")


def test_eight_bit_optimizer_needs_bitsandbytes() -> None:
    problems = findings("training: {optimizer: paged_adamw_8bit}\n", gpu("A10G", "detected"), installed=())
    assert any(f.startswith("error: training.optimizer: paged_adamw_8bit needs bitsandbytes") for f in problems)


def test_flash_attention_needs_ampere_and_the_package() -> None:
    assert any(
        "Ampere or newer" in f
        for f in findings("model: {name_or_path: m, attn_implementation: flash_attention_2}\n", gpu("T4"))
    )
    problems = findings("model: {name_or_path: m, attn_implementation: flash_attention_2}\n", gpu("H100", "detected"))
    assert any("pip install flash-attn" in f for f in problems)


def test_unsloth_without_gpu_or_package() -> None:
    problems = findings("framework: unsloth\n", CPU_ONLY, installed=())
    assert any(f.startswith("warning: framework") for f in problems)
    assert any("pip install 'ftwizard[unsloth]'" in f for f in problems)
