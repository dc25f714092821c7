"""A second meter for the real CPU step: PyTorch's own profiler, folded into a peak.

Our storage tracker (tuiapp/training/memory_tracker.py) measures both sides of "the simulation equals the
real CPU step". This runs `measure_real_training_step` with `torch.profiler.profile(profile_memory=True)`
around the step itself and folds the profiler's allocation records (c10's CPU allocator reports every
`alloc`/`free` with its size and running total) into a peak, so the tracker can be checked against a meter
that is not ours.

Two profiler figures, because the two meters look at different levels:
- `profiler_peak`: every CPU allocation PyTorch made during the step.
- `output_peak`: only the outputs of the ops the dispatcher runs, which is what the tracker counts and what
  a GPU allocates. Left out, by category: temporaries a CPU kernel allocates and frees inside one op (the
  CPU dropout's float mask, a dtype conversion inside `mul`: the CUDA kernels are fused and allocate
  none), everything made inside the tracker's paused windows (TRL's CPU stand-ins for its Triton loss
  kernels, tuiapp/training/sim_loss.py), and C++ allocations outside any op (checkpointing's saved CPU
  RNG state).
The default CPU allocator has no cache (c10's DefaultCPUAllocator frees at once) and the profiler records
each request's own size, so the only other difference is the tracker's 512-byte rounding per storage.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PAUSED_LABEL = "ftwizard: tracker paused"
DISPATCH_MODE = "PythonDispatchMode"  # the profiler's name for a TorchDispatchMode intercepting an op


OUTPUT = "op outputs"
KERNEL_TEMPORARY = "kernel temporaries"
PAUSED = "paused windows"
OUTSIDE_DISPATCH = "outside dispatch"
CATEGORIES = (OUTPUT, KERNEL_TEMPORARY, PAUSED, OUTSIDE_DISPATCH)
"""Each profiled allocation is one of: an op's output (what the tracker counts); a temporary freed before
the op that made it returned; made inside the tracker's paused windows; made where no intercepted op is
running (C++ outside the dispatcher: `torch.get_rng_state()`'s 5,056-byte CPU generator state, which
non-reentrant checkpointing saves per layer, host memory on a GPU too)."""


@dataclass(frozen=True)
class StepMeters:
    """Peak bytes above what was live when the step began, by each meter."""

    tracker_peak: int
    profiler_peak: int
    """Every CPU allocation the profiler saw."""
    output_peak: int
    """Only op outputs: the same things the tracker counts, by PyTorch's own sizes."""
    live_at_output_peak: int
    """Allocations live at `output_peak`: the tracker rounds each up to 512 bytes."""
    at_profiler_peak: dict[str, int]
    """What was live at `profiler_peak`, by category."""
    allocations: int

    def describe(self) -> str:
        parts = ", ".join(f"{name} {size:,}" for name, size in self.at_profiler_peak.items() if size)
        return (
            f"tracker {self.tracker_peak:,} B; profiler {self.profiler_peak:,} B "
            f"({self.profiler_peak / self.tracker_peak - 1:+.2%}: {parts}); op outputs only {self.output_peak:,} B "
            f"({self.output_peak / self.tracker_peak - 1:+.2%}, {self.live_at_output_peak} live); "
            f"{self.allocations} allocations"
        )


def _ancestors(node: Any) -> Iterator[Any]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def _intercepted_op(node: Any) -> Any:
    """The op whose outputs the tracker sees around `node`: the parent of the nearest dispatch-mode frame."""
    for frame in _ancestors(node):
        if frame.name == DISPATCH_MODE:
            return frame.parent
    return None


def _profile_nodes(profile: Any) -> tuple[list[Any], list[tuple[int, int]]]:
    """(CPU allocation records in time order, frees after allocations at the same instant; the
    [start, end] of every paused window). Windows are matched by time, not by the event tree, which does
    not always nest a Python annotation made inside the autograd engine over the ops it covers."""
    import torch

    allocation = torch._C._profiler._EventType.Allocation
    nodes, windows, stack = [], [], list(profile.profiler.kineto_results.experimental_event_tree())
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.tag == allocation and node.extra_fields.device.type == "cpu":
            nodes.append(node)
        elif node.name == PAUSED_LABEL:
            windows.append((node.start_time_ns, node.end_time_ns))
    nodes.sort(key=lambda node: (node.start_time_ns, node.extra_fields.alloc_size < 0))
    return nodes, windows


def _categories(nodes: list[Any], windows: list[tuple[int, int]]) -> dict[int, str]:
    """The category (CATEGORIES) of every allocation record, by id."""
    made: dict[int, Any] = {}
    category: dict[int, str] = {}
    for node in nodes:
        fields = node.extra_fields
        if fields.alloc_size > 0:
            made[fields.ptr] = node
            paused = any(start <= node.start_time_ns <= end for start, end in windows)
            category[id(node)] = PAUSED if paused else OUTPUT if _intercepted_op(node) else OUTSIDE_DISPATCH
            continue
        alloc = made.pop(fields.ptr, None)
        if alloc is None or category[id(alloc)] != OUTPUT:
            continue
        if node.start_time_ns <= _intercepted_op(alloc).end_time_ns:
            category[id(alloc)] = KERNEL_TEMPORARY
    return category


