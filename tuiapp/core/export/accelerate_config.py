"""`ftwizard export --to accelerate --gpus N`: an accelerate config (FSDP2, DeepSpeed ZeRO-2/3 or DDP) beside the
standalone script it launches, and the per-GPU peak the planner expects with that sharding.

accelerate is the distributed engine; this only writes the file `accelerate config` would, with the choices
that matter for fine-tuning made for the config (mixed precision, offload, checkpointing through FSDP's own
activation checkpointing, the 16-bit model gathered at save under ZeRO-3)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from tuiapp.core.estimate.sharding import STRATEGIES, Sharding
from tuiapp.core.units import GIB

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig

ACCELERATE_CHECKED = "1.16.0"
DISTRIBUTED_TYPE = {"fsdp2": "FSDP", "zero2": "DEEPSPEED", "zero3": "DEEPSPEED", "ddp": "MULTI_GPU"}
MIXED_PRECISION = {"auto": "bf16", "bf16": "bf16", "fp16": "fp16", "fp32": "no"}


@dataclass(frozen=True)
class AccelerateExport:
    """The accelerate config's text, the script it launches, and what it says about the job."""

    text: str
    script: Path
    script_text: str
    rows_file: Path | None
    config: FTConfig  # the config the script trains (accumulation per GPU)
    command: str
    untranslated: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def script_path_for(destination: Path) -> Path:
    """`job.accelerate.py` beside `job.accelerate.yaml`."""
    return destination.with_suffix(".py")


def per_gpu_config(config: FTConfig, gpus: int) -> tuple[FTConfig, str | None]:
    """The config each process trains: the accumulation divided over the GPUs so the effective batch stays
    the config's (rounded up when it does not divide), and a note saying so."""
    accum = config.training.grad_accum
    per_gpu = max(1, math.ceil(accum / gpus))
    micro = config.training.micro_batch_size
    if per_gpu == accum:
        return config, None
    training = config.training.model_copy(update={"grad_accum": per_gpu})
    before, after = micro * accum, micro * per_gpu * gpus
    kept = "kept" if before == after else f"{before} → {after} (the accumulation rounds up)"
    note = f"grad_accum {accum} → {per_gpu} per GPU over {gpus} GPUs: the effective batch {kept}"
    return config.model_copy(update={"training": training}), note


def accelerate_export(
    config: FTConfig, source: str, destination: Path, sharding: Sharding, per_gpu_line: str | None
) -> AccelerateExport:
    """The accelerate config for `sharding`, and the script it launches (written beside it, same stem)."""
    from tuiapp.core.export.script import script_export
    from tuiapp.core.user_error import UserError

    problem = sharding.problem(config.method)
    if problem:
        raise UserError(problem, "choose another --sharding, or another method in the config")
    trained, batch_note = per_gpu_config(config, sharding.gpus)
    script = script_path_for(destination)
    script_text, untranslated, rows_file = script_export(trained, source, script)
    notes = [batch_note] if batch_note else []
    if config.framework == "unsloth":
        notes.append("Unsloth trains on one GPU: the script uses transformers + PEFT + TRL")
    command = f"accelerate launch --config_file {destination.name} {script.name}"
    header = [
        f"accelerate config exported by ftwizard from {source}: {sharding.label}.",
        f"{STRATEGIES[sharding.strategy]}.",
        f"Checked against accelerate {ACCELERATE_CHECKED}.",
        f"Run it from this folder: {command}",
        f"Or over TRL's CLI: ftwizard export {source} --to trl, then",
        f"  trl sft --config {Path(source).stem}.trl.yaml --accelerate_config {destination.name}",
    ]
    if per_gpu_line:
        header.append(f"ftwizard expects per GPU: {per_gpu_line}")
    if sharding.strategy in ("zero2", "zero3"):
        header.append("Needs DeepSpeed on the GPU box: pip install deepspeed")
    body = yaml.safe_dump(_settings(config, sharding), sort_keys=False, default_flow_style=False)
    comments = "".join(f"# {line}\n" for line in header)
    return AccelerateExport(comments + body, script, script_text, rows_file, trained, command, untranslated, notes)


