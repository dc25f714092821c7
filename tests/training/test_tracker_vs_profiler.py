"""Our storage tracker against meters that are not ours, on the same real step of a tiny model.

"The simulation equals the real CPU step" (test_memory_sim.py) measures both sides with our tracker, so a
blind spot it has would hide on both. Here PyTorch's memory profiler watches the real CPU step
(tests/training/profiler_meter.py folds its alloc/free records into a peak), and on a GPU
`torch.cuda.max_memory_allocated` does.

What differs, by name:
- The tracker rounds every storage up to 512 bytes (the CUDA caching allocator's granularity) and the
  profiler records each request's own size: the tracker is higher by at most 511 bytes per live storage.
- The CPU allocator keeps no cache (c10's DefaultCPUAllocator frees at once), so nothing else is held.
- The profiler also sees what the tracker rightly leaves out, because a GPU does not allocate it:
  temporaries a CPU kernel frees before it returns (the CPU dropout's float mask), TRL's CPU stand-ins for
  its Triton loss kernels (the tracker's paused windows, ~1.8 MB on this model) and checkpointing's saved
  CPU RNG state (5,056 bytes a layer, host memory on a GPU too). The fold names each; without them the two
  meters must agree to the rounding.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from profiler_meter import KERNEL_TEMPORARY, OUTSIDE_DISPATCH, PAUSED, measure_with_both_meters

ROUNDING = 511  # most bytes the tracker adds to one storage
ALLOCATIONS_SEEN = 300  # a real step of the tiny model makes ~500-1,700; fewer means the profiler missed it


def _request(model_dir: Path, method: str, checkpointing: bool, loss_path: str) -> dict[str, object]:
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    return {
        "hf_config": config,
        "method": method,
        "seq_len": 64,
        "micro_batch": 2,
        "dtype": "bfloat16",
        "gradient_checkpointing": checkpointing,
        "loss_path": loss_path,
    }


@pytest.mark.parametrize("loss_path", ["chunked", "full_logits"])
@pytest.mark.parametrize("checkpointing", [True, False], ids=["gc", "no-gc"])
@pytest.mark.parametrize("method", ["full", "lora", "qlora"])
def test_the_tracker_agrees_with_pytorchs_profiler_on_the_real_cpu_step(
    tiny_model_dirs: dict[str, Path], method: str, checkpointing: bool, loss_path: str
) -> None:
    model_dir = tiny_model_dirs["llama"]
    result, meters = measure_with_both_meters(model_dir, _request(model_dir, method, checkpointing, loss_path))
    print(f"\n{method} {loss_path} gc={checkpointing}: {meters.describe()}")
    assert meters.allocations >= ALLOCATIONS_SEEN, meters.describe()
    # The same op outputs, by PyTorch's sizes: the tracker is never below, and above only by its rounding.
    assert 0 <= meters.tracker_peak - meters.output_peak <= ROUNDING * meters.live_at_output_peak, meters.describe()
    assert result["peak_bytes"] >= meters.tracker_peak
    # What the profiler sees besides: the named categories, present where they should be.
    extra = meters.at_profiler_peak
    assert (extra[PAUSED] > 0) == (loss_path == "chunked"), meters.describe()
    if checkpointing and loss_path == "full_logits":
        assert extra[OUTSIDE_DISPATCH] >= 2 * 5056, meters.describe()  # one RNG state per checkpointed layer
    assert extra[KERNEL_TEMPORARY] <= meters.tracker_peak * 0.10, meters.describe()


@pytest.mark.parametrize("method", ["full", "lora", "qlora"])
def test_the_tracker_agrees_with_max_memory_allocated_on_a_gpu(tiny_model_dirs: dict[str, Path], method: str) -> None:
    """The real step on CUDA, measured by the tracker and by the CUDA caching allocator's own counter.
    Both round to 512 bytes; the allocator also counts what a kernel allocates inside itself (cuBLAS and
    flash-attention workspaces, SDPA's log-sum-exp is an output), so it may be above, never far below."""
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device here: torch.cuda.max_memory_allocated needs one (run on a GPU machine)")
    from profiler_meter import measure_on_cuda

    model_dir = tiny_model_dirs["llama"]
    tracked, allocated = measure_on_cuda(model_dir, _request(model_dir, method, True, "chunked"))
    print(f"\n{method} on CUDA: tracker {tracked:,} B, max_memory_allocated {allocated:,} B")
    assert allocated == pytest.approx(tracked, rel=0.05)
    assert allocated >= tracked * 0.99
