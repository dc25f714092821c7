"""Every benchmark in benchmarks/, with quick settings, and one table of the figures they print.

.venv/bin/python benchmarks/run_all.py                     # all of them (about 15-20 minutes on 2 idle cores)
.venv/bin/python benchmarks/run_all.py --only startup,estimate_speed
.venv/bin/python benchmarks/run_all.py --skip ui_lag --timeout 600

Each runs as its own process, one after the other, with the arguments below (smaller than their defaults:
fewer rounds, rows and repeats, so the table is a quick health check, not the published figure). Its figures
are read from the lines it prints; a benchmark that fails, times out or cannot run here (vram_check without
CUDA) gets a row saying so. The GPU table comes from the newest benchmarks/results/gpu-*.csv, when there is one
(benchmarks/gpu_check.sh writes it on a GPU). Exit status 1 when any benchmark failed.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gpucheck.table import FIGURES, format_table, read_csv  # noqa: E402

NUMBER = r"([-+]?[\d,]*\.?\d+)"


@dataclass(frozen=True)
class Figure:
    """One number a benchmark prints: `pattern`'s first group, the largest match when `worst` (doubling ratios)."""

    label: str
    pattern: str
    goal: str
    worst: bool = False

    def read(self, output: str) -> str | None:
        found = re.findall(self.pattern, output, flags=re.MULTILINE)
        if not found:
            return None
        values = [str(v[0] if isinstance(v, tuple) else v) for v in found]
        if self.worst:
            return max(values, key=lambda v: float(v.replace(",", "")))
        return values[0]


@dataclass(frozen=True)
class Bench:
    name: str
    args: tuple[str, ...]
    figures: tuple[Figure, ...]
    needs_cuda: bool = False


BENCHES: tuple[Bench, ...] = (
    Bench(
        "startup",
        ("--rounds", "3"),
        (
            Figure("first paint, ftwizard / bare Textual", rf"ratio ftwizard/bare: {NUMBER}x", "<= 1.5x"),
            Figure("`--version`, ms", rf"--version: median {NUMBER} ms", "-"),
        ),
    ),
    Bench(
        "ui_lag",
        ("--steps", "60", "--baseline", "5"),
        (
            Figure(
                "UI lag p99 while training, ms", rf"with the Training screen: p50 [\d.]+ ms · p99 {NUMBER} ms", "< 50"
            ),
            Figure(
                "UI lag p99, screen / bare loop",
                rf"p99 ratio, Training screen / bare loop before it: {NUMBER}x",
                "<= 2x",
            ),
        ),
    ),
    Bench(
        "estimate_speed",
        (),
        (
            Figure("closed-form estimate, ms", rf"estimates: {NUMBER} ms each", "<= 5"),
            Figure("full plan, ms", rf"full plans .*?: {NUMBER} ms each", "-"),
        ),
    ),
    Bench(
        "estimate_grid",
        ("--quick", "--layers", "2"),
        (
            Figure("grid |error| median (2 layers)", rf"median \|error\| {NUMBER}%", "< 10%"),
            Figure("grid |error| worst (2 layers)", rf"median \|error\| [\d.]+%, worst {NUMBER}%", "< 10%"),
        ),
    ),
    Bench(
        "dataset_stats_speed",
        ("--rows", "4000", "--repeat", "1"),
        (Figure("dataset statistics, ours / raw tokenizer", rf"ours/raw = {NUMBER}", "<= 1.3"),),
    ),
    Bench(
        "config_doubling",
        ("--n", "2000", "--repeat", "2"),
        (Figure("config validation 2N / N (worst)", rf"worst ratio {NUMBER}", "~2"),),
    ),
    Bench(
        "doctor_doubling",
        ("--rows", "1000", "--tokens", "10000", "--columns", "5000", "--repeat", "1"),
        (Figure("dataset doctor 2N / N (worst)", rf"^\S.*?\s[\d.]+s\s+[\d.]+s\s+{NUMBER}$", "~2", worst=True),),
    ),
    Bench(
        "events_doubling",
        ("--events", "20000", "--repeat", "1"),
        (
            Figure(
                "events replay 2N / N (worst)",
                rf"^(?:summary|dashboard)\s+[\d,]+\s+[\d,]+\s+{NUMBER}",
                "< 2.5",
                worst=True,
            ),
        ),
    ),
    Bench(
        "train_overhead",
        ("--rounds", "2", "--steps", "12"),
        (
            Figure("training, ftwizard / plain TRL tokens/s", rf"ftwizard / plain tokens/s = {NUMBER}", ">= 0.97"),
            Figure("training, plain / ftwizard s per step", rf"step time plain / ftwizard = {NUMBER}", ">= 0.97"),
        ),
    ),
    Bench(
        "vram_check",
        ("--steps", "2"),
        (Figure("estimate / torch.cuda peak (first row)", rf"^\S+\s+\S+\s+[\d.]+\s+\S+\s+[\d.]+\s+{NUMBER}", "~1"),),
        needs_cuda=True,
    ),
)


