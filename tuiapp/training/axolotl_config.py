"""The Axolotl YAML the axolotl backend runs: `ftwizard export --to axolotl`'s values (core/export/axolotl.py), plus
what a run of ours needs: output_dir in the run's checkpoints/, the run's own dataset cache, our progress plugin,
resume from our last complete checkpoint, and on a machine where Axolotl's torch sees no CUDA, its CUDA-only LoRA
kernels off, fp32 and no gradient checkpointing (as the hf backend does on a CPU).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig
    from tuiapp.core.runs.layout import RunPaths

YAML_NAME = "axolotl.yaml"
PREPARED_DIR = "axolotl-prepared"
PLUGIN = "ftwizard_axolotl.FtwizardEvents"
PROBE = (
    "import torch; c = torch.cuda.is_available(); "
    "print('cuda', torch.cuda.get_device_capability()[0] >= 8 if c else 'none')"
)
PROBE_TIMEOUT_S = 180
CPU_OFF = {"lora_mlp_kernel": False, "lora_qkv_kernel": False, "lora_o_kernel": False}


def tool_python(command: Path) -> Path | None:
    """The interpreter the axolotl command runs with (its `#!` line), or None."""
    try:
        with command.open("rb") as handle:
            first = handle.readline(1024).decode("utf-8", "replace").strip()
    except OSError:
        return None
    if not first.startswith("#!"):
        return None
    words = first[2:].split()
    return Path(words[0]) if words and Path(words[0]).is_absolute() else None


def tool_gpu_bf16(command: Path) -> bool | None:
    """What Axolotl's own torch sees: True / False for a CUDA GPU with / without bf16, None for none (or when
    it cannot be asked, so the CPU settings, which run anywhere, are chosen)."""
    python = tool_python(command)
    if python is None:
        return None
    try:
        done = subprocess.run(
            [str(python), "-I", "-c", PROBE], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    words = done.stdout.split()
    if done.returncode != 0 or len(words) != 2 or words[1] == "none":
        return None
    return words[1] == "True"


def write_axolotl_config(
    config: FTConfig, paths: RunPaths, command: Path, resume_from: Path | None
) -> tuple[Path, list[str]]:
    """Write the YAML into the run directory; its path and the notes for the started event."""
    from tuiapp.core.config.yaml_io import write_text_atomic
    from tuiapp.core.export.axolotl import axolotl_export
    from tuiapp.core.export.export_result import Export
    from tuiapp.core.export.render import local_data_format
    from tuiapp.core.preflight import resolve_precision
    from tuiapp.core.user_error import UserError

    destination = paths.root / YAML_NAME
    data_format, _, _ = local_data_format(config)
    export = axolotl_export(config, paths.config.name, destination, data_format)
    notes: list[str] = []
    bf16 = tool_gpu_bf16(command)
    precision, finding = resolve_precision(config.training.precision, bf16, "this GPU")
    if finding is not None and finding.level == "error":
        raise UserError(f"{finding.field}: {finding.message}")
    if finding is not None:
        notes.append(finding.message)
    values = dict(export.values)
    values |= {
        "output_dir": str(paths.checkpoints),
        "dataset_prepared_path": str(paths.root / PREPARED_DIR),
        "bf16": precision == "bf16",
        "fp16": precision == "fp16",
        "plugins": [PLUGIN],
    }
    if bf16 is None:
        values |= CPU_OFF
        if values.get("gradient_checkpointing"):
            notes.append("gradient checkpointing is off on the CPU: memory is not the limit there, time is")
        values["gradient_checkpointing"] = False
        notes.append("no CUDA for Axolotl's torch: its CUDA-only LoRA kernels are off")
    if resume_from is not None:
        values["resume_from_checkpoint"] = str(resume_from)
    notes.append(f"precision {precision}")
    text = Export(values, export.header, export.untranslated, export.command).yaml_text()
    write_text_atomic(destination, text)
    return destination, notes
