"""The GPU check: our real worker on random-init models of real shapes, the estimate beside what the GPU measured.

bash benchmarks/gpu_check.sh                 # on the GPU machine: installs the carried wheels, then runs this
python benchmarks/gpu_check.py --dry-run     # the case list and its time budget, anywhere
python benchmarks/gpu_check.py --extra       # the second set of cases (the two sets do not fit one run)

Per case (benchmarks/gpucheck/cases.py): Llama-3.2-1B full, LoRA and QLoRA on Llama-3.1-8B and Qwen2.5-7B at two
lengths each, about 10 steps of our worker, no weights downloaded. Printed and written to
benchmarks/results/gpu-<date>.csv (and --copy-to): the estimate (allocated, reserved, nvidia-smi) beside
torch.cuda.max_memory_allocated, max_memory_reserved and the NVML peak over the steady steps, tokens/s and
model FLOPs utilisation (6N for full, 4N for adapters, plus attention; no recompute counted). Also a forced
real CUDA out-of-memory and the worker's recovery from it, and NVML read by our GpuMonitor during every run.
The whole plan stays under --budget-s: a group that no longer fits is skipped, a case past its budget is
stopped, a group past its limit is killed; partial results are kept and the exit code is 1 when anything
did not pass.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gpucheck import cases as plan
from gpucheck.table import format_table, to_csv

from tuiapp.core.hardware.gpu_monitor import GpuMonitor
from tuiapp.core.models.catalog import find_in_catalog

ROOT = Path(__file__).resolve().parents[1]
RUNNER = Path(__file__).resolve().parent / "gpucheck" / "runner.py"
RESULTS = ROOT / "benchmarks" / "results"
SMOKE_CONFIG = {
    "model_type": "llama",
    "vocab_size": 512,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 512,
    "tie_word_embeddings": False,
}
SMOKE_CASES = [
    plan.Case("tiny-llama", "lora", 64, micro_batch=2, steps=4),
    plan.Case("tiny-llama", "lora", 64, 8, steps=2, kind="oom_recovery"),
]
ALLOC_CONF = "expandable_segments:True"  # what the worker is started with unless the user set it
VERSIONS = ("torch", "transformers", "trl", "peft", "bitsandbytes", "datasets")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", help="comma-separated catalogue ids or aliases to keep (default: all three)")
    parser.add_argument("--methods", help="comma-separated: full, lora, qlora (default: all)")
    parser.add_argument("--seq-lens", help="comma-separated sequence lengths to keep (default: all)")
    parser.add_argument("--steps", type=int, help="optimizer steps per case (default 10; 3 to 50)")
    parser.add_argument("--extra", action="store_true", help="the second set of cases instead of the first")
    parser.add_argument("--framework", choices=("hf", "unsloth"), default="hf", help="the backend every case uses")
    parser.add_argument("--no-oom", action="store_true", help="skip the forced out-of-memory check")
    parser.add_argument("--budget-s", type=float, default=plan.TOTAL_BUDGET_S, help="wall-time budget, seconds")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for gpu-<date>.csv")
    parser.add_argument("--copy-to", type=Path, help="also copy the CSV and the raw results here (e.g. $OUT)")
    parser.add_argument("--work-dir", type=Path, help="where model folders go (default /dev/shm, else a temp dir)")
    parser.add_argument("--dry-run", action="store_true", help="print the cases and their budget, run nothing")
    parser.add_argument("--cpu-smoke", action="store_true", help="the whole path on a tiny model on the CPU")
    args = parser.parse_args(argv)
    if args.steps is not None and not 3 <= args.steps <= 50:
        parser.error("--steps must be 3 to 50 (the first step is not measured)")
    if not 30 <= args.budget_s <= 3600:
        parser.error("--budget-s must be 30 to 3600")
    for name in (args.models or "").split(","):
        if name and find_in_catalog(name) is None:
            parser.error(f"--models: {name} is not in the model catalogue (presets/models.yaml)")
    try:
        args.seq_len_list = [int(s) for s in args.seq_lens.split(",")] if args.seq_lens else None
    except ValueError:
        parser.error(f"--seq-lens must be whole numbers separated by commas, not {args.seq_lens!r}")
    args.method_list = args.methods.split(",") if args.methods else None
    if args.method_list and set(args.method_list) - {"full", "lora", "qlora"}:
        parser.error(f"--methods takes full, lora and qlora, not {args.methods!r}")
    return args


def chosen_cases(args: argparse.Namespace) -> list[plan.Case]:
    if args.cpu_smoke:
        return list(SMOKE_CASES)
    models = args.models.split(",") if args.models else None
    return plan.select_cases(
        models, args.method_list, args.seq_len_list, args.steps, not args.no_oom, args.extra, args.framework
    )


def no_gpu_reason() -> str | None:
    """Why no case can run here, found without starting CUDA in this process (its context would count)."""
    try:
        version = metadata.version("torch")
        import torch
    except (metadata.PackageNotFoundError, ImportError):
        return "torch is not installed"
    if torch.version.cuda is None:
        return f"torch {version} is a CPU-only build"
    return GpuMonitor().open()


def work_root(chosen: Path | None) -> Path:
    if chosen is not None:
        return chosen
    shm = Path("/dev/shm")
    if shm.is_dir() and shutil.disk_usage(shm).free > 40 * 2**30:
        return Path(tempfile.mkdtemp(prefix="gpu_check-", dir=shm))
    return Path(tempfile.mkdtemp(prefix="gpu_check-"))


def machine_facts() -> dict[str, str]:
    monitor = GpuMonitor()
    readings = monitor.read() if monitor.open() is None else None
    monitor.close()
    versions = []
    for name in VERSIONS:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return {
        "date": date.today().isoformat(),
        "gpu": readings[0].name if readings else "cpu",
        "versions": "; ".join(versions),
        "alloc_conf": os.environ.get("PYTORCH_CUDA_ALLOC_CONF", ALLOC_CONF),
    }


def run_group(
    model: str, items: list[plan.Case], config: dict, budgets: list[float], limit: float, work: Path, device: str
) -> list[dict[str, Any]]:
    """Run one group's process; its rows, with a "timeout" row for each case it did not reach."""
    folder = work / model.replace("/", "--")
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "model": model,
        "config": config,
        "device": device,
        "work": str(folder),
        "budgets": budgets,
        "cases": [dataclasses.asdict(c) for c in items],
    }
    (folder / "spec.json").write_text(json.dumps(spec))
    results = folder / "results.jsonl"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    env.setdefault("PYTORCH_CUDA_ALLOC_CONF", ALLOC_CONF)
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("TRANSFORMERS_VERBOSITY", "error")
    note = None
    try:
        done = subprocess.run(
            [sys.executable, str(RUNNER), str(folder / "spec.json"), str(results)], env=env, timeout=limit, check=False
        )
        if done.returncode != 0:
            note = f"the group's process exited {done.returncode} (its output is above)"
    except subprocess.TimeoutExpired:
        note = f"the group's process was killed at its {limit:.0f} s limit"
    rows = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    seen = {row["case"] for row in rows}
    for case in items:
        if case.name not in seen:
            rows.append({"case": case.name, "kind": case.kind, "status": "timeout", "note": note or "no result"})
    shutil.rmtree(folder / "model", ignore_errors=True)
    return rows


