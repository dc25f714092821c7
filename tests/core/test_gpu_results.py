"""The estimator against real GPU measurements: each measured row of benchmarks/results/gpu-*.csv (written by
benchmarks/gpu_check.sh on a GPU) must stay within 5% of today's estimate for the same model and settings, for
every figure both sides have (allocated, reserved, nvidia-smi). Skipped, with the reason, until a GPU run
has been committed; the hand-written fixture in tests/benchmarks/data is deliberately not read here."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
if str(ROOT / "benchmarks") not in sys.path:
    sys.path.insert(0, str(ROOT / "benchmarks"))

from gpucheck.table import TOLERANCE, estimate_row, off_by_more_than, read_csv  # noqa: E402


def measured_rows() -> list[Any]:
    params = []
    for path in sorted(RESULTS.glob("gpu-*.csv")):
        for row in read_csv(path):
            if row.get("kind") == "measure" and row.get("meas_alloc_bytes"):
                params.append(pytest.param(row, id=f"{path.stem}:{row['case']}"))
    return params or [
        pytest.param(
            None,
            marks=pytest.mark.skip(
                reason=f"no GPU results yet: {RESULTS}/gpu-*.csv is written by benchmarks/gpu_check.sh on an NVIDIA GPU"
            ),
        )
    ]


def test_the_fixture_is_not_among_the_results() -> None:
    assert not any("FIXTURE" in p.name.upper() for p in RESULTS.glob("*.csv"))
    for path in RESULTS.glob("gpu-*.csv"):
        assert not any("FIXTURE" in (row.get("gpu") or "") for row in read_csv(path)), path


@pytest.mark.parametrize("row", measured_rows())
def test_the_estimate_stays_within_5_percent_of_each_measured_row(row: dict[str, Any]) -> None:
    problems = off_by_more_than(row, estimate_row(row), TOLERANCE)
    assert not problems, f"{row['case']} on {row['gpu']} ({row['date']}): " + "; ".join(problems)
