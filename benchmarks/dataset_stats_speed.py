"""Dataset statistics speed: our whole inspection vs the raw batched tokenizer call on the same rows.

Both sides start from the same JSONL file and the same tokenizer folder, side by side in one run:
- raw: load the tokenizer, json-parse every line, render each conversation through the chat template,
  one batched tokenizer call per 1,000 rows (the least work that yields the token counts);
- ours: `inspect_dataset` end to end (read with located errors, detect the format, convert, clean,
  render rows with loss marks, count in batches, statistics).
The target is ours/raw <= 1.3. Prints rows/s for both.

.venv/bin/python benchmarks/dataset_stats_speed.py [--rows 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from tuiapp.core.data.inspect_request import InspectRequest
from tuiapp.training.dataset_inspect import inspect_dataset
from tuiapp.training.tiny_model import build_tiny_model

WORDS = [
    "the",
    "model",
    "learns",
    "to",
    "answer",
    "questions",
    "about",
    "numbers",
    "cities",
    "colours",
    "and",
    "code",
    "quickly",
]


def write_rows(path: Path, rows: int) -> None:
    rng = random.Random(0)

    def sentence() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 120))) + "."

    with path.open("w", encoding="utf-8") as out:
        for _ in range(rows):
            turns = [{"role": "user", "content": sentence()}, {"role": "assistant", "content": sentence()}]
            out.write(json.dumps({"messages": turns}) + "\n")


def raw(path: Path, model: Path) -> int:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    rows = [json.loads(line)["messages"] for line in path.open(encoding="utf-8")]
    lengths = []
    for start in range(0, len(rows), 1000):
        texts = [tokenizer.apply_chat_template(m, tokenize=False) for m in rows[start : start + 1000]]
        lengths += [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
    return sum(lengths)


def ours(path: Path, model: Path) -> int:
    events: dict[str, dict] = {}
    inspect_dataset(
        InspectRequest(source=str(path), model=str(model), limit=10**9), lambda e: events.update({e["event"]: e})
    )
    return events["stats"]["total_tokens"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = build_tiny_model(Path(tmp) / "tiny", arch="llama")
        data = Path(tmp) / "rows.jsonl"
        write_rows(data, args.rows)
        raw(data, model), ours(data, model)  # warm imports and caches on both sides
        best = {"raw": float("inf"), "ours": float("inf")}
        for _ in range(args.repeat):
            for name, run in (("raw", raw), ("ours", ours)):
                start = time.perf_counter()
                tokens = run(data, model)
                best[name] = min(best[name], time.perf_counter() - start)
        assert raw(data, model) == ours(data, model) == tokens, "both sides must count the same tokens"
    for name, seconds in best.items():
        print(f"{name:>4}: {seconds:6.2f} s  {args.rows / seconds:9,.0f} rows/s")
    print(f"ours/raw = {best['ours'] / best['raw']:.2f}  (target <= 1.30; {tokens:,} tokens, best of {args.repeat})")


if __name__ == "__main__":
    main()
