"""What 4-bit does to a mixture-of-experts model under transformers 5, in words, with the ways out that exist.

transformers 5 stores each MoE layer's experts as fused 3-D tensors (`mlp.experts.gate_up_proj`,
`down_proj`), and its bitsandbytes integration replaces `nn.Linear` modules only
(transformers/integrations/bitsandbytes.py, replace_with_bnb_linear), so `load_in_4bit` leaves the experts
in 16-bit: checked on a tiny Mixtral on CPU (tests/training/test_moe_4bit.py). The ways out, each checked in
the installed stack's source:
- Unsloth quantizes the fused experts too: unsloth_zoo/temporary_patches/moe_utils_bnb4bit.py
  (replace_expert_params_with_bnb_params via patch_bnb4bit_quantizer_process_model), with Mixtral's experts
  forward from mixtral_moe.py (patch_mixtral_moe); `import unsloth` applies them on CUDA
  (unsloth/models/_utils.py, _run_temporary_patches("init")); its CPU fallback does not.
- A checkpoint whose experts were saved 4-bit (transformers 4's per-expert layout, as the unsloth/*-bnb-4bit
  Mixtral mirrors were) loads only through Unsloth (moe_utils_bnb4bit.py, _bnb4bit_per_expert_conversions):
  plain transformers 5 merges the packed bytes as if they were 16-bit and the first forward fails.
- PEFT's `target_parameters` (peft/tuners/lora/layer.py, ParamWrapper) puts LoRA on the expert tensors, and
  peft 0.21 adds it for "all-linear" on Mixtral and Qwen-MoE (peft/utils/transformers_weight_conversion.py,
  _convert_peft_config_moe): it trains the experts; it does not make them smaller.
- A GPU with enough memory for what the estimate says.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import metadata
from typing import TYPE_CHECKING

from tuiapp.core.units import GIB

if TYPE_CHECKING:
    from tuiapp.core.estimate.planner import PlanOption
    from tuiapp.core.models.shape import ModelShape

MIB = 1024**2
QUANTIZED_METHODS = ("qlora", "lora8")
NF4_BYTES_PER_VALUE = 0.5 + 1 / 64 + 4 / (64 * 256)
"""NF4 with double quantization: half a byte per value, a uint8 scale per 64 and an fp32 one per 256 scales."""


def experts_stay_16bit(version: Callable[[str], str] = metadata.version) -> bool:
    """Whether the installed transformers fuses experts (5.x), which bitsandbytes then leaves in 16-bit.
    Without transformers here, ftwizard's own requirement (5.x) is assumed."""
    try:
        return int(version("transformers").split(".", 1)[0]) >= 5
    except (metadata.PackageNotFoundError, ValueError):
        return True


def expert_values(shape: ModelShape) -> int:
    """Weight values held in fused expert tensors (all experts of every MoE layer)."""
    return sum(
        spec.in_features * spec.out_features * spec.count for spec in shape.linear_layers() if spec.kind == "experts"
    )


def _quantizable_values(shape: ModelShape) -> int:
    return sum(
        spec.in_features * spec.out_features * spec.count for spec in shape.linear_layers() if spec.kind == "linear"
    )


def _gib(num: float) -> str:
    return f"{num / GIB:.1f} GiB"


def _smallest_gpu(need_bytes: int) -> str | None:
    """The catalogue GPU with the least memory that holds `need_bytes` by the fit rule, or None."""
    from tuiapp.core.estimate.closed_form import fits_in
    from tuiapp.core.hardware.catalog import gpu_catalog

    holding = [spec for spec in gpu_catalog() if fits_in(need_bytes, spec.memory_mib * MIB)]
    best = min(holding, key=lambda spec: spec.memory_mib, default=None)
    return None if best is None else f"{best.name} ({best.memory_mib / 1024:.0f} GiB)"


def moe_notes(
    options: Sequence[PlanOption],
    shape: ModelShape,
    installed: Callable[[str], bool],
    fused: bool | None = None,
) -> list[str]:
    """The sentence for a quantized method on an MoE model whose experts stay 16-bit, and the ways out."""
    experts = expert_values(shape)
    quantized = [option for option in options if option.method in QUANTIZED_METHODS]
    if not experts or not quantized or not (experts_stay_16bit() if fused is None else fused):
        return []
    option = min(quantized, key=lambda item: item.estimate.nvidia_smi_bytes)
    bits = option.estimate.breakdown()
    expert_bytes = experts * 2
    saved = _quantizable_values(shape) * 1.5
    notes = [
        f"experts stay in 16-bit with this transformers: QLoRA saves only the attention weights "
        f"({_gib(saved)} saved by 4-bit; the {_gib(expert_bytes)} of expert weights, of "
        f"{_gib(bits.get('weights', expert_bytes))} in all, stay as they are: transformers 5 fuses experts into "
        "3-D tensors and bitsandbytes quantizes only nn.Linear)"
    ]
    if getattr(shape, "stored_quantization", None) is not None:  # read from config.json by ModelShape (LEDGER)
        notes.append(
            "if this checkpoint's experts were saved 4-bit (transformers 4's layout, as Unsloth's Mixtral mirrors "
            "were), transformers 5 alone reads them as 16-bit and cannot run it: train it with Unsloth"
        )
    if option.fits:
        return notes
    unsloth_peak = option.estimate.nvidia_smi_bytes - int(expert_bytes - experts * NF4_BYTES_PER_VALUE)
    have = "installed here" if installed("unsloth") else "pip install 'ftwizard[unsloth]'"
    ways = [
        f"Unsloth ({have}; framework: unsloth on a CUDA GPU) quantizes the experts too: about "
        f"{_gib(experts * NF4_BYTES_PER_VALUE)} for them, QLoRA then near {_gib(unsloth_peak)}"
        + ("" if option.setup.framework != "unsloth" else " (this estimate still counts them 16-bit)"),
        "a 4-bit checkpoint of it (unsloth/…-bnb-4bit) loads its experts 4-bit only through Unsloth: transformers 5 "
        "alone reads the packed experts as 16-bit and cannot run it",
    ]
    gpu = _smallest_gpu(min(item.estimate.nvidia_smi_bytes for item in options))
    ways.append(f"a GPU with more memory: {gpu} or larger" if gpu else "no single GPU in the catalogue holds it")
    notes.append("ways out: " + "; ".join(ways))
    notes.append(
        "LoRA on the expert tensors themselves (PEFT's target_parameters, which 'all-linear' adds for MoE models) "
        "trains the experts but does not make them smaller"
    )
    return notes