@dataclass(frozen=True)
class Outcome:
    """One benchmark's run: exit code (None when it did not run), what it printed, how long it took."""

    returncode: int | None
    output: str
    seconds: float
    why_not: str | None = None


def run_bench(bench: Bench, timeout: float, cuda: bool) -> Outcome:
    if bench.needs_cuda and not cuda:
        return Outcome(None, "", 0.0, "needs a CUDA GPU")
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, str(HERE / f"{bench.name}.py"), *bench.args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return Outcome(None, output, time.monotonic() - started, f"timed out after {timeout:.0f} s")
    return Outcome(done.returncode, done.stdout + done.stderr, time.monotonic() - started)


def rows_for(bench: Bench, outcome: Outcome) -> list[tuple[str, str, str, str]]:
    """(figure, value, goal, note) rows for one benchmark's outcome."""
    if outcome.why_not is not None and outcome.returncode is None and not outcome.output:
        return [(f"{bench.name}: {f.label}", "-", f.goal, outcome.why_not) for f in bench.figures]
    note = f"{outcome.seconds:.0f} s" if outcome.returncode == 0 else outcome.why_not or f"exit {outcome.returncode}"
    rows = []
    for figure in bench.figures:
        value = figure.read(outcome.output)
        rows.append(
            (f"{bench.name}: {figure.label}", value or "-", figure.goal, note if value else f"{note}; not printed")
        )
    return rows


def gpu_rows(results: Path) -> tuple[list[tuple[str, str, str, str]], str | None]:
    """Summary rows and the full table of the newest GPU results file (none when there is none)."""
    files = sorted(results.glob("gpu-*.csv"))
    if not files:
        return [("gpu_check: estimate vs measured", "-", "within 5%", f"no {results.name}/gpu-*.csv yet")], None
    rows = read_csv(files[-1])
    measured = [r for r in rows if r.get("kind") == "measure" and r.get("meas_alloc_bytes")]
    summary = []
    for figure in FIGURES:
        ratios = [
            r[f"est_{figure}_bytes"] / r[f"meas_{figure}_bytes"]
            for r in measured
            if r.get(f"est_{figure}_bytes") and r.get(f"meas_{figure}_bytes")
        ]
        if ratios:
            worst = max(ratios, key=lambda x: abs(x - 1))
            value = f"{statistics.median(ratios):.3f} (worst {worst:.3f}, {len(ratios)} cases)"
            summary.append((f"gpu_check: {figure} estimate / measured", value, "within 5%", files[-1].name))
    ok = sum(r.get("status") == "ok" for r in rows)
    summary.append(("gpu_check: cases passed", f"{ok} of {len(rows)}", "all", files[-1].name))
    return summary, format_table(rows)


def format_rows(rows: list[tuple[str, str, str, str]]) -> str:
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    lines = [f"{'figure':{width}}  {'value':>{value_width}}  {'goal':>9}  note"]
    lines += [f"{a:{width}}  {b:>{value_width}}  {c:>9}  {d}" for a, b, c, d in rows]
    return "\n".join(lines)


def machine_line() -> str:
    return (
        f"{date.today().isoformat()} · {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated benchmark names to run")
    parser.add_argument("--skip", help="comma-separated benchmark names to leave out")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per benchmark (default 900)")
    args = parser.parse_args(argv)
    names = {b.name for b in BENCHES}
    only = set(args.only.split(",")) if args.only else names
    skip = set(args.skip.split(",")) if args.skip else set()
    if unknown := (only | skip) - names:
        parser.error(f"no benchmark named {', '.join(sorted(unknown))} (there are {', '.join(sorted(names))})")
    cuda = _cuda()
    rows: list[tuple[str, str, str, str]] = []
    failed = False
    for bench in BENCHES:
        if bench.name not in only or bench.name in skip:
            continue
        print(f"running {bench.name} {' '.join(bench.args)}", file=sys.stderr, flush=True)
        outcome = run_bench(bench, args.timeout, cuda)
        failed |= outcome.returncode not in (0, None) or (outcome.why_not or "").startswith("timed out")
        rows += rows_for(bench, outcome)
    summary, table = gpu_rows(HERE / "results")
    print(machine_line())
    print(format_rows(rows + summary))
    if table:
        print("\n" + table)
    return 1 if failed else 0


def _cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.version.cuda is not None and torch.cuda.is_available()


if __name__ == "__main__":
    sys.exit(main())
