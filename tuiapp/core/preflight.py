"""Rules that need both the config and the hardware: what the config asks for that this GPU can't do."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tuiapp.core.config import FTConfig
from tuiapp.core.hardware import HardwareProfile


@dataclass(frozen=True)
class Finding:
    """One problem: `error` stops a run before it starts, `warning` is worth reading first."""

    level: Literal["error", "warning"]
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.field}: {self.message}"


def _installed(module: str) -> bool:
    """Whether a package is importable, without importing it (bitsandbytes would pull in torch)."""
    return importlib.util.find_spec(module) is not None


def resolve_precision(
    wanted: str, gpu_bf16: bool | None, where: str = "this GPU"
) -> tuple[Literal["bf16", "fp16", "fp32"], Finding | None]:
    """The precision a run trains in, and what to say about it; `gpu_bf16` is None without a GPU. `check` and
    the worker both decide here: bf16 or fp16 on a CPU trains in fp32 (a warning, the run goes on), bf16 on a
    GPU without it is an error (the trainer refuses it)."""
    if gpu_bf16 is None:
        if wanted in ("bf16", "fp16"):
            message = f"precision {wanted} needs a GPU: training in fp32 on the CPU (set precision to auto)"
            return "fp32", Finding("warning", "training.precision", message)
        return "fp32", None
    if wanted == "auto":
        return ("bf16" if gpu_bf16 else "fp16"), None
    if wanted in ("fp16", "fp32"):
        return ("fp16" if wanted == "fp16" else "fp32"), None
    if not gpu_bf16:
        message = f"bf16 needs compute capability 8.0 or newer and {where} has none: set precision to fp16 or auto"
        return "bf16", Finding("error", "training.precision", message)
    return "bf16", None


def check_against_hardware(
    config: FTConfig, profile: HardwareProfile, installed: Callable[[str], bool] = _installed
) -> list[Finding]:
    """Every rule that depends on the GPU (detected or planned) and on what is installed."""
    gpu = profile.primary_gpu
    where = f"this GPU ({gpu.name}, compute {gpu.capability_text})" if gpu else "this machine (no GPU)"
    found: list[Finding] = []
    quantized = config.method in ("qlora", "lora8")
    needs_bnb = quantized or config.training.optimizer in ("adamw_8bit", "paged_adamw_8bit")
    if needs_bnb and profile.source == "detected" and not installed("bitsandbytes"):
        found.append(
            Finding(
                "error",
                "method" if quantized else "training.optimizer",
                f"{config.method if quantized else config.training.optimizer} needs bitsandbytes: "
                "pip install bitsandbytes, or choose method lora and optimizer adamw_torch",
            )
        )
    if quantized and gpu is None:
        found.append(
            Finding(
                "warning",
                "method",
                f"{config.method} on CPU runs through bitsandbytes' slow CPU path: fine for the tiny "
                "demo, impractical for real models; plan for a GPU with --gpu, or use method lora",
            )
        )
    _, precision_finding = resolve_precision(config.training.precision, None if gpu is None else gpu.bf16, where)
    if precision_finding is not None:
        found.append(precision_finding)
    if config.model.attn_implementation == "flash_attention_2":
        if gpu is None or not gpu.bf16:
            found.append(
                Finding(
                    "error",
                    "model.attn_implementation",
                    f"flash_attention_2 needs an Ampere or newer GPU; {where} is not: use sdpa",
                )
            )
        elif profile.source == "detected" and not installed("flash_attn"):
            found.append(
                Finding(
                    "error",
                    "model.attn_implementation",
                    "flash_attention_2 needs the flash-attn package: pip install flash-attn, "
                    "or use sdpa (nearly as fast on recent PyTorch)",
                )
            )
    if config.framework == "unsloth":
        if gpu is None:
            found.append(
                Finding(
                    "warning",
                    "framework",
                    "Unsloth's kernels need a CUDA GPU; here it falls back to slow paths: set framework to hf",
                )
            )
        if profile.source == "detected" and not installed("unsloth"):
            found.append(
                Finding(
                    "error",
                    "framework",
                    "Unsloth is not installed: pip install 'ftwizard[unsloth]', or set framework to hf",
                )
            )
    if config.framework == "axolotl" and profile.source == "detected":
        from tuiapp.core.axolotl_tool import HOW_TO_GET, find_axolotl

        if find_axolotl(config.axolotl_command) is None:
            found.append(Finding("error", "framework", f"no axolotl command was found: {HOW_TO_GET}"))
    return found
