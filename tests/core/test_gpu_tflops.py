"""Tensor throughput in the GPU catalogue, and finding a detected GPU's entry by the name the driver reports."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tuiapp.core.hardware import GpuSpec, gpu_catalog, resolve_gpu
from tuiapp.core.hardware.catalog import generic_gpu, spec_for_name


def tflops(query: str) -> float:
    value = resolve_gpu(query).bf16_tflops
    assert value is not None, query
    return value


def test_every_catalogue_gpu_has_a_throughput() -> None:
    missing = [spec.name for spec in gpu_catalog() if spec.bf16_tflops is None]
    assert not missing, f"add bf16_tflops to {missing} in presets/gpus.yaml"
    # Dense figures: nothing before Blackwell reaches 1000 (sparse figures would), nothing is under 20.
    for spec in gpu_catalog():
        assert spec.bf16_tflops is not None
        assert 20 <= spec.bf16_tflops <= (2500 if spec.capability >= (10, 0) else 1000), spec.name


def test_throughput_follows_the_generations() -> None:
    assert tflops("T4") < tflops("A10") < tflops("A100 80GB") < tflops("H100") < tflops("B200")
    assert tflops("RTX 3090") < tflops("RTX 4090") < tflops("RTX 5090")
    assert tflops("A100 40GB") == tflops("A100 80GB") and tflops("H200") == tflops("H100")
    assert tflops("A10G") < tflops("A10")  # AWS's variant trades tensor rate for shader rate
    # GeForce cards accumulate in FP32 at half rate: the 4090 is well below the same-generation workstation card.
    assert tflops("RTX 4090") < 0.5 * tflops("RTX 6000 Ada")


def test_the_field_is_optional_and_positive() -> None:
    entry = {"name": "X", "memory_mib": 1024, "compute_capability": "8.0", "kind": "generic"}
    assert GpuSpec.model_validate(entry).bf16_tflops is None
    assert generic_gpu(24).bf16_tflops is None  # known only by its size: no time estimate
    for bad in (0, -5):
        with pytest.raises(ValidationError):
            GpuSpec.model_validate({**entry, "bf16_tflops": bad})


@pytest.mark.parametrize(
    ("reported", "name"),
    [
        ("NVIDIA H100 80GB HBM3", "H100 80GB"),
        ("H100 PCIe", "H100 80GB"),
        ("H100 NVL", "H100 NVL"),
        ("NVIDIA A100-SXM4-80GB", "A100 80GB"),
        ("A100-PCIE-40GB", "A100 40GB"),
        ("Tesla V100-SXM2-32GB", "V100 32GB"),
        ("Tesla T4", "T4"),
        ("NVIDIA A10G", "A10G"),
        ("A10", "A10"),
        ("L40S", "L40S"),
        ("GH200 480GB", "GH200"),
        ("NVIDIA GeForce RTX 4090", "RTX 4090"),
        ("GeForce RTX 4080 SUPER", "RTX 4080"),
        ("GeForce RTX 4070 Ti SUPER", "RTX 4070 Ti Super"),
        ("GeForce RTX 3080 Ti", "RTX 3080 Ti"),
        ("GeForce RTX 4060 Ti", "RTX 4060 Ti 16GB"),
        ("RTX 6000 Ada Generation", "RTX 6000 Ada"),
        ("NVIDIA RTX PRO 6000 Blackwell Workstation Edition", "RTX PRO 6000 Blackwell"),
        ("RTX A6000", "RTX A6000"),
        ("RTX 4090", "RTX 4090"),  # a planned GPU carries the catalogue name itself
    ],
)
def test_detected_names_find_their_entry(reported: str, name: str) -> None:
    spec = spec_for_name(reported)
    assert spec is not None and spec.name == name


@pytest.mark.parametrize(
    "reported",
    [
        "GeForce RTX 4090 Laptop GPU",  # a different, slower chip
        "GeForce RTX 3060 Ti",  # not the 3060
        "GeForce RTX 4070 SUPER",  # not the 4070
        "RTX PRO 6000 Blackwell Max-Q Workstation Edition",  # half the power
        "H200 NVL",  # not the SXM H200
        "Quadro RTX 6000",  # Turing, not Ada
        "A100-SXM4-64GB",  # a size no entry has
        "A100",  # two entries, nothing to choose by
        "24 GB GPU",  # a generic planned GPU
        "",
    ],
)
def test_names_that_fit_no_single_entry_find_nothing(reported: str) -> None:
    assert spec_for_name(reported) is None


def test_every_catalogue_name_finds_itself() -> None:
    for spec in gpu_catalog():
        assert spec_for_name(spec.name) == spec
        assert spec_for_name(f"NVIDIA {spec.name}") == spec
