"""The GPU check's parts: the case list and its time budget (cases), the carried wheels (wheels), the table and
CSV (table), and what runs on the GPU (runner, sampler). benchmarks/gpu_check.py is the entry point."""
