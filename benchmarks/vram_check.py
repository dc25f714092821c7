"""Estimate vs measured peak GPU memory: random-init catalogue shapes trained for a few real steps on CUDA.

.venv/bin/python benchmarks/vram_check.py                     # Qwen2.5-0.5B, Llama-3.2-1B, Llama-3.1-8B
.venv/bin/python benchmarks/vram_check.py --models llama-3.1-70b --layers 8 --methods lora,qlora
.venv/bin/python benchmarks/vram_check.py --seq-len 4096 --micro-batch 4 --no-grad-ckpt --no-sim

Nothing is downloaded. Each model is built from its catalogue config.json (presets/models.yaml) with
random weights, on the GPU in bf16 (`--layers N` keeps the first N decoder layers, for shapes that would
not fit). QLoRA saves those weights to a temporary folder and loads them back through bitsandbytes' NF4
quantization, as training loads a model. The model is then prepared as ftwizard trains it (kbit
preparation, PEFT LoRA, checkpointing: `tuiapp.training.sim_model.prepare_for_training`) and runs
`--steps` real steps (forward under bf16 autocast, backward, clipping, AdamW): the last one, after the
optimizer states exist, is the steady state the estimates describe. Printed side by side: the closed form,
the exact simulation, and torch.cuda.max_memory_allocated, with their ratios.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuiapp.core.estimate.closed_form import TrainingSetup, estimate_memory
from tuiapp.core.estimate.sim_request import simulation_request
from tuiapp.core.models.catalog import find_in_catalog
from tuiapp.core.models.shape import ModelShape
from tuiapp.core.units import GIB

if TYPE_CHECKING:
    from torch import nn

    from tuiapp.training.sim_model import SimRequest

DEFAULT_MODELS = "Qwen/Qwen2.5-0.5B-Instruct,meta-llama/Llama-3.2-1B-Instruct,meta-llama/Llama-3.1-8B-Instruct"


class CudaMeter:
    """The two things `run_training_step` asks of a tracker, answered by the CUDA caching allocator."""

    @property
    def live(self) -> int:
        import torch

        return torch.cuda.memory_allocated()

    @contextmanager
    def window(self) -> Iterator[dict[str, int]]:
        import torch

        result: dict[str, int] = {}
        yield result
        result["peak"] = torch.cuda.max_memory_allocated()


class NoMeter:
    """A CPU stand-in that measures nothing: it lets the tests run the whole path without a GPU."""

    live = 0

    @contextmanager
    def window(self) -> Iterator[dict[str, int]]:
        yield {"peak": 0}


def no_cuda_reason() -> str | None:
    """Why this process cannot train on a CUDA GPU, or None when it can."""
    import torch

    if torch.version.cuda is None:
        return f"torch {torch.__version__} is a CPU-only build (install a CUDA build of torch on the GPU box)"
    if not torch.cuda.is_available():
        return "torch sees no CUDA device (check nvidia-smi, the driver and CUDA_VISIBLE_DEVICES)"
    return None


def reduced_config(config: dict[str, Any], layers: int | None) -> dict[str, Any]:
    """config.json with the first `layers` decoder layers (per-layer lists cut to fit)."""
    if not layers:
        return dict(config)
    kept = {key: value for key, value in config.items() if key != "mlp_only_layers"}
    if isinstance(kept.get("layer_types"), list):
        kept["layer_types"] = kept["layer_types"][:layers]
    return {**kept, "num_hidden_layers": layers}


def build_model(config: dict[str, Any], request: SimRequest, folder: Path, device: str = "cuda") -> nn.Module:
    """Random weights on `device`; quantized methods go through save_pretrained and a bitsandbytes load."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, BitsAndBytesConfig

    from tuiapp.training.sim_model import torch_dtype

    fields = {k: v for k, v in config.items() if k not in ("quantization_config", "auto_map")}
    hf_config = AutoConfig.for_model(fields.pop("model_type"), **fields)
    dtype, attention = torch_dtype(request), request.attn_implementation
    torch.manual_seed(0)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(hf_config, dtype=dtype, attn_implementation=attention)
    if not request.quantized:
        return model
    model.save_pretrained(folder)
    del model
    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()
    if request.method == "qlora":
        quantization = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=request.double_quant,
            bnb_4bit_compute_dtype=dtype,
        )
    else:
        quantization = BitsAndBytesConfig(load_in_8bit=True)
    return AutoModelForCausalLM.from_pretrained(
        folder, dtype=dtype, quantization_config=quantization, device_map={"": device}, attn_implementation=attention
    )


