"""Which training stack a memory figure describes, in one line and as plain data (plan, Method screen)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuiapp.core.estimate.backend_choices import resolve

if TYPE_CHECKING:
    from tuiapp.core.estimate.closed_form import TrainingSetup

FRAMEWORK_WORDS = {
    "hf": "transformers + PEFT + TRL",
    "unsloth": "Unsloth + TRL",
    "axolotl": "Axolotl (transformers + PEFT + TRL)",  # estimated as hf: the same stack underneath
}
LOSS_WORDS = {"chunked": "chunked loss", "full_logits": "full logits"}


def setup_choices(setup: TrainingSetup) -> dict[str, Any]:
    """The resolved choices of `setup` (its own where it names them, else the backend's), JSON-ready."""
    chosen = resolve(setup)
    return {
        "framework": setup.framework,
        "loss_path": chosen.loss_path,
        "kbit_upcast": chosen.kbit_upcast,
        "adapter_dtype": None if setup.method == "full" else chosen.adapter_dtype,
        "line": setup_line(setup),
    }


def setup_line(setup: TrainingSetup) -> str:
    """e.g. "setup: transformers + PEFT + TRL · chunked loss · norms and head in bf16 · adapters fp32"."""
    chosen = resolve(setup)
    quantized = setup.method in ("qlora", "lora8")
    rest = "fp32" if quantized and chosen.kbit_upcast else setup.precision
    parts = [
        FRAMEWORK_WORDS.get(setup.framework, setup.framework),
        LOSS_WORDS[chosen.loss_path],
        f"norms and head in {rest}",
        "all weights train" if setup.method == "full" else f"adapters {chosen.adapter_dtype}",
    ]
    return "setup: " + " · ".join(parts)
