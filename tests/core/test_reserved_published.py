"""nvidia-smi's figure against the published fms-acceleration rows (A100-80GB, Mistral-7B-v0.1, micro-batch 4 x
4096, checkpointing; LoRA and QLoRA r16 on q,k,v,o). The rows, their source, commit, stack and settings are in
test_closed_form.py (PUBLISHED); that stack is not ours, and the setup says how: the model's own loss on full
logits, fp32 adapters, the QLoRA row kbit-upcast, and PyTorch 2.4.1's allocator without expandable segments
(fms-hf-tuning sets no PYTORCH_CUDA_ALLOC_CONF). `nvidia_mem_reserved` there is nvidia-smi's reading.

Errors measured 2026-12 (closed form, nvidia-smi): LoRA 27.40 vs 28.88 GiB (-5.1%), QLoRA 22.22 vs 25.45 GiB
(-12.7%: the fitted allocator term is short of the fragmentation a 32-layer 4-bit model shows without
expandable segments; the exact check's replay has it, tests/training/test_reserved_replay.py). Each tolerance
sits just above its error.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from published_figures import MISTRAL_7B, PUBLISHED

from tuiapp.core.estimate.closed_form import estimate_memory
from tuiapp.core.units import GIB

MIB = 1 << 20
NVIDIA_SMI_TOLERANCE = {"lora": 0.06, "qlora": 0.13}


@pytest.mark.parametrize("method", sorted(NVIDIA_SMI_TOLERANCE))
def test_nvidia_smi_figure_against_the_published_rows(method: str) -> None:
    row = PUBLISHED[method]
    estimate = estimate_memory(MISTRAL_7B, replace(row.setup, expandable_segments=False))
    ours, published = estimate.nvidia_smi_bytes / GIB, row.nvidia_smi_mib * MIB / GIB
    print(
        f"Mistral-7B {method}: allocated {estimate.peak_alloc_bytes / GIB:.2f} (published "
        f"{row.allocated_bytes / GIB:.2f}), nvidia-smi {ours:.2f} vs {published:.2f} GiB ({ours / published - 1:+.1%})"
    )
    assert ours == pytest.approx(published, rel=NVIDIA_SMI_TOLERANCE[method])


def test_the_three_figures_stand_in_order_and_expandable_segments_reserve_less() -> None:
    setup = PUBLISHED["lora"].setup
    on = estimate_memory(MISTRAL_7B, setup)
    off = estimate_memory(MISTRAL_7B, replace(setup, expandable_segments=False))
    assert on.peak_alloc_bytes == off.peak_alloc_bytes
    assert on.peak_alloc_bytes < on.peak_reserved_bytes < off.peak_reserved_bytes
    assert on.nvidia_smi_bytes - on.peak_reserved_bytes == off.nvidia_smi_bytes - off.peak_reserved_bytes > 0
