"""What each backend really does for each method, in one place: the estimator reads it, the backends
load by it (or a test checks them against it), so the estimate describes the run we run.

Each choice is a setup option too (`TrainingSetup.loss_path`, `.kbit_upcast`, `.adapter_dtype`): None
means "what our backend does", a value describes another stack (a published measurement, a "what if").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from tuiapp.core.estimate.closed_form import TrainingSetup

LossPath = Literal["chunked", "full_logits"]
AdapterDtype = Literal["fp32", "bf16", "fp16"]


@dataclass(frozen=True)
class BackendChoices:
    """The three decisions that move memory most, resolved for one setup."""

    loss_path: LossPath
    kbit_upcast: bool
    adapter_dtype: AdapterDtype


def backend_defaults(framework: str, method: str, precision: str) -> BackendChoices:
    """What our backend for `framework` does for `method` under `precision`.

    - Loss: TRL 1.16's SFTTrainer scores tokens through a fused, tiled LM head (never the full logits);
      Unsloth's fused cross-entropy chunks too.
    - kbit upcast: off. Neither TRL's SFTTrainer nor Unsloth calls prepare_model_for_kbit_training, so
      norms, embeddings and the LM head stay in the compute dtype: 2 bytes a value less than fp32 (about
      2 GiB on an 8B model with a 128k vocabulary), at little cost to stability since the norms compute in
      fp32 inside anyway.
    - Adapters: fp32 on a 16-bit base (PEFT's autocast_adapter_dtype), bf16 on a quantized base (TRL
      casts them, following the QLoRA paper); the full model trains in the compute dtype.
    """
    quantized = method in ("qlora", "lora8")
    adapter: AdapterDtype = "bf16" if quantized else "fp32"
    return BackendChoices(loss_path="chunked", kbit_upcast=False, adapter_dtype=adapter)


def resolve(setup: TrainingSetup) -> BackendChoices:
    """The setup's own choices where it names them, else the backend's."""
    default = backend_defaults(setup.framework, setup.method, setup.precision)
    return BackendChoices(
        loss_path=setup.loss_path or default.loss_path,
        kbit_upcast=default.kbit_upcast if setup.kbit_upcast is None else setup.kbit_upcast,
        adapter_dtype=setup.adapter_dtype or default.adapter_dtype,
    )


def with_backend_choices(setup: TrainingSetup) -> TrainingSetup:
    """`setup` with every None choice filled in (for display and for the exact check's request)."""
    chosen = resolve(setup)
    return replace(
        setup, loss_path=chosen.loss_path, kbit_upcast=chosen.kbit_upcast, adapter_dtype=chosen.adapter_dtype
    )
