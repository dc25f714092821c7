"""Rules that need the config and the hardware together."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tuiapp.core.config import loads_config
from tuiapp.core.hardware import HardwareProfile, planned_hardware, resolve_gpu
from tuiapp.core.hardware.profile import SystemInfo
from tuiapp.core.preflight import check_against_hardware
from tuiapp.core.units import GIB

SYSTEM = SystemInfo(
    cpu_count=2,
    ram_total_bytes=8 * GIB,
    ram_available_bytes=6 * GIB,
    disk_path="/",
    disk_total_bytes=100 * GIB,
    disk_free_bytes=50 * GIB,
)
CPU_ONLY = HardwareProfile(source="detected", gpus=(), system=SYSTEM, no_gpu_reason="no driver")


def gpu(name: str, source: str = "planned") -> HardwareProfile:
    return replace(planned_hardware(resolve_gpu(name), SYSTEM), source=source)


def findings(yaml_extra: str, profile: HardwareProfile, installed: tuple[str, ...] = ("bitsandbytes",)) -> list[str]:
    config = loads_config("model: {name_or_path: org/m}\n" + yaml_extra)
    return [str(f) for f in check_against_hardware(config, profile, installed=lambda name: name in installed)]


def test_a_plain_lora_on_a_4090_is_clean() -> None:
    assert findings("method: lora\n", gpu("RTX 4090")) == []


def test_bf16_on_a_t4_is_an_error_with_the_fix() -> None:
    (problem,) = findings("training: {precision: bf16}\n", gpu("T4"))
    assert problem.startswith("error: training.precision") and "set precision to fp16 or auto" in problem


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_without_a_gpu_is_an_error(precision: str) -> None:
    assert any("needs a GPU" in f for f in findings(f"training: {{precision: {precision}}}\n", CPU_ONLY))


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
