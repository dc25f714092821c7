"""The MoE sentence and its ways out, for the catalogue's real Mixtral-8x7B shape at 24 and 80 GB, and no
sentence where it does not apply (a dense model, transformers 4, or no quantized method asked)."""

from __future__ import annotations

import pytest

from tuiapp.core.estimate.moe_notes import expert_values, experts_stay_16bit, moe_notes
from tuiapp.core.estimate.planner import Plan, PlanRequest, make_plan
from tuiapp.core.hardware import resolve_gpu
from tuiapp.core.models.catalog import find_in_catalog
from tuiapp.core.models.shape import ModelShape
from tuiapp.core.units import GIB

HEADLINE = "experts stay in 16-bit with this transformers: QLoRA saves only the attention weights"


def shape(name: str) -> ModelShape:
    entry = find_in_catalog(name)
    assert entry is not None
    return ModelShape.from_hf_config(entry.config, name=entry.name)


def mixtral_plan(gpu: str, unsloth: bool = False) -> Plan:
    return make_plan(
        shape("mixtral"), resolve_gpu(gpu).as_gpu(), PlanRequest(), planned=True, installed=lambda _: unsloth
    )


def test_mixtral_experts_are_84_gib_of_its_weights() -> None:
    # 32 layers x 8 experts x (gate_up 4096 x 28672 + down 14336 x 4096) values, two bytes each
    assert expert_values(shape("mixtral")) == 32 * 8 * 3 * 4096 * 14336
    assert expert_values(shape("mistral-7b")) == 0


@pytest.mark.parametrize("gpu", ["24GB", "80GB"])
def test_on_24_and_80_gb_nothing_fits_and_the_notes_say_why_and_what_would(gpu: str) -> None:
    plan = mixtral_plan(gpu)
    assert plan.recommended is None and not any(option.fits for option in plan.options)
    headline = next(note for note in plan.notes if note.startswith(HEADLINE))
    assert "the 84.0 GiB of expert weights" in headline and "1.9 GiB saved by 4-bit" in headline
    ways = next(note for note in plan.notes if note.startswith("ways out: "))
    assert "Unsloth (pip install 'ftwizard[unsloth]'" in ways and "quantizes the experts too: about 21.7 GiB" in ways
    assert "only through Unsloth" in ways  # a pre-quantized checkpoint is no way out on plain transformers 5
    qlora = next(option for option in plan.options if option.method == "qlora")
    need = qlora.estimate.nvidia_smi_bytes / GIB
    assert need > 80  # the experts alone are 84 GiB: neither GPU is close
    assert need < 91  # 5% under the GH200's 96 GiB: the next size up
    assert "a GPU with more memory: GH200 (96 GiB) or larger" in ways
    assert any("target_parameters" in note and "does not make them smaller" in note for note in plan.notes)


def test_where_qlora_fits_the_headline_stays_and_no_ways_out_are_listed() -> None:
    plan = mixtral_plan("B200", unsloth=True)
    assert any(note.startswith(HEADLINE) for note in plan.notes)
    assert not any(note.startswith("ways out") for note in plan.notes)
    assert plan.recommended is not None and plan.recommended.fits


def test_installed_unsloth_is_named_as_installed() -> None:
    ways = next(note for note in mixtral_plan("24GB", unsloth=True).notes if note.startswith("ways out"))
    assert "Unsloth (installed here; framework: unsloth on a CUDA GPU)" in ways


def test_no_note_for_a_dense_model_transformers_4_or_without_a_quantized_method() -> None:
    dense = make_plan(shape("mistral-7b"), resolve_gpu("24GB").as_gpu(), PlanRequest(), planned=True)
    assert not any(HEADLINE in note for note in dense.notes)
    plan = mixtral_plan("24GB")
    assert moe_notes(plan.options, shape("mixtral"), lambda _: False, fused=False) == []
    lora_only = [option for option in plan.options if option.method == "lora"]
    assert moe_notes(lora_only, shape("mixtral"), lambda _: False, fused=True) == []


def test_the_transformers_version_decides_whether_experts_are_fused() -> None:
    assert experts_stay_16bit(lambda _: "5.17.0") is True
    assert experts_stay_16bit(lambda _: "4.57.1") is False


def test_a_stored_4bit_moe_mirror_says_it_needs_unsloth() -> None:
    mirror = find_in_catalog("unsloth/Mixtral-8x7B-Instruct-v0.1-bnb-4bit")
    assert mirror is not None
    stored = ModelShape.from_hf_config(mirror.config, name=mirror.name)
    plan = make_plan(stored, resolve_gpu("80GB").as_gpu(), PlanRequest(methods=("qlora",)), planned=True)
    assert any("transformers 5 alone reads them as 16-bit and cannot run it" in note for note in plan.notes)
