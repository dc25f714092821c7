"""Training overhead: the same LoRA run by a plain TRL script and by `ftwizard train`, alternated.

Both runs do identical work, and the benchmark checks that they did: the same random-init model and tokenizer
(chat template included, so our template step changes nothing), the same rows file (the bundled chat rows,
which our reader passes through unchanged), the same seed and so the same row order and batches, and every
setting that differs from a library default spelled out in both: fp32 (TRL's SFTConfig defaults to
bf16=True, which on a CPU is autocast through emulated bf16 matmuls, 10-20x slower here, while our backend
trains fp32 on a CPU), gradient checkpointing off (SFTConfig turns it on by default, our backend turns it off
on a CPU), no eval split, sdpa attention, the same torch threads (OMP_NUM_THREADS, one environment for both).
Each run logs every step; the figures are read from those logs in the same window (from the end of step
WARMUP_STEPS to the last step), so model loading, tokenizing and the first steps' warm-up are outside both:
wall time per optimizer step, and non-pad tokens per second.
The per-step token counts must match exactly and the losses to LOSS_TOLERANCE (else the work differed, and
the benchmark says where). Rounds alternate which runs first, so machine noise hits both alike; the ratio of
medians is printed with the spread of the per-round ratios. Goal: ours / plain >= 0.97.

.venv/bin/python benchmarks/train_overhead.py [--rounds 4] [--steps 30] [--threads N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

from tuiapp.core.child_env import child_env
from tuiapp.core.config import save_config, validate_config
from tuiapp.core.data.samples import sample_path

MAX_LENGTH = 256
MICRO_BATCH, GRAD_ACCUM, LR, SEED = 4, 1, 2e-4, 42
WARMUP_STEPS = 3  # steps left out of the timed window (allocator and thread-pool warm-up)
LOSS_TOLERANCE = 1e-5  # relative: the same fp32 work on the same CPU gives the same losses (bf16 autocast does not)

PLAIN = textwrap.dedent(
    """
    import json, sys, time, torch
    from datasets import load_dataset
    from peft import LoraConfig
    from transformers import AutoTokenizer, AutoModelForCausalLM, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    model_dir, data, out, steps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="sdpa")
    rows = load_dataset("json", data_files=data, split="train").select_columns(["messages"])
    args = SFTConfig(output_dir=out, max_steps=steps, learning_rate={lr}, per_device_train_batch_size={mb},
                     gradient_accumulation_steps={ga}, max_length={ml}, use_cpu=True, report_to=[], seed={seed},
                     logging_steps=1, save_strategy="no", eval_strategy="no", disable_tqdm=True,
                     assistant_only_loss=True, packing=False, gradient_checkpointing=False,
                     lr_scheduler_type="cosine", warmup_steps=0.03, optim="adamw_torch", weight_decay=0.0,
                     max_grad_norm=1.0, dataloader_num_workers=0, bf16=False, fp16=False)
    lora = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules="all-linear", task_type="CAUSAL_LM")
    log = []

    class StepLog(TrainerCallback):  # what our event callback records: the time, step, tokens and loss per log
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                log.append({{"time": time.time(), "step": state.global_step, "tokens": logs.get("num_tokens"),
                            "loss": logs["loss"]}})

    trainer = SFTTrainer(model=model, args=args, train_dataset=rows, processing_class=tokenizer, peft_config=lora,
                         callbacks=[StepLog()])
    trainer.train()
    print(json.dumps({{"steps": log, "threads": torch.get_num_threads(), "rows": len(rows)}}))
    """
).format(lr=LR, mb=MICRO_BATCH, ga=GRAD_ACCUM, ml=MAX_LENGTH, seed=SEED)

BUILD = textwrap.dedent(
    """
    import sys, torch
    from transformers import AutoModelForCausalLM, LlamaConfig
    from tuiapp.training.chat_render import prepare_template
    from tuiapp.training.tiny_model import train_tokenizer
    tokenizer = train_tokenizer()
    prepare_template(tokenizer)  # what our backend does to the template, done once for both runs
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=384, intermediate_size=1024, num_hidden_layers=6,
                         num_attention_heads=6, num_key_value_heads=2, max_position_embeddings=512,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(sys.argv[1])
    tokenizer.save_pretrained(sys.argv[1])
    """
)


@dataclass(frozen=True)
class StepLog:
    """One run's per-step log: (unix time, cumulative non-pad tokens, loss) at the end of each step."""

    times: list[float]
    tokens: list[int]
    losses: list[float]

    @classmethod
    def of(cls, entries: list[dict]) -> StepLog:
        entries = sorted(entries, key=lambda e: e["step"])
        steps = [e["step"] for e in entries]
        if steps != list(range(1, len(steps) + 1)):
            raise RuntimeError(f"expected a log at every step, got steps {steps}")
        return cls([e["time"] for e in entries], [int(e["tokens"]) for e in entries], [e["loss"] for e in entries])

    def seconds_per_step(self, warmup: int = WARMUP_STEPS) -> float:
        """Wall time per optimizer step, from the end of step `warmup` to the end of the last step."""
        return (self.times[-1] - self.times[warmup - 1]) / (len(self.times) - warmup)

    def tokens_per_s(self, warmup: int = WARMUP_STEPS) -> float:
        """Non-pad tokens trained per second in the same window."""
        return (self.tokens[-1] - self.tokens[warmup - 1]) / (self.times[-1] - self.times[warmup - 1])


