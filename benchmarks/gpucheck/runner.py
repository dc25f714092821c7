"""One GPU-check group in its own process: write a random-init model of a real shape once, then train each case
through our real worker (`tuiapp.training.worker.run`, in this process so torch's peak counters can be read)
and append one JSON result per case to the results file as it ends, so a killed group keeps what it did.

python benchmarks/gpucheck/runner.py SPEC.json RESULTS.jsonl   (SPEC: written by gpu_check.py)

The only addition to the worker is a callback reading the memory peaks (sampler.StepPeaks), added where the
worker adds its fault-injection callbacks. Each case is asked to stop when its time budget is spent (the worker
stops as on Ctrl+C), and its figures so far are kept.
"""

from __future__ import annotations

import gc
import json
import os
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for `gpucheck`

from gpucheck.cases import Case
from gpucheck.oom_case import oom_limit_bytes, oom_outcome
from gpucheck.sampler import NvmlSampler, make_step_peaks, used_before_cuda
from gpucheck.table import estimate_figures
from tuiapp.core.estimate.closed_form import TrainingSetup, estimate_memory
from tuiapp.core.estimate.step_time import flops_per_token
from tuiapp.core.models.shape import ModelShape

STEADY_FROM = 2  # steps from this one on are measured: the optimizer states exist from the end of step 1
LORA = {"r": 16, "alpha": 32, "dropout": 0.05, "target_modules": "all-linear"}


def build_model_folder(config: dict[str, Any], folder: Path, device: str) -> None:
    """Random bf16 weights of `config`'s shape (fp32 on a CPU) and a small local tokenizer, saved to `folder`."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from tuiapp.training.tiny_model import train_tokenizer

    tokenizer = train_tokenizer()
    fields = {k: v for k, v in config.items() if k not in ("quantization_config", "auto_map", "torch_dtype")}
    ids = {"bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id}
    hf_config = AutoConfig.for_model(
        fields.pop("model_type"), **{**fields, **ids, "pad_token_id": tokenizer.pad_token_id}
    )
    torch.manual_seed(0)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(hf_config, dtype=torch.bfloat16 if device == "cuda" else torch.float32)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    del model
    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()


def write_rows(model_dir: Path, path: Path, seq_len: int, count: int, seed: int = 0) -> None:
    """`count` plain-text rows of random tokens, each at least `seq_len` tokens long (training truncates them to
    exactly `seq_len`, so every batch is full and has no padding)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    special = set(tokenizer.all_special_ids)
    vocab = [i for i in range(len(tokenizer)) if i not in special]
    chooser = random.Random(seed)
    with path.open("w") as out:
        for _ in range(count):
            ids = [chooser.choice(vocab) for _ in range(seq_len + 16)]
            text = tokenizer.decode(ids)
            while len(tokenizer(text).input_ids) < seq_len:
                text += " " + tokenizer.decode([chooser.choice(vocab) for _ in range(64)])
            out.write(json.dumps({"text": text}) + "\n")


def case_config(case: Case, model_dir: Path, data: Path, cuda: bool) -> dict[str, Any]:
    """The config our worker trains for a case (what a user's config.yaml would say)."""
    return {
        "model": {"name_or_path": str(model_dir), "attn_implementation": "sdpa"},
        "method": case.method,
        "framework": case.framework,
        "lora": LORA,
        "dataset": {"source": str(data), "format": "text", "eval_size": 0},
        "training": {
            "max_steps": case.steps,
            "micro_batch_size": case.micro_batch,
            "grad_accum": 1,
            "max_length": case.seq_len,
            "gradient_checkpointing": case.gradient_checkpointing,
            "precision": "bf16" if cuda else "fp32",
            "optimizer": "adamw_torch",
            "logging_steps": 1,
            "save_steps": 10_000,
            "oom_retries": 3,
        },
        "output": {"run_name": case.name},
    }


def case_setup(case: Case, cuda: bool) -> TrainingSetup:
    return TrainingSetup(
        method=case.method,
        seq_len=case.seq_len,
        micro_batch=case.micro_batch,
        gradient_checkpointing=case.gradient_checkpointing,
        precision="bf16" if cuda else "fp32",
        lora_r=LORA["r"],
        framework=case.framework,
    )


def _settings(case: Case, setup: TrainingSetup) -> dict[str, Any]:
    return {
        "model": case.model,
        "method": case.method,
        "seq_len": case.seq_len,
        "micro_batch": case.micro_batch,
        "grad_accum": 1,
        "gradient_checkpointing": case.gradient_checkpointing,
        "optimizer": setup.optimizer,
        "precision": setup.precision,
        "lora_r": setup.lora_r,
        "attn_implementation": setup.attn_implementation,
        "framework": setup.framework,
    }


def _with_peaks(peaks: Any) -> Any:
    """Make the worker's backend add `peaks` to its callbacks (it imports make_fault_callbacks at each run)."""
    from tuiapp.training import fault_injection

    original = fault_injection.make_fault_callbacks
    fault_injection.make_fault_callbacks = lambda config: [*original(config), peaks]
    return original