def _config(model: str, cpu_smoke: bool) -> dict:
    if cpu_smoke:
        return dict(SMOKE_CONFIG)
    entry = find_in_catalog(model)
    assert entry is not None
    return dict(entry.config)


def write_results(rows: list[dict], facts: dict[str, str], args: argparse.Namespace) -> Path:
    full = [{**facts, **row} for row in rows]
    args.out.mkdir(parents=True, exist_ok=True)
    path = (
        args.out
        / f"gpu-{facts['date']}{'-extra' if args.extra else ''}{'-unsloth' if args.framework == 'unsloth' else ''}.csv"
    )
    path.write_text(to_csv(full))
    if args.copy_to is not None:
        args.copy_to.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, args.copy_to / path.name)
        (args.copy_to / "gpu_check_rows.json").write_text(json.dumps(full, indent=1))
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    chosen = chosen_cases(args)
    grouped = plan.groups(chosen)
    if args.dry_run:
        for model, items in grouped:
            print(f"{model}: {plan.group_seconds(model, items):.0f} s")
            for case in items:
                print(f"  {case.name:56} {plan.case_seconds(case):5.0f} s")
        print(f"planned {plan.planned_seconds(chosen):.0f} s of a {args.budget_s:.0f} s budget")
        return 0 if plan.planned_seconds(chosen) <= args.budget_s else 1
    if not args.cpu_smoke and (reason := no_gpu_reason()) is not None:
        print(f"gpu_check needs an NVIDIA GPU with a CUDA build of torch: {reason}.", file=sys.stderr)
        return 2
    facts, deadline = machine_facts(), time.monotonic() + args.budget_s - plan.INSTALL_S
    work, rows, path = work_root(args.work_dir), [], None
    for model, items in grouped:
        budgets = [300.0] * len(items) if args.cpu_smoke else [plan.case_seconds(c) for c in items]
        planned = 600.0 if args.cpu_smoke else plan.group_seconds(model, items)
        left = deadline - time.monotonic()
        if planned > left and not args.cpu_smoke:
            rows += [
                {"case": c.name, "kind": c.kind, "status": "skipped", "note": "over the time budget"} for c in items
            ]
            continue
        limit = min(planned + plan.GROUP_SLACK_S, max(left, 30.0))
        rows += run_group(
            model, items, _config(model, args.cpu_smoke), budgets, limit, work, "cpu" if args.cpu_smoke else "cuda"
        )
        path = write_results(rows, facts, args)  # after each group, so a killed check keeps what it measured
    path = write_results(rows, facts, args)
    print(f"\n{facts['gpu']} · {facts['versions']} · PYTORCH_CUDA_ALLOC_CONF={facts['alloc_conf'] or 'unset'}")
    print(format_table([{**facts, **r} for r in rows]))
    print(f"\nwritten: {path}")
    bad = [r for r in rows if r.get("status") != "ok" and not (args.cpu_smoke and r.get("status") == "skipped")]
    for row in bad:
        print(f"NOT OK: {row['case']}: {row.get('status')}: {row.get('note') or ''}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
