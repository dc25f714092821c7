"""Which stack an estimate describes: the line on the Method screen and in plan, and its JSON."""

from __future__ import annotations

from tuiapp.core.estimate.closed_form import TrainingSetup
from tuiapp.core.estimate.setup_line import setup_choices, setup_line


def test_the_default_hf_lora_setup_is_what_our_backend_runs() -> None:
    line = setup_line(TrainingSetup(method="lora"))
    assert line == "setup: transformers + PEFT + TRL · chunked loss · norms and head in bf16 · adapters fp32"


def test_a_setup_of_another_stack_says_its_own_choices() -> None:
    setup = TrainingSetup(method="qlora", loss_path="full_logits", kbit_upcast=True, adapter_dtype="fp32")
    expected = "setup: transformers + PEFT + TRL · full logits · norms and head in fp32 · adapters fp32"
    assert setup_line(setup) == expected
    assert setup_choices(setup) == {
        "framework": "hf",
        "loss_path": "full_logits",
        "kbit_upcast": True,
        "adapter_dtype": "fp32",
        "line": setup_line(setup),
    }


def test_full_fine_tuning_has_no_adapter_dtype() -> None:
    choices = setup_choices(TrainingSetup(method="full", framework="unsloth"))
    assert choices["adapter_dtype"] is None
    assert choices["line"] == "setup: Unsloth + TRL · chunked loss · norms and head in bf16 · all weights train"
