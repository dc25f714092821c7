"""Dataset doctor doubling: does twice the input take about twice the time?

The whole inspection (`inspect_dataset`, in-process: read, detect, convert, clean, render the preview row
with its loss marks, count tokens, statistics) with the tiny model's locally trained tokenizer (nothing
downloads), side by side in one run on
- N and 2N conversation rows;
- one row of L and 2L tokens (the preview renders it; quadratic marking took minutes at 50k tokens);
- rows of C and 2C columns (JSON lines without a tokenizer: detection and the preview see every column).
Each case is timed as the best of --repeat runs; the ratio should be about 2 (linear), well under 4.

.venv/bin/python benchmarks/doctor_doubling.py [--rows 4000] [--tokens 40000] [--columns 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tuiapp.core.data.inspect_request import InspectRequest
from tuiapp.training.dataset_inspect import inspect_dataset
from tuiapp.training.tiny_model import build_tiny_model

WORDS = ["the", "model", "learns", "to", "answer", "questions", "about", "numbers", "cities", "colours", "and", "code"]


def sentence(words: int, seed: int = 0) -> str:
    return " ".join(WORDS[(i * 7 + seed) % len(WORDS)] for i in range(words))


def chat_rows(path: Path, rows: int, words: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i in range(rows):
            turns = [{"role": "user", "content": sentence(20, i)}, {"role": "assistant", "content": sentence(words, i)}]
            out.write(json.dumps({"messages": turns}) + "\n")
    return path


def wide_rows(path: Path, rows: int, columns: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i in range(rows):
            out.write(json.dumps({"text": sentence(20, i)} | {f"extra_{c}": c for c in range(columns)}) + "\n")
    return path


def best_of(repeat: int, run: Callable[[], None]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def doctor(source: Path, model: Path | None) -> Callable[[], None]:
    request = InspectRequest(source=str(source), model=str(model) if model else None, limit=10**9)
    return lambda: inspect_dataset(request, lambda event: None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=4_000)
    parser.add_argument("--tokens", type=int, default=40_000, help="about this many tokens in the long row")
    parser.add_argument("--columns", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = build_tiny_model(root / "model")
        words = max(1, args.tokens * 10 // 23)  # the tiny tokenizer gives ~2.3 tokens per word here
        cases = [
            ("rows", args.rows, lambda n: doctor(chat_rows(root / f"rows{n}.jsonl", n, 40), model)),
            ("tokens in one row", args.tokens, lambda n: doctor(chat_rows(root / f"long{n}.jsonl", 1, n), model)),
            ("columns", args.columns, lambda n: doctor(wide_rows(root / f"wide{n}.jsonl", 20, n), None)),
        ]
        doctor(chat_rows(root / "warm.jsonl", 10, 10), model)()  # imports and the first tokenizer load
        print(f"{'input':<20}{'N':>10}{'time N':>10}{'time 2N':>10}{'ratio':>8}")
        for name, size, make in cases:
            scale = words if name == "tokens in one row" else size
            one, two = make(scale), make(scale * 2)
            t1, t2 = best_of(args.repeat, one), best_of(args.repeat, two)
            print(f"{name:<20}{size:>10,}{t1:>9.2f}s{t2:>9.2f}s{t2 / t1:>8.2f}")
        print("linear work doubles (ratio ~2); a quadratic path shows ~4")


if __name__ == "__main__":
    main()