def build_optimizer(params: list[Any], name: str) -> Any:
    """The optimizer Trainer builds for `name` (foreach AdamW on a GPU, or bitsandbytes' 8-bit ones)."""
    import torch

    from tuiapp.training.sim_step import LEARNING_RATE

    if name == "adamw_torch":
        return torch.optim.AdamW(params, lr=LEARNING_RATE, weight_decay=0.0, foreach=True)
    if name == "sgd":
        return torch.optim.SGD(params, lr=LEARNING_RATE, foreach=True)
    import bitsandbytes as bnb

    optimizer = bnb.optim.PagedAdamW8bit if name == "paged_adamw_8bit" else bnb.optim.AdamW8bit
    return optimizer(params, lr=LEARNING_RATE, weight_decay=0.0)


def measure(config: dict[str, Any], request_data: dict[str, Any], steps: int, device: str = "cuda") -> list[int]:
    """torch.cuda.max_memory_allocated of each of `steps` real training steps, in bytes (on "cpu", the
    same steps with nothing measured: 0 each)."""
    import torch

    from tuiapp.training.sim_model import parse_request, prepare_for_training
    from tuiapp.training.sim_step import run_training_step

    request = parse_request(request_data)
    mixed = None if request.dtype == "float32" else getattr(torch, request.dtype)
    cuda = device == "cuda"
    peaks = []
    with tempfile.TemporaryDirectory(prefix="vram_check-") as folder:
        model = prepare_for_training(build_model(config, request, Path(folder), device), request)
        optimizer = build_optimizer([p for p in model.parameters() if p.requires_grad], request.optimizer)
        vocab = model.get_input_embeddings().weight.shape[0]
        for _ in range(steps):
            ids = torch.randint(0, vocab, (request.micro_batch, request.seq_len), device=device)
            if cuda:
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            batch = {"input_ids": ids, "labels": ids}
            meter = CudaMeter() if cuda else NoMeter()
            run_training_step(model, optimizer, batch, meter, mixed, device_type=device)  # type: ignore[arg-type]
            if cuda:
                torch.cuda.synchronize()
            peaks.append(torch.cuda.max_memory_allocated() if cuda else 0)
            del ids, batch
        del model, optimizer
    gc.collect()
    if cuda:
        torch.cuda.empty_cache()
    return peaks


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=DEFAULT_MODELS, help="comma-separated catalogue ids or aliases")
    parser.add_argument("--methods", default="full,lora,qlora", help="comma-separated: full, lora, qlora, lora8")
    parser.add_argument("--layers", type=int, default=None, help="keep only this many decoder layers")
    parser.add_argument("--seq-len", type=int, default=2048)
    parser.add_argument("--micro-batch", type=int, default=1)
    parser.add_argument("--grad-ckpt", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--optimizer", default="adamw_torch", help="adamw_torch, adamw_8bit, paged_adamw_8bit, sgd")
    parser.add_argument("--lora-r", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3, help="training steps; the last one is reported")
    parser.add_argument("--no-sim", action="store_true", help="skip the CPU simulation (seconds per model)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    reason = no_cuda_reason()
    if reason is not None:
        print(f"vram_check needs a CUDA GPU: {reason}.", file=sys.stderr)
        print("Without one, benchmarks/estimate_grid.py compares the estimate with the simulation.", file=sys.stderr)
        return 2
    import torch

    from tuiapp.training.memory_sim import simulate_training_step

    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}; GiB as torch.cuda.max_memory_allocated")
    print(f"{'model':36} {'method':6} {'closed':>7} {'sim':>7} {'real':>7} {'closed/real':>11} {'sim/real':>8}")
    for name in args.models.split(","):
        entry = find_in_catalog(name)
        if entry is None:
            print(f"{name}: not in the catalogue (presets/models.yaml)", file=sys.stderr)
            return 2
        config = reduced_config(entry.config, args.layers)
        shape = ModelShape.from_hf_config(config, name=entry.name)
        for method in args.methods.split(","):
            setup = TrainingSetup(
                method=method,  # type: ignore[arg-type]
                seq_len=args.seq_len,
                micro_batch=args.micro_batch,
                gradient_checkpointing=args.grad_ckpt,
                optimizer=args.optimizer,
                lora_r=args.lora_r,
            )
            request = simulation_request(config, setup)
            closed = estimate_memory(shape, setup).peak_alloc_bytes
            simulated = None if args.no_sim else simulate_training_step(request)["peak_bytes"]
            try:
                real = measure(config, request, args.steps)[-1]
            except torch.cuda.OutOfMemoryError:
                print(f"{entry.name:36} {method:6} {closed / GIB:7.2f}  out of GPU memory (try --layers)")
                gc.collect()
                torch.cuda.empty_cache()
                continue
            sim_text = "-" if simulated is None else f"{simulated / GIB:7.2f}"
            sim_ratio = "-" if simulated is None else f"{simulated / real:8.3f}"
            print(
                f"{entry.name:36} {method:6} {closed / GIB:7.2f} {sim_text:>7} {real / GIB:7.2f} "
                f"{closed / real:11.3f} {sim_ratio:>8}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