def loss_difference(plain: StepLog, ours: StepLog) -> float:
    """The largest relative difference between the two runs' losses at the same step."""
    return max(abs(p - o) / max(abs(p), 1e-9) for p, o in zip(plain.losses, ours.losses, strict=True))


def same_work(plain: StepLog, ours: StepLog) -> str | None:
    """None when both trained the same tokens at every step with the same losses, else where they differ."""
    plain_batches = [b - a for a, b in zip([0, *plain.tokens], plain.tokens, strict=False)]
    ours_batches = [b - a for a, b in zip([0, *ours.tokens], ours.tokens, strict=False)]
    for step, (p, o) in enumerate(zip(plain_batches, ours_batches, strict=True), start=1):
        if p != o:
            return f"step {step}: plain trained {p} non-pad tokens, ftwizard {o}"
    for step, (p, o) in enumerate(zip(plain.losses, ours.losses, strict=True), start=1):
        if abs(p - o) > LOSS_TOLERANCE * max(abs(p), 1e-9):
            return f"step {step}: loss {p:.5f} (plain) vs {o:.5f} (ftwizard): same tokens, different computation"
    return None


THREADS = os.cpu_count() or 1  # torch's intra-op threads in both runs: its own default, set in both (--threads)


def bench_env(threads: int = THREADS) -> dict[str, str]:
    """One environment for both runs (the worker's), so only the code differs; the thread count is set, since on
    a shared machine torch's default (one per core) makes each op wait for a thread another process holds."""
    count = str(threads)
    return {
        **child_env(),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "OMP_NUM_THREADS": count,
        "MKL_NUM_THREADS": count,
    }