def fold_profile(profile: Any, tracker_peak: int) -> StepMeters:
    """Fold a finished profile's allocation records into peaks, with what was live at them."""
    nodes, windows = _profile_nodes(profile)
    category = _categories(nodes, windows)
    made: dict[int, tuple[int, str]] = {}  # ptr -> (bytes, category)
    live = dict.fromkeys(CATEGORIES, 0)
    live_outputs = live_at_output_peak = peak = output_peak = 0
    at_peak = dict(live)
    for node in nodes:
        fields = node.extra_fields
        if fields.alloc_size > 0:
            size, kind = fields.alloc_size, category[id(node)]
            made[fields.ptr] = (size, kind)
            live[kind] += size
            live_outputs += kind == OUTPUT
        else:  # a block made before the step started is not the step's
            size, kind = made.pop(fields.ptr, (0, OUTPUT))
            live[kind] -= size
            live_outputs -= kind == OUTPUT and size > 0
        if sum(live.values()) > peak:
            peak, at_peak = sum(live.values()), dict(live)
        if live[OUTPUT] > output_peak:
            output_peak, live_at_output_peak = live[OUTPUT], live_outputs
    allocations = sum(1 for node in nodes if node.extra_fields.alloc_size > 0)
    return StepMeters(tracker_peak, peak, output_peak, live_at_output_peak, at_peak, allocations)


@contextmanager
def _profiled_steps(found: list[StepMeters]) -> Iterator[None]:
    """Run every `run_training_step` inside a memory profile (its paused windows labelled); append each
    step's meters to `found`."""
    from torch.profiler import ProfilerActivity, profile, record_function

    from tuiapp.training import sim_step

    original = sim_step.run_training_step

    def profiled(model: Any, optimizer: Any, batch: Any, tracker: Any, *args: Any, **kwargs: Any) -> Any:
        start = tracker.live
        plain_paused = tracker.paused

        @contextmanager
        def labelled_paused() -> Iterator[None]:
            with record_function(PAUSED_LABEL), plain_paused():
                yield

        tracker.paused = labelled_paused
        try:
            with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
                phases = original(model, optimizer, batch, tracker, *args, **kwargs)
        finally:
            del tracker.paused
        found.append(fold_profile(prof, tracker.peak - start))
        return phases

    sim_step.run_training_step = profiled
    try:
        yield
    finally:
        sim_step.run_training_step = original


def measure_with_both_meters(model_dir: str | Path, request: dict[str, Any]) -> tuple[dict[str, Any], StepMeters]:
    """`measure_real_training_step` with the profiler watching the step: (its result, both meters)."""
    from tuiapp.training.memory_sim import measure_real_training_step

    found: list[StepMeters] = []
    with _profiled_steps(found):
        result = measure_real_training_step(model_dir, request)
    assert len(found) == 1, f"expected one training step, profiled {len(found)}"
    return result, found[0]


def measure_on_cuda(model_dir: str | Path, request: dict[str, Any]) -> tuple[int, int]:
    """(tracker's step peak, torch.cuda.max_memory_allocated's step peak), both above what was live when
    the step began, for the real step of `request` on the GPU (the same `_measure` as the CPU check).
    cuBLAS's workspace is made by a warm-up matmul first: it is allocated once per handle, not per step."""
    import torch
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    from tuiapp.training import memory_sim, sim_step
    from tuiapp.training.memory_tracker import make_storage_tracker
    from tuiapp.training.quant_emulation import quant_state_tensors
    from tuiapp.training.sim_loss import apply_loss_path
    from tuiapp.training.sim_model import parse_request, prepare_for_training, torch_dtype

    parsed = parse_request(request)
    dtype = torch_dtype(parsed)
    quantization = None
    if parsed.method == "qlora":
        quantization = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=dtype)
    model = AutoModelForCausalLM.from_pretrained(
        model_dir,
        dtype=dtype,
        attn_implementation=parsed.attn_implementation,
        quantization_config=quantization,
        device_map="cuda",
    )
    model = prepare_for_training(model, parsed)
    apply_loss_path(model, parsed.loss_path)
    original = sim_step.run_training_step
    found: dict[str, int] = {}

    def on_gpu(model: Any, optimizer: Any, batch: Any, tracker: Any, mixed: Any, **kwargs: Any) -> Any:
        for warm_dtype in {torch.float32, dtype}:
            warm = torch.ones(64, 64, device="cuda", dtype=warm_dtype)
            torch.matmul(warm, warm)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        start, tracked = torch.cuda.memory_allocated(), tracker.live
        phases = original(model, optimizer, {k: v.cuda() for k, v in batch.items()}, tracker, mixed, "cuda", **kwargs)
        torch.cuda.synchronize()
        found.update(tracker=tracker.peak - tracked, cuda=torch.cuda.max_memory_allocated() - start)
        return phases

    sim_step.run_training_step = on_gpu
    try:
        tracker = make_storage_tracker()
        with tracker:
            memory_sim._measure(model, parsed, tracker, extra=quant_state_tensors(model))
    finally:
        sim_step.run_training_step = original
    return found["tracker"], found["cuda"]
