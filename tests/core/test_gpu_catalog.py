"""The GPU catalogue and how --gpu values resolve."""

from __future__ import annotations

import pytest
from hardware_fixtures import SYSTEM

from tuiapp.core.hardware import UnknownGpuError, gpu_catalog, planned_hardware, resolve_gpu


def test_catalogue_covers_the_common_cards() -> None:
    names = {spec.name for spec in gpu_catalog()}
    for wanted in (
        "RTX 3090",
        "RTX 4090",
        "RTX 5090",
        "L4",
        "A10G",
        "A100 40GB",
        "A100 80GB",
        "H100 80GB",
        "H200",
        "T4",
    ):
        assert wanted in names
    assert len(names) == len(gpu_catalog()), "duplicate names"
    assert all(8000 <= spec.memory_mib <= 200 * 1024 for spec in gpu_catalog())


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("RTX 4090", "RTX 4090"),
        ("4090", "RTX 4090"),
        ("geforce rtx 4090", "RTX 4090"),
        ("h100", "H100 80GB"),
        ("NVIDIA H100 PCIe", "H100 80GB"),
        ("a100-80gb", "A100 80GB"),
        ("l40", "L40S"),
        ("t4", "T4"),
    ],
)
def test_names_and_aliases_resolve(query: str, name: str) -> None:
    assert resolve_gpu(query).name == name


@pytest.mark.parametrize(("query", "gib"), [("24GB", 24), ("24 gib", 24), ("80G", 80), ("24", 24), ("12.5GB", 12.5)])
def test_sizes_make_a_generic_gpu(query: str, gib: float) -> None:
    spec = resolve_gpu(query)
    assert spec.kind == "generic"
    assert spec.memory_mib == round(gib * 1024)
    assert spec.as_gpu().bf16  # assumed Ampere or newer, and said so
    assert "assumed" in (spec.notes or "")


def test_bf16_follows_compute_capability() -> None:
    assert not resolve_gpu("T4").as_gpu().bf16
    assert not resolve_gpu("V100 32GB").as_gpu().bf16
    assert resolve_gpu("A100 80GB").as_gpu().bf16 and not resolve_gpu("A100 80GB").as_gpu().fp8
    assert resolve_gpu("H100").as_gpu().fp8


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("A100", "matches several GPUs (A100 40GB, A100 80GB)"),
        ("rtx 4095", "Did you mean RTX 4090"),
        ("", "give a GPU name"),
        ("9000GB", "not a plausible GPU memory size"),
        ("banana", "ftwizard gpu --list"),
    ],
)
def test_unknown_gpus_get_a_useful_message(query: str, message: str) -> None:
    with pytest.raises(UnknownGpuError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve_gpu(query)


def test_planned_profile_has_all_memory_free() -> None:
    profile = planned_hardware(resolve_gpu("RTX 4090"), SYSTEM)
    gpu = profile.primary_gpu
    assert profile.source == "planned" and gpu is not None
    assert gpu.free_bytes == gpu.total_bytes == 24564 * 1024**2
    assert profile.system == SYSTEM
    assert profile.to_json_dict()["gpus"][0]["bf16"] is True