def plain_run(model: Path, out: Path, steps: int, threads: int) -> tuple[StepLog, int]:
    done = subprocess.run(
        [sys.executable, "-c", PLAIN, str(model), str(sample_path("messages.jsonl")), str(out), str(steps)],
        capture_output=True,
        text=True,
        check=True,
        env=bench_env(threads),
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return StepLog.of(result["steps"]), result["threads"]


def ours_config(model: Path, steps: int, index: int) -> dict:
    """The plain script's settings, spelled out in our config (every field the plain script sets)."""
    return {
        "model": {"name_or_path": str(model), "attn_implementation": "sdpa"},
        "method": "lora",
        "lora": {"r": 16, "alpha": 32, "dropout": 0.05, "target_modules": "all-linear"},
        "dataset": {"source": str(sample_path("messages.jsonl")), "format": "messages", "eval_size": 0},
        "training": {
            "max_steps": steps,
            "learning_rate": LR,
            "lr_scheduler": "cosine",
            "warmup_ratio": 0.03,
            "micro_batch_size": MICRO_BATCH,
            "grad_accum": GRAD_ACCUM,
            "max_length": MAX_LENGTH,
            "packing": False,
            "precision": "fp32",
            "optimizer": "adamw_torch",
            "weight_decay": 0.0,
            "max_grad_norm": 1.0,
            "seed": SEED,
            "save_steps": 10_000,
            "logging_steps": 1,
            "gradient_checkpointing": False,
        },
        "output": {"run_name": f"bench-{index}"},
    }


def ours_run(model: Path, work: Path, steps: int, index: int, threads: int) -> StepLog:
    path = save_config(validate_config(ours_config(model, steps, index)), work / f"bench-{index}.yaml")
    subprocess.run(
        [sys.executable, "-m", "tuiapp", "train", str(path), "--runs-dir", str(work / "runs")],
        capture_output=True,
        check=True,
        env=bench_env(threads),
    )
    events = [json.loads(line) for line in (work / "runs" / f"bench-{index}" / "events.jsonl").read_text().splitlines()]
    return StepLog.of([e for e in events if e.get("event") == "metrics"])


def summary(plain: list[StepLog], ours: list[StepLog]) -> dict[str, float]:
    """Medians over rounds, their ratio, and the spread of the per-round ratios."""
    p_rate = statistics.median(r.tokens_per_s() for r in plain)
    o_rate = statistics.median(r.tokens_per_s() for r in ours)
    p_step = statistics.median(r.seconds_per_step() for r in plain)
    o_step = statistics.median(r.seconds_per_step() for r in ours)
    per_round = [o.tokens_per_s() / p.tokens_per_s() for p, o in zip(plain, ours, strict=True)]
    return {
        "plain_tokens_per_s": p_rate,
        "ours_tokens_per_s": o_rate,
        "plain_s_per_step": p_step,
        "ours_s_per_step": o_step,
        "ratio_tokens_per_s": o_rate / p_rate,
        "ratio_step_time": p_step / o_step,
        "round_ratio_min": min(per_round),
        "round_ratio_max": max(per_round),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4, help="alternated rounds (each runs both once)")
    parser.add_argument("--steps", type=int, default=30, help=f"optimizer steps per run (> {WARMUP_STEPS})")
    parser.add_argument(
        "--threads", type=int, default=THREADS, help="torch threads in both runs (default: one per core)"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object at the end")
    args = parser.parse_args(argv)
    if args.steps <= WARMUP_STEPS + 1 or args.rounds < 1:
        parser.error(f"--steps must be above {WARMUP_STEPS + 1} and --rounds at least 1")
    if not 1 <= args.threads <= (os.cpu_count() or 1):
        parser.error(f"--threads must be 1 to {os.cpu_count()}")
    plain: list[StepLog] = []
    ours: list[StepLog] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model = work / "model"
        subprocess.run([sys.executable, "-c", BUILD, str(model)], check=True, capture_output=True, env=bench_env())
        for index in range(args.rounds):
            if index % 2 == 0:
                plain_log, threads = plain_run(model, work / f"plain-{index}", args.steps, args.threads)
                ours_log = ours_run(model, work, args.steps, index, args.threads)
            else:
                ours_log = ours_run(model, work, args.steps, index, args.threads)
                plain_log, threads = plain_run(model, work / f"plain-{index}", args.steps, args.threads)
            plain.append(plain_log)
            ours.append(ours_log)
            if (difference := same_work(plain_log, ours_log)) is not None:
                print(f"round {index + 1}: the runs did different work ({difference})", file=sys.stderr)
                return 1
            first = "plain first" if index % 2 == 0 else "ftwizard first"
            print(
                f"round {index + 1} ({first}, {threads} threads): plain {plain_log.tokens_per_s():,.0f} tok/s "
                f"{plain_log.seconds_per_step() * 1000:.0f} ms/step · ftwizard {ours_log.tokens_per_s():,.0f} tok/s "
                f"{ours_log.seconds_per_step() * 1000:.0f} ms/step · same tokens at all {args.steps} steps, "
                f"losses within {loss_difference(plain_log, ours_log):.1e}",
                flush=True,
            )
    figures = summary(plain, ours)
    window = f"steps {WARMUP_STEPS + 1}-{args.steps}"
    print(
        f"median over {args.rounds} rounds ({window}): plain {figures['plain_tokens_per_s']:,.0f} tok/s, "
        f"{figures['plain_s_per_step'] * 1000:.0f} ms/step; ftwizard {figures['ours_tokens_per_s']:,.0f} tok/s, "
        f"{figures['ours_s_per_step'] * 1000:.0f} ms/step"
    )
    print(
        f"ftwizard / plain tokens/s = {figures['ratio_tokens_per_s']:.3f}, step time plain / ftwizard = "
        f"{figures['ratio_step_time']:.3f}  (goal >= 0.97; per-round ratios {figures['round_ratio_min']:.3f}-"
        f"{figures['round_ratio_max']:.3f}; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    if args.json:
        print(json.dumps({"benchmark": "train_overhead", **figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
