"""Config validation time as the input doubles: each case is read and validated at N and 2N, side by side in
one run, and the time ratio printed. Linear work doubles (~2.0); the old per-error rescan of the file was ~4.

Cases (all through `loads_config`, the path `check` and `train` take):
- unknown keys: N top-level keys no config has (N problems, the first 50 built);
- bad list items: `lora.target_modules` listing N numbers, one per line (N problems at N lines);
- good list items: `lora.target_modules` listing N module names (a valid config);
- duplicate keys: `dataset.columns` naming N columns twice (N duplicates, each with both lines);
- a token in comments: N comment lines each holding a token-shaped string.
Nesting is not a case: it is capped at 32 levels, so a deeper file is refused at its 33rd.

.venv/bin/python benchmarks/config_doubling.py [--n 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

from tuiapp.core.config import ConfigError, loads_config

MODEL = "model: {name_or_path: org/m}\n"
TARGET = 2.5  # a doubling ratio above this is not linear work


def unknown_keys(n: int) -> str:
    return MODEL + "".join(f"unknown_{i}: {i}\n" for i in range(n))


def bad_list_items(n: int) -> str:
    return MODEL + "lora:\n  target_modules:\n" + "".join(f"    - {i}\n" for i in range(n))


def good_list_items(n: int) -> str:
    return MODEL + "lora:\n  target_modules:\n" + "".join(f"    - layers.{i}.q_proj\n" for i in range(n))


def duplicate_keys(n: int) -> str:
    names = "".join(f"    col_{i}: text\n" for i in range(n))
    return MODEL + "dataset:\n  source: d.jsonl\n  columns:\n" + names + names


def comment_tokens(n: int) -> str:
    return MODEL + "".join(f"# note {i}: hf_{'x' * 34}\n" for i in range(n))


CASES: dict[str, Callable[[int], str]] = {
    "unknown keys": unknown_keys,
    "bad list items": bad_list_items,
    "good list items": good_list_items,
    "duplicate keys": duplicate_keys,
    "tokens in comments": comment_tokens,
}


def validate(text: str) -> int:
    """Problems reported (shown plus counted); 0 for a valid config."""
    try:
        loads_config(text, "cfg.yaml")
    except ConfigError as exc:
        return len(exc.problems) + exc.more
    return 0


def best_time(text: str, repeat: int) -> tuple[float, int]:
    best, found = float("inf"), 0
    for _ in range(repeat):
        gc.collect()  # the previous case's garbage is not this one's time
        start = time.perf_counter()
        found = validate(text)
        best = min(best, time.perf_counter() - start)
    return best, found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    validate(unknown_keys(100))  # warm imports and pydantic's schema
    print(f"{'case':>18} {'N':>8} {'time N':>9} {'time 2N':>9} {'ratio':>6}  problems at N / 2N")
    worst = 0.0
    for name, build in CASES.items():
        small, small_found = best_time(build(args.n), args.repeat)
        large, large_found = best_time(build(2 * args.n), args.repeat)
        ratio = large / small
        worst = max(worst, ratio)
        print(
            f"{name:>18} {args.n:>8,} {small * 1000:>7.0f}ms {large * 1000:>7.0f}ms {ratio:>6.2f}"
            f"  {small_found:,} / {large_found:,}"
        )
    verdict = "linear" if worst <= TARGET else "NOT linear"
    print(f"worst ratio {worst:.2f} (target <= {TARGET}: {verdict}; best of {args.repeat})")


if __name__ == "__main__":
    main()
