"""benchmarks/run_all.py's table from canned outputs, in each benchmark's own print format (nothing is run)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from gpucheck_import import FIXTURE_CSV, load_script

run_all = load_script("run_all")

CANNED = {
    "startup": "ftwizard, first painted Hardware screen: median 1.210 s  (1.19 1.21 1.30)\n"
    "bare Textual app, one label:              median 0.905 s  (0.90 0.91 0.95)\n"
    "ratio ftwizard/bare: 1.34x   goal: <= 1.5x\n"
    "ftwizard --version: median 41.5 ms of 10 (python -c pass: 12.0 ms)\n",
    "ui_lag": "event-loop lag with the Training screen: p50 1.10 ms · p99 7.52 ms · max 20.10 ms (900 wake-ups)"
    "   goal: p99 < 50 ms\np99 ratio, Training screen / bare loop before it: 1.31x   goal: <= 2x "
    "(/ bare loop meanwhile: 0.95x)\n",
    "estimate_speed": "2160 estimates: 0.081 ms each = 0.0162 of the 5 ms budget\n"
    "40 full plans (every method x knob candidate): 3.20 ms each\n",
    "estimate_grid": "\n24 setups in 95 s: median |error| 2.10%, worst 7.45% (GiB, closed form vs simulation)\n",
    "dataset_stats_speed": "raw:   1.20 s      3,333 rows/s\nours:   1.40 s      2,857 rows/s\n"
    "ours/raw = 1.17  (target <= 1.30; 812,000 tokens, best of 1)\n",
    "config_doubling": "worst ratio 2.21 (target <= 3.0: ok; best of 2)\n",
    "doctor_doubling": "input                        N    time N   time 2N   ratio\n"
    "rows                     1,000     0.40s     0.79s    1.98\n"
    "long row                10,000     0.20s     0.45s    2.25\n"
    "columns                  5,000     0.10s     0.19s    1.90\n",
    "events_doubling": "events: 20,000 (3.1 MiB) vs 40,000 (6.2 MiB)\n"
    "replay       N events/s  2N events/s  time 2N/N    peak N   peak 2N\n"
    "summary         210,000      205,000       2.05     1.2Mi     1.2Mi\n"
    "dashboard        90,000       80,000       2.25     2.0Mi     2.1Mi\n",
    "train_overhead": "ftwizard / plain tokens/s = 0.991, step time plain / ftwizard = 0.988  (goal >= 0.97; ...)\n",
}
EXPECTED = {
    "startup": ["1.34", "41.5"],
    "ui_lag": ["7.52", "1.31"],
    "estimate_speed": ["0.081", "3.20"],
    "estimate_grid": ["2.10", "7.45"],
    "dataset_stats_speed": ["1.17"],
    "config_doubling": ["2.21"],
    "doctor_doubling": ["2.25"],
    "events_doubling": ["2.25"],
    "train_overhead": ["0.991", "0.988"],
}


def _bench(name: str):
    return next(b for b in run_all.BENCHES if b.name == name)


@pytest.mark.parametrize("name", sorted(CANNED))
def test_each_benchmarks_figures_are_read_from_its_output(name: str) -> None:
    rows = run_all.rows_for(_bench(name), run_all.Outcome(0, CANNED[name], 12.0))
    assert [value for _, value, _, _ in rows] == EXPECTED[name]
    assert all(note == "12 s" for *_, note in rows)


def test_every_benchmark_script_is_listed_and_exists() -> None:
    here = Path(run_all.__file__).parent
    scripts = {p.stem for p in here.glob("*.py")} - {"run_all", "gpu_check"}  # the GPU check runs on a GPU only
    assert {b.name for b in run_all.BENCHES} == scripts


def test_failures_timeouts_and_what_cannot_run_here_get_their_own_rows() -> None:
    failed = run_all.rows_for(_bench("config_doubling"), run_all.Outcome(1, "Traceback ...", 3.0))
    assert failed == [("config_doubling: config validation 2N / N (worst)", "-", "~2", "exit 1; not printed")]
    late = run_all.rows_for(_bench("startup"), run_all.Outcome(None, CANNED["startup"][:140], 900.0, "timed out"))
    assert late[0][1] == "-" and "timed out" in late[0][3]
    gpu_only = run_all.rows_for(_bench("vram_check"), run_all.Outcome(None, "", 0.0, "needs a CUDA GPU"))
    assert gpu_only[0][1:] == ("-", "~1", "needs a CUDA GPU")


def test_the_gpu_table_when_a_results_file_exists(tmp_path: Path) -> None:
    rows, table = run_all.gpu_rows(tmp_path)
    assert table is None and "no" in rows[0][3]
    shutil.copy(FIXTURE_CSV, tmp_path / "gpu-2026-12-02.csv")
    rows, table = run_all.gpu_rows(tmp_path)
    assert table is not None and "Llama-3.1-8B-Instruct-lora-s4096" in table
    by_label = {label: value for label, value, _, _ in rows}
    # the fixture's three measured rows: allocated ratios 1.020, 0.976, 0.928
    assert by_label["gpu_check: alloc estimate / measured"] == "0.976 (worst 0.928, 3 cases)"
    assert by_label["gpu_check: cases passed"] == "3 of 5"


def test_the_assembled_table_lines_up() -> None:
    rows = [
        row for name in sorted(CANNED) for row in run_all.rows_for(_bench(name), run_all.Outcome(0, CANNED[name], 1))
    ]
    text = run_all.format_rows(rows)
    lines = text.splitlines()
    assert len(lines) == 1 + sum(len(v) for v in EXPECTED.values())
    assert len({line.index(" ", len(max((r[0] for r in rows), key=len))) for line in lines[1:]}) == 1