def train_case(case: Case, model_dir: Path, data: Path, work: Path, sampler: NvmlSampler | None, budget_s: float):
    """(final event, the run's events, the steady steps' peaks) of one real worker run."""
    from tuiapp.core.config import validate_config
    from tuiapp.core.runs.events import EventWriter
    from tuiapp.core.runs.follow import read_events
    from tuiapp.core.runs.launcher import prepare_run
    from tuiapp.training import fault_injection
    from tuiapp.training.worker import run

    cuda = sampler is not None
    paths = prepare_run(validate_config(case_config(case, model_dir, data, cuda)), runs_dir=str(work / "runs"))
    peaks = make_step_peaks(sampler, STEADY_FROM)
    original = _with_peaks(peaks)
    stop = threading.Event()
    timer = threading.Timer(budget_s, stop.set)
    timer.start()
    try:
        with EventWriter(paths.events) as writer:
            final = run(paths, stop, writer)
            writer.write(final)
    finally:
        timer.cancel()
        fault_injection.make_fault_callbacks = original
    return final, list(read_events(paths.events)), peaks.steps, stop.is_set()


def measured_row(case: Case, shape: ModelShape, final: Any, events: list[Any], steps: list[dict], cuda: bool) -> dict:
    """Measured figures of a finished case: steady peaks, tokens/s over the steady steps, MFU."""
    from tuiapp.core.runs.events import Metrics

    row: dict[str, Any] = {"steps_done": getattr(final, "step", None), "nvml_samples": None}
    if not steps:
        return row
    if cuda:
        row.update({f"meas_{f}_bytes": int(max(s[f] for s in steps)) for f in ("alloc", "reserved", "smi")})
    tokens = {e.step: e.tokens for e in events if isinstance(e, Metrics) and e.tokens is not None}
    first, last = STEADY_FROM - 1, max(s["step"] for s in steps)
    seconds = sum(s["seconds"] for s in steps)
    if first in tokens and last in tokens and seconds > 0:
        row["tokens_per_s"] = (tokens[last] - tokens[first]) / seconds
        row["s_per_step"] = seconds / len(steps)
        model_flops = flops_per_token(
            shape, full=case.method == "full", seq_len=case.seq_len, gradient_checkpointing=False
        )
        peak = _peak_tflops() if cuda else None
        row["mfu"] = row["tokens_per_s"] * model_flops / (peak * 1e12) if peak else None
    return row


def _peak_tflops() -> float | None:
    import torch

    from tuiapp.core.hardware.catalog import spec_for_name

    spec = spec_for_name(torch.cuda.get_device_name())
    return spec.bf16_tflops if spec is not None else None


def _status(final: Any, stopped_for_time: bool) -> tuple[str, str | None]:
    kind = getattr(final, "kind", "?")
    if kind == "completed":
        return "ok", None
    if kind == "stopped":
        return ("over budget" if stopped_for_time else "stopped"), f"stopped at step {final.step}"
    return "failed", f"{getattr(final, 'reason', '?')}: {getattr(final, 'message', '')}"[:300]


def _free(cuda: bool) -> int:
    gc.collect()
    if not cuda:
        return 0
    import torch

    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    return torch.cuda.memory_allocated()


def run_one(case: Case, shape: ModelShape, model_dir: Path, work: Path, sampler: NvmlSampler | None, budget: float):
    cuda = sampler is not None
    setup = case_setup(case, cuda)
    row: dict[str, Any] = {"case": case.name, "kind": case.kind, **_settings(case, setup)}
    row.update({f"est_{k}_bytes": v for k, v in estimate_figures(estimate_memory(shape, setup)).items()})
    data = work / f"rows-{case.seq_len}.jsonl"
    if not data.exists():
        write_rows(model_dir, data, case.seq_len, count=max(64, case.steps * case.micro_batch * 2))
    if case.kind == "oom_recovery":
        if not cuda:
            return {**row, "status": "skipped", "note": "the forced out-of-memory needs CUDA"}
        import torch

        limit = oom_limit_bytes(shape, case)
        torch.cuda.set_per_process_memory_fraction(limit / torch.cuda.get_device_properties(0).total_memory)
    try:
        final, events, steps, for_time = train_case(case, model_dir, data, work, sampler, budget)
    finally:
        if case.kind == "oom_recovery":
            torch.cuda.set_per_process_memory_fraction(1.0)
    row.update(measured_row(case, shape, final, events, steps, cuda))
    row["nvml_samples"] = sampler.samples if sampler is not None else None
    row["status"], row["note"] = oom_outcome(final, events) if case.kind == "oom_recovery" else _status(final, for_time)
    return row


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    results = Path(argv[1])
    cuda = spec["device"] == "cuda"
    baseline = used_before_cuda() if cuda else 0
    work = Path(spec["work"])
    model_dir = work / "model"
    shape = ModelShape.from_hf_config(spec["config"], name=spec["model"])
    build_model_folder(spec["config"], model_dir, spec["device"])
    sampler = NvmlSampler(baseline).start() if cuda else None
    if sampler is not None and sampler.reason:
        print(f"gpu_check: NVML cannot be read ({sampler.reason}); nvidia-smi figures are left empty", flush=True)
        sampler = None if not cuda else sampler
    for case_data, budget in zip(spec["cases"], spec["budgets"], strict=True):
        case = Case(**case_data)
        leftover = _free(cuda)
        started = time.monotonic()
        try:
            row = run_one(case, shape, model_dir, work, sampler, budget)
        except Exception as exc:  # one broken case must not lose the others
            row = {"case": case.name, "kind": case.kind, "status": "failed", "note": f"{type(exc).__name__}: {exc}"}
        if leftover > 256 * 2**20:
            row["note"] = f"{row.get('note') or ''} ({leftover / 2**30:.1f} GiB still allocated before it)".strip()
        row["wall_s"] = time.monotonic() - started
        with results.open("a") as out:
            out.write(json.dumps(row) + "\n")
            out.flush()
            os.fsync(out.fileno())
        print(f"gpu_check: {case.name}: {row['status']} in {row['wall_s']:.0f} s", flush=True)
    if sampler is not None:
        sampler.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
