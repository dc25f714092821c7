"""The exact check: peak GPU memory of one training step, simulated without a GPU or weights.

The architecture is built from its config on the meta device, quantized/PEFT/checkpointing applied as
training applies them, then every tensor is replaced by a fake CPU tensor (FakeTensorMode: shapes and
dtypes, no data) and one real step runs, forward, backward, clipping, optimizer, under a tracker that
counts each storage from allocation to free. Fake *CPU* tensors, because a CPU-only torch cannot run
autograd on fake CUDA ones; the GPU specifics (flash-style attention, fused dropout masks, foreach AdamW,
bitsandbytes' kernels) are reproduced explicitly. `measure_real_training_step` runs the same step with
the same tracker on a real small model, which is how the simulation is tested. The order of allocations
and frees is recorded and replayed through a model of PyTorch's caching allocator (core/estimate/reserved.py):
`reserved_bytes` with expandable segments, as our worker runs, `reserved_bytes_no_expandable` without, and
`nvidia_smi_bytes` with the CUDA context.

Run as `python -m tuiapp.training.memory_sim`: one JSON request on stdin, one JSON result on stdout;
on failure `{"error": ...}` and exit status 1.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuiapp.training.sim_model import SimRequest, parse_request

if TYPE_CHECKING:
    from torch import nn

    from tuiapp.training.memory_tracker import AllocationRecord, StorageTracker


def _count_params(model: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameters; a packed 4-bit weight counts its two values per byte."""
    import torch

    trainable = total = 0
    seen: set[int] = set()
    for param in model.parameters():
        if id(param) in seen:
            continue
        seen.add(id(param))
        count = param.numel() * (2 if param.dtype == torch.uint8 else 1)
        total += count
        trainable += count if param.requires_grad else 0
    return trainable, total


def _mixed_precision(request: SimRequest) -> Any:
    """Trainer's bf16=True / fp16=True for a half-precision model: autocast to that dtype."""
    from tuiapp.training.sim_model import torch_dtype

    return None if request.dtype == "float32" else torch_dtype(request)


def _measure(
    model: nn.Module,
    request: SimRequest,
    tracker: StorageTracker,
    extra: list[Any],
    record: AllocationRecord | None = None,
) -> dict[str, Any]:
    """Run the steady-state step under `tracker` (already entered) and collect the result; with `record`
    (the tracker's), also the step replayed through the caching-allocator model (reserved memory)."""
    import torch

    from tuiapp.training.sim_step import (
        build_optimizer,
        create_optimizer_states,
        optimizer_state_bytes,
        run_training_step,
    )

    tracker.track_all([*model.parameters(), *model.buffers(), *extra])
    weights_bytes = tracker.live
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = build_optimizer(params, request.optimizer, tracker)
    create_optimizer_states(params, optimizer)
    vocab = model.get_input_embeddings().weight.shape[0]
    shape = (request.micro_batch, request.seq_len)
    batch = {"input_ids": torch.randint(0, vocab, shape), "labels": torch.randint(0, vocab, shape)}
    tracker.reset_peak()
    step_start = len(record) if record is not None else 0
    phases = run_training_step(model, optimizer, batch, tracker, _mixed_precision(request), loss_path=request.loss_path)
    trainable, total = _count_params(model)
    reserved = {}
    if record is not None:
        from tuiapp.core.estimate.reserved import replay_step

        reserved = replay_step(record.keys, record.sizes, step_start).as_json()
    return {
        "peak_bytes": tracker.peak,
        "weights_bytes": weights_bytes,
        "trainable_params": trainable,
        "total_params": total,
        "optimizer_state_bytes": optimizer_state_bytes(optimizer),
        **phases,
        **reserved,
    }


