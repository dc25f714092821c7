"""benchmarks/ is no package: put it on sys.path so `gpucheck` imports as benchmarks/gpu_check.py imports it."""

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))
