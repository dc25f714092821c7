"""`ftwizard plan`: what fits on this GPU (or a planned one), what each method costs, which to pick."""

from __future__ import annotations

import argparse
import json
from typing import Any

from tuiapp.cli.arg_types import config_number, gpu_name
from tuiapp.cli.sharding_args import add_sharding_arguments, sharding_from
from tuiapp.core.config.choices import EFFECTIVE_BATCH_MAX, Framework, Method, Task, choices
from tuiapp.core.units import GIB


def register(commands: Any) -> None:
    parser = commands.add_parser("plan", help="estimate peak memory per method and recommend one")
    parser.add_argument("--model", required=True, help="Hub id, local folder, or catalogue name")
    parser.add_argument("--revision", help="branch, tag or commit of the model repo")
    parser.add_argument(
        "--gpu", metavar="GPU", type=gpu_name, help='plan for this GPU instead of this machine\'s: "RTX 4090", 24GB'
    )
    parser.add_argument("--task", default="sft", choices=choices(Task))
    parser.add_argument("--method", choices=choices(Method), help="only this method")
    parser.add_argument(
        "--seq-len", type=config_number("training.max_length"), default=2048, help="tokens per sequence (default 2048)"
    )
    parser.add_argument(
        "--micro-batch",
        type=config_number("training.micro_batch_size"),
        help="sequences per step on the GPU (default: chosen)",
    )
    parser.add_argument(
        "--grad-accum",
        type=config_number("training.grad_accum"),
        help="micro-batches per optimizer step (with --micro-batch; default: 16 sequences a step)",
    )
    parser.add_argument(
        "--grad-ckpt",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="gradient checkpointing (default: chosen)",
    )
    parser.add_argument("--optimizer", choices=["adamw_torch", "adamw_8bit", "paged_adamw_8bit"])
    parser.add_argument("--lora-r", type=config_number("lora.r"), default=16, help="LoRA rank (default 16)")
    parser.add_argument("--lora-targets", nargs="+", metavar="NAME", help="default: all-linear")
    parser.add_argument("--attn", choices=["sdpa", "eager", "flash"], default="sdpa")
    parser.add_argument("--framework", choices=choices(Framework))
    parser.add_argument(
        "--loss-path",
        choices=["chunked", "full-logits"],
        help="the loss over the vocabulary: chunked (TRL's fused LM head, Unsloth's fused CE) or the full "
        "logits (older stacks); default: what our backend does",
    )
    parser.add_argument(
        "--kbit-upcast",
        choices=["on", "off"],
        help="QLoRA/8-bit: norms, embeddings and LM head upcast to fp32 (PEFT's prepare_model_for_kbit_training); "
        "default: what our backend does (off)",
    )
    parser.add_argument(
        "--adapter-dtype",
        choices=["fp32", "bf16", "fp16"],
        help="dtype of the LoRA weights; default: what our backend does (fp32, bf16 on a quantized base)",
    )
    add_sharding_arguments(parser, "per-GPU figures for one job spread over them with accelerate")
    parser.add_argument("--exact", action="store_true", help="also simulate one real step (child process)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def _request(args: argparse.Namespace) -> Any:
    from tuiapp.core.estimate.planner import PlanRequest
    from tuiapp.core.user_error import UserError

    micro = args.micro_batch
    if args.grad_accum and not micro:
        raise UserError(
            "--grad-accum needs --micro-batch too: the effective batch is their product "
            "(without both the planner picks the micro-batch for an effective batch of 16)"
        )
    effective = micro * args.grad_accum if micro and args.grad_accum else 16
    if effective > EFFECTIVE_BATCH_MAX:  # the config's rule over training.micro_batch_size x grad_accum
        raise UserError(
            f"--micro-batch {micro} x --grad-accum {args.grad_accum} is {effective:,} sequences per step, more "
            f"than {EFFECTIVE_BATCH_MAX:,}: lower --grad-accum (fine-tunes use 8 to 512)"
        )
    return PlanRequest(
        task=args.task,
        seq_len=args.seq_len,
        effective_batch=effective,
        micro_batch=micro,
        gradient_checkpointing=args.grad_ckpt,
        optimizer=args.optimizer,
        lora_r=args.lora_r,
        lora_targets=tuple(args.lora_targets) if args.lora_targets else "all-linear",
        attn_implementation="flash_attention_2" if args.attn == "flash" else args.attn,
        framework="hf" if args.framework == "axolotl" else args.framework,  # the same stack underneath
        methods=(args.method,) if args.method else ("full", "lora", "qlora"),
        loss_path=args.loss_path.replace("-", "_") if args.loss_path else None,
        kbit_upcast=None if args.kbit_upcast is None else args.kbit_upcast == "on",
        adapter_dtype=args.adapter_dtype,
        sharding=sharding_from(args, args.method),
    )


def _gib(num: float) -> float:
    return round(num / GIB, 2)


def plan_to_json(model: Any, gpu: Any, plan: Any, source: str, sharding: Any = None) -> dict[str, Any]:
    """The plan as one JSON-ready dict (sizes in GiB; per GPU under `sharding`)."""
    from dataclasses import asdict

    from tuiapp.core.estimate.setup_line import setup_choices

    methods = {}
    for option in plan.options:
        setup, estimate = option.setup, option.estimate
        methods[option.method] = {
            "peak_alloc_gib": _gib(estimate.peak_alloc_bytes),
            "peak_reserved_gib": _gib(estimate.peak_reserved_bytes),  # the caching allocator's segments
            "peak_nvidia_smi_gib": _gib(estimate.nvidia_smi_bytes),  # + the CUDA context: decides `fits`
            "fits": option.fits,
            "headroom_gib": None if option.headroom_bytes is None else _gib(option.headroom_bytes),
            "trainable_params": estimate.trainable_params,
            "relative_speed": round(option.relative_speed, 2),
            "micro_batch": setup.micro_batch,
            "grad_accum": option.grad_accum,
            "gradient_checkpointing": setup.gradient_checkpointing,
            "optimizer": setup.optimizer,
            "peak_phase": estimate.peak_phase,
            "breakdown_gib": {name: _gib(value) for name, value in estimate.breakdown().items()},
            "notes": list(estimate.notes),
            "setup": setup_choices(setup),
        }
    return {
        "model": {"name": model.shape.name, "source": model.source, "total_params": model.shape.total_params},
        "gpu": None if gpu is None else {"name": gpu.name, "free_gib": _gib(gpu.free_bytes), "source": source},
        "framework": plan.framework,
        "framework_reason": plan.framework_reason,
        "sharding": None if sharding is None else asdict(sharding) | {"label": sharding.label},
        "methods": methods,
        "recommended": plan.recommended.method if plan.recommended else None,
        "reasons": list(plan.reasons),
        "notes": list(plan.notes),
        "advice": list(plan.advice),
    }


def run(args: argparse.Namespace) -> int:
    from tuiapp.core.estimate.planner import make_plan
    from tuiapp.core.hardware import detect_hardware, planned_hardware, resolve_gpu
    from tuiapp.core.models.resolve import resolve_model

    model = resolve_model(args.model, revision=args.revision)
    profile = planned_hardware(resolve_gpu(args.gpu)) if args.gpu else detect_hardware()
    gpu = profile.primary_gpu
    request = _request(args)
    plan = make_plan(model.shape, gpu, request, planned=profile.source == "planned")
    if args.framework == "axolotl":  # estimated as hf (transformers + PEFT + TRL), trained by Axolotl
        from dataclasses import replace

        plan = replace(plan, framework="axolotl", framework_reason="Axolotl, as asked (estimated as its stack: hf)")
    report = plan_to_json(model, gpu, plan, profile.source, request.sharding)
    if args.exact:
        report["exact"] = _exact(model, plan, args)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        from tuiapp.cli.plan_table import print_plan

        print_plan(report, profile.no_gpu_reason)
    return 0


def _replayed(result: dict[str, Any]) -> dict[str, Any]:
    """The exact check's reserved and nvidia-smi figures (its allocations replayed through the allocator model)."""
    from tuiapp.core.estimate.exact_memory import simulated_memory

    _, reserved, smi = simulated_memory(result)
    return {"peak_reserved_gib": _gib(reserved), "peak_nvidia_smi_gib": _gib(smi)}


def _exact(model: Any, plan: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Simulate the recommended option (or the first) for real, in a child process."""
    from tuiapp.core.estimate.exact_check import run_exact_check
    from tuiapp.core.estimate.sim_guard import simulation_skip_reason
    from tuiapp.core.estimate.sim_request import simulation_request

    option = plan.recommended or plan.options[0]
    setup = option.setup
    closed = option.estimate.peak_alloc_bytes
    skipped = simulation_skip_reason(model.shape, closed)
    if skipped is not None:  # the closed form has answered; a simulation would only take minutes
        return {"method": setup.method, "closed_form_gib": _gib(closed), "skipped": skipped}
    request = simulation_request(model.hf_config, setup)
    result = run_exact_check(request)
    return {
        "method": setup.method,
        "peak_alloc_gib": _gib(result["peak_bytes"]),
        **_replayed(result),
        "closed_form_gib": _gib(closed),
        "difference": round(closed / result["peak_bytes"] - 1, 3),
        "seconds": result.get("seconds"),
    }