@contextmanager
def _unpacked_batch() -> Iterator[None]:
    """Tell transformers the batch holds one sequence per row, as the real batch does: it would find out
    by reading position ids, which fake tensors do not have, and then build an explicit causal mask
    (no flash attention, K/V repeated for GQA) that the real step never builds."""
    from transformers import masking_utils

    original = masking_utils.find_packed_sequence_indices
    masking_utils.find_packed_sequence_indices = lambda position_ids: None
    try:
        yield
    finally:
        masking_utils.find_packed_sequence_indices = original


def simulate_training_step(request: dict[str, Any]) -> dict[str, Any]:
    """Peak and per-phase bytes of one training step of `request` on a GPU, simulated on the CPU."""
    started = time.perf_counter()
    from torch._subclasses.fake_tensor import FakeTensorMode

    from tuiapp.training.memory_tracker import AllocationRecord, make_storage_tracker
    from tuiapp.training.sim_loss import apply_loss_path
    from tuiapp.training.sim_model import build_meta_model, prepare_for_training, to_fake

    parsed = parse_request(request)
    model = prepare_for_training(build_meta_model(parsed), parsed)
    apply_loss_path(model, parsed.loss_path)
    fake_mode = FakeTensorMode()
    to_fake(model, fake_mode)
    record = AllocationRecord()
    tracker = make_storage_tracker(record=record)
    with _unpacked_batch(), fake_mode, tracker:
        result = _measure(model, parsed, tracker, extra=[], record=record)
    return {**result, "seconds": round(time.perf_counter() - started, 3)}


def measure_real_training_step(model_dir: str | Path, request: dict[str, Any]) -> dict[str, Any]:
    """The same step and tracker on real CPU tensors of the model saved in `model_dir` (its config
    replaces the request's hf_config). For testing the simulation against the real thing."""
    import torch
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    from tuiapp.training.memory_tracker import make_storage_tracker
    from tuiapp.training.quant_emulation import quant_state_tensors
    from tuiapp.training.sim_loss import apply_loss_path
    from tuiapp.training.sim_model import prepare_for_training, torch_dtype

    started = time.perf_counter()
    parsed = parse_request(request)
    dtype = torch_dtype(parsed)
    quantization = None
    if parsed.method == "qlora":
        quantization = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=parsed.double_quant,
            bnb_4bit_compute_dtype=dtype,
        )
    elif parsed.method == "lora8":
        quantization = BitsAndBytesConfig(load_in_8bit=True)
    model = AutoModelForCausalLM.from_pretrained(
        model_dir,
        dtype=dtype,
        attn_implementation=parsed.attn_implementation,
        quantization_config=quantization,
        device_map="cpu" if quantization else None,
    )
    model = prepare_for_training(model, parsed)
    apply_loss_path(model, parsed.loss_path)
    torch.manual_seed(0)
    tracker = make_storage_tracker(expand=_fused_bnb_ops() if quantization else None)
    with tracker:
        result = _measure(model, parsed, tracker, extra=quant_state_tensors(model))
    return {**result, "seconds": round(time.perf_counter() - started, 3)}


def _fused_bnb_ops() -> dict[Any, Any]:
    """bitsandbytes' fused 4-bit matmul, run op by op so the tracker sees its dequantized weight, as the
    CUDA kernel allocates it for training-sized batches."""
    import torch
    from bitsandbytes.backends.default.ops import _gemm_4bit_default_impl

    return {torch.ops.bitsandbytes.gemm_4bit.default: _gemm_4bit_default_impl}


@contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send anything libraries print (Python or C level) to stderr, keeping stdout for the one result."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def main() -> int:
    """Read one request from stdin, print one result (or {"error": ...}) to stdout."""
    try:
        with _stdout_to_stderr():
            result = simulate_training_step(json.loads(sys.stdin.read()))
    except json.JSONDecodeError as exc:
        result = {"error": f"the request is not valid JSON: {exc}"}
    except ValueError as exc:
        result = {"error": str(exc)}
    except Exception as exc:  # a child process answers in JSON whatever breaks
        result = {"error": f"the simulation failed ({type(exc).__name__}): {exc}"}
    print(json.dumps(result))
    return 1 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(main())