def _settings(config: FTConfig, sharding: Sharding) -> dict[str, Any]:
    """What `accelerate config` would write for this job on one machine."""
    settings: dict[str, Any] = {
        "compute_environment": "LOCAL_MACHINE",
        "debug": False,
        "distributed_type": DISTRIBUTED_TYPE[sharding.strategy],
        "downcast_bf16": "no",
        "machine_rank": 0,
        "main_training_function": "main",
        # the script's SFTConfig says bf16 or fp16 for the GPU it finds ("auto"), and the Trainer's choice wins
        "mixed_precision": MIXED_PRECISION[config.training.precision],
        "num_machines": 1,
        "num_processes": sharding.gpus,
        "rdzv_backend": "static",
        "same_network": True,
        "use_cpu": False,
    }
    checkpointing = config.training.gradient_checkpointing
    if sharding.strategy == "fsdp2":
        settings["fsdp_config"] = {
            "fsdp_version": 2,
            "fsdp_auto_wrap_policy": "TRANSFORMER_BASED_WRAP",  # each decoder layer a unit (_no_split_modules)
            "fsdp_reshard_after_forward": True,  # full shard
            "fsdp_offload_params": sharding.offload == "all",
            "fsdp_cpu_ram_efficient_loading": True,  # rank 0 reads the checkpoint, the others get their shards
            "fsdp_sync_module_states": True,  # accelerate requires it with the line above
            "fsdp_state_dict_type": "FULL_STATE_DICT",  # final/ is one ordinary checkpoint
            # FSDP's own checkpointing: the Trainer's would all-gather every layer a second time in backward
            # (the script leaves gradient_checkpointing off under this)
            "fsdp_activation_checkpointing": checkpointing,
        }
    elif sharding.strategy in ("zero2", "zero3"):
        stage = int(sharding.strategy[-1])
        settings["deepspeed_config"] = {
            "deepspeed_multinode_launcher": "standard",
            "zero_stage": stage,
            "offload_optimizer_device": "cpu" if sharding.offload in ("optimizer", "all") else "none",
            "offload_param_device": "cpu" if sharding.offload == "all" else "none",
            "zero3_init_flag": stage == 3,
            **({"zero3_save_16bit_model": True} if stage == 3 else {}),
            "gradient_accumulation_steps": "auto",  # the Trainer's, from the script
            "gradient_clipping": "auto",
        }
    return settings


def per_gpu_line(config: FTConfig, sharding: Sharding) -> tuple[str | None, str | None]:
    """The planner's per-GPU figure for this config under `sharding` ("~N GiB in nvidia-smi …"), or None and
    why not (a model whose shape cannot be read here: offline, not cached)."""
    from tuiapp.core.estimate.closed_form import estimate_memory
    from tuiapp.core.estimate.from_config import setup_from_config
    from tuiapp.core.estimate.sharding import shard_estimate
    from tuiapp.core.models.resolve import resolve_model
    from tuiapp.core.user_error import UserError

    try:
        shape = resolve_model(config.model.name_or_path, revision=config.model.revision).shape
    except UserError as exc:
        return None, f"per-GPU memory not estimated: {exc.what}"
    setup = setup_from_config(config)
    estimate = shard_estimate(shape, setup, estimate_memory(shape, setup), sharding)
    line = (
        f"~{estimate.nvidia_smi_bytes / GIB:.1f} GiB in nvidia-smi ({estimate.peak_alloc_bytes / GIB:.1f} allocated), "
        f"{config.method}, micro-batch {config.training.micro_batch_size}, checkpointing "
        f"{'on' if config.training.gradient_checkpointing else 'off'}"
    )
    return line, None
