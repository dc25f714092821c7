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
    """What our backend for `framework` does for `method` under `precision` (checked against the installed
    TRL 1.16, PEFT 0.21 and Unsloth 2026.10; tests/training/test_param_ledger.py loads the hf backend's way).

    - Loss: TRL 1.16's SFTTrainer scores tokens through a fused, tiled LM head (never the full logits);
      Unsloth's fused cross-entropy chunks too.
    - kbit upcast: off for both. TRL's SFTTrainer never calls prepare_model_for_kbit_training
      (trl/trainer/sft_trainer.py), and Unsloth's own version of it (unsloth/models/_utils.py →
      unsloth_zoo/training_utils.py prepare_model_for_training) upcasts only the adapters, leaving every
      frozen parameter in its loaded dtype. Trade-off: norms, embeddings and the LM head stay 16-bit, 2 bytes
      a value less than fp32 (about 2 GiB on an 8B model with a 128k vocabulary) and a 16-bit residual
      stream (half the activations around the layers), at little cost to stability: they are frozen, so no
      update rounds away, and RMSNorm computes in fp32 inside anyway.
    - Adapters, hf: fp32 on a 16-bit base (PEFT's autocast_adapter_dtype=True, which TRL leaves on outside
      ZeRO-3), bf16 on a quantized base whatever the precision (sft_trainer.py casts every trainable
      parameter but DoRA's magnitude to bf16 when the model is_loaded_in_4bit/8bit, after the QLoRA paper).
      Trade-off: bf16 halves adapter, gradient and Adam bytes and needs no autocast copy of the adapters,
      but an update below 1/256 of a weight rounds away; fp32 keeps those updates for 2 bytes a value more
      on a part that is under 1% of the model.
    - Adapters, unsloth: fp32 for every method. prepare_model_for_training upcasts LoRA A/B to fp32
      (float32_mixed_precision=True), and Unsloth's patched SFTTrainer drops TRL's bf16 cast
      (unsloth/models/rl.py rewrites `if _is_quantized_model:` to `if False:`). Trade-off: stable small
      updates, and autocast copies the adapters to 16-bit for each matmul.
    """
    quantized = method in ("qlora", "lora8")
    adapter: AdapterDtype = "bf16" if quantized and framework != "unsloth" else "fp32"
    return BackendChoices(loss_path="chunked", kbit_upcast=False, adapter_dtype=adapter)


def full_weights_dtype(framework: str, precision: str) -> tuple[AdapterDtype, bool]:
    """(dtype of the weights a full fine-tune trains, whether its norm weights are fp32 instead).

    hf: bf16 trains the weights in place (half the bytes of fp32 master weights, for bf16's rounding of
    small updates); fp16 keeps fp32 master weights (backend_hf._load_model), since fp16 weights overflow
    and underflow where fp32 ones do not. unsloth: the same, but a bf16 full fine-tune keeps the norm
    weights in fp32 (unsloth_zoo/training_utils.py prepare_model_for_training, train_layernorms: "~60% of
    bf16 norm updates round to zero otherwise"), which costs 2 bytes per norm value, a few MB.
    """
    if precision == "fp16":
        return "fp32", False
    dtype: AdapterDtype = "bf16" if precision == "bf16" else "fp32"
    return dtype, framework == "unsloth" and precision == "bf16"


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
