"""The recommendation: ranked methods, the knobs chosen to fit, reasons, and advice when nothing fits."""

from __future__ import annotations

from tuiapp.core.estimate.planner import PlanRequest, make_plan
from tuiapp.core.estimate.to_config import config_from_option
from tuiapp.core.hardware import resolve_gpu
from tuiapp.core.models.catalog import find_in_catalog
from tuiapp.core.models.shape import ModelShape


def shape(name: str) -> ModelShape:
    entry = find_in_catalog(name)
    assert entry is not None, name
    return ModelShape.from_hf_config(entry.config, name=entry.name)


def test_8b_on_h100_recommends_lora_and_says_full_fits_too() -> None:
    plan = make_plan(shape("meta-llama/Llama-3.1-8B-Instruct"), resolve_gpu("H100").as_gpu(), PlanRequest())
    assert {option.method for option in plan.options} == {"full", "lora", "qlora"}
    assert all(option.fits for option in plan.options)
    assert plan.recommended is not None and plan.recommended.method == "lora"
    assert any("full fine-tuning fits too" in reason for reason in plan.reasons)


def test_plenty_of_data_recommends_full_fine_tuning() -> None:
    request = PlanRequest(dataset_tokens=200_000_000)
    plan = make_plan(shape("meta-llama/Llama-3.1-8B-Instruct"), resolve_gpu("H100").as_gpu(), request)
    assert plan.recommended is not None and plan.recommended.method == "full"


def test_8b_on_a_24gb_card_picks_an_adapter_that_fits() -> None:
    plan = make_plan(shape("meta-llama/Llama-3.1-8B-Instruct"), resolve_gpu("RTX 4090").as_gpu(), PlanRequest())
    full = next(option for option in plan.options if option.method == "full")
    assert not full.fits
    assert plan.recommended is not None and plan.recommended.method in ("lora", "qlora")
    assert plan.recommended.fits and plan.recommended.headroom_bytes > 0


def test_fixed_knobs_are_kept() -> None:
    request = PlanRequest(micro_batch=2, gradient_checkpointing=True, seq_len=1024, methods=("lora",))
    plan = make_plan(shape("Qwen/Qwen2.5-0.5B-Instruct"), resolve_gpu("24GB").as_gpu(), request)
    (option,) = plan.options
    assert (option.setup.micro_batch, option.setup.gradient_checkpointing, option.grad_accum) == (2, True, 8)
    assert "gradient checkpointing on, as asked" in plan.reasons and not any("needed" in r for r in plan.reasons)


def test_nothing_fits_says_what_would() -> None:
    plan = make_plan(shape("meta-llama/Llama-3.3-70B-Instruct"), resolve_gpu("RTX 3060").as_gpu(), PlanRequest())
    assert plan.recommended is None
    assert any("smaller model" in line for line in plan.advice)


def test_no_gpu_means_estimates_only() -> None:
    plan = make_plan(shape("Qwen/Qwen2.5-0.5B-Instruct"), None, PlanRequest())
    assert plan.recommended is None and not any(option.fits for option in plan.options)
    assert "--gpu" in plan.advice[0]


def test_planned_gpu_suggests_unsloth_on_the_box() -> None:
    plan = make_plan(shape("Qwen/Qwen2.5-7B-Instruct"), resolve_gpu("L4").as_gpu(), PlanRequest(), planned=True)
    assert plan.framework == "hf" and "ftwizard[unsloth]" in plan.framework_reason


def test_chosen_option_becomes_a_valid_config() -> None:
    plan = make_plan(shape("Qwen/Qwen2.5-7B-Instruct"), resolve_gpu("RTX 4090").as_gpu(), PlanRequest())
    option = plan.recommended
    config = config_from_option("Qwen/Qwen2.5-7B-Instruct", option, plan.framework)
    assert config.method == option.method
    assert config.training.micro_batch_size * config.training.grad_accum >= 16
    assert config.training.gradient_checkpointing == option.setup.gradient_checkpointing


def test_unknown_data_size_is_a_sentence() -> None:
    plan = make_plan(shape("meta-llama/Llama-3.1-8B-Instruct"), resolve_gpu("H100").as_gpu(), PlanRequest())
    reason = next(reason for reason in plan.reasons if reason.startswith("full fine-tuning fits too"))
    assert reason == (
        "full fine-tuning fits too, but LoRA matches it on most instruction data, forgets less and trains faster "
        "(the dataset's size is not known yet)"
    )
    known = make_plan(
        shape("meta-llama/Llama-3.1-8B-Instruct"), resolve_gpu("H100").as_gpu(), PlanRequest(dataset_tokens=1_200_000)
    )
    assert "but with 1.2M tokens of data LoRA matches it" in " ".join(known.reasons)


def test_a_small_model_says_why_qlora_needs_more_and_what_dominates() -> None:
    """On a stack with the full logits and a kbit-prepared (fp32) QLoRA; our backend has neither."""
    request = PlanRequest(framework="hf", loss_path="full_logits", kbit_upcast=True, adapter_dtype="fp32")
    plan = make_plan(shape("Qwen/Qwen2.5-0.5B-Instruct"), resolve_gpu("24GB").as_gpu(), request, planned=True)
    peaks = {option.method: option.estimate.peak_alloc_bytes for option in plan.options}
    assert peaks["qlora"] > peaks["full"] > peaks["lora"]  # the surprise being explained
    inversion, logits = plan.notes
    assert inversion.startswith("QLoRA needs more than LoRA and full fine-tuning here: its activations are ")
    assert inversion.endswith("for LoRA; a 4-bit base keeps the activations around its layers in fp32")
    assert logits.startswith("logits and loss over the 151,936-token vocabulary are ")
    assert "of each peak, the weights 0.9 GiB: for a model this small" in logits


def test_different_knobs_are_named_when_a_lighter_method_needs_more() -> None:
    request = PlanRequest(framework="unsloth")
    plan = make_plan(shape("meta-llama/Llama-3.1-8B-Instruct"), resolve_gpu("H100").as_gpu(), request)
    assert plan.notes == (
        "QLoRA needs more than LoRA and full fine-tuning here: micro-batch 4 vs 2 "
        "(each method gets the fastest setting that fits)",
    )


def test_no_note_when_the_peaks_follow_the_methods() -> None:
    plan = make_plan(shape("mistralai/Mistral-7B-Instruct-v0.3"), resolve_gpu("RTX 4090").as_gpu(), PlanRequest())
    assert plan.notes == ()
