"""Training overhead: the same LoRA run by a plain TRL script and by `ftwizard train`, alternated.

Both train the same random-init model (large enough that compute dominates on CPU) on the same bundled
chat rows with the same settings, each in a fresh process. The figure is the trainer's own tokens/s
(TRL's `num_tokens` / `train_runtime`): ours reads both from the run's `completed` event, the plain
script prints them. Rounds alternate (plain, ours, plain, ours, ...) so machine noise hits both alike; the
ratio of medians is printed. Goal: ours / plain >= 0.97.

.venv/bin/python benchmarks/train_overhead.py [--rounds 3] [--steps 30]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from tuiapp.core.child_env import child_env
from tuiapp.core.config import save_config, validate_config
from tuiapp.core.data.samples import sample_path

MAX_LENGTH = 256
MICRO_BATCH, GRAD_ACCUM, LR = 4, 1, 2e-4

PLAIN = textwrap.dedent(
    """
    import json, sys
    from datasets import load_dataset
    from peft import LoraConfig
    from transformers import AutoTokenizer, AutoModelForCausalLM
    from trl import SFTConfig, SFTTrainer

    model_dir, data, out, steps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    rows = load_dataset("json", data_files=data, split="train").select_columns(["messages"])
    args = SFTConfig(output_dir=out, max_steps=steps, learning_rate={lr}, per_device_train_batch_size={mb},
                     gradient_accumulation_steps={ga}, max_length={ml}, use_cpu=True, report_to=[],
                     logging_steps=1, save_strategy="no", disable_tqdm=True, assistant_only_loss=True,
                     lr_scheduler_type="cosine", warmup_steps=0.03, optim="adamw_torch")
    lora = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules="all-linear", task_type="CAUSAL_LM")
    trainer = SFTTrainer(model=model, args=args, train_dataset=rows, processing_class=tokenizer, peft_config=lora)
    result = trainer.train()
    tokens = [e["num_tokens"] for e in trainer.state.log_history if "num_tokens" in e][-1]
    print(json.dumps({{"runtime_s": result.metrics["train_runtime"], "tokens": tokens}}))
    """
).format(lr=LR, mb=MICRO_BATCH, ga=GRAD_ACCUM, ml=MAX_LENGTH)

BUILD = textwrap.dedent(
    """
    import sys, torch
    from transformers import AutoModelForCausalLM, LlamaConfig
    from tuiapp.training.tiny_model import train_tokenizer
    tokenizer = train_tokenizer()
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=384, intermediate_size=1024, num_hidden_layers=6,
                         num_attention_heads=6, num_key_value_heads=2, max_position_embeddings=512,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(sys.argv[1])
    tokenizer.save_pretrained(sys.argv[1])
    """
)


def plain_run(model: Path, out: Path, steps: int) -> tuple[float, float]:
    done = subprocess.run(
        [sys.executable, "-c", PLAIN, str(model), str(sample_path("messages.jsonl")), str(out), str(steps)],
        capture_output=True,
        text=True,
        check=True,
        env=child_env(),  # the worker's environment, so only the code differs
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["tokens"] / result["runtime_s"], result["runtime_s"]


def ours_run(model: Path, work: Path, steps: int, index: int) -> tuple[float, float]:
    config = validate_config(
        {
            "model": {"name_or_path": str(model)},
            "method": "lora",
            "lora": {"r": 16, "alpha": 32, "dropout": 0.05},
            "dataset": {"source": str(sample_path("messages.jsonl")), "format": "messages"},
            "training": {
                "max_steps": steps,
                "learning_rate": LR,
                "micro_batch_size": MICRO_BATCH,
                "grad_accum": GRAD_ACCUM,
                "max_length": MAX_LENGTH,
                "precision": "fp32",
                "save_steps": 10_000,
                "logging_steps": 1,
                "gradient_checkpointing": False,
            },
            "output": {"run_name": f"bench-{index}"},
        }
    )
    path = save_config(config, work / f"bench-{index}.yaml")
    subprocess.run(
        [sys.executable, "-m", "tuiapp", "train", str(path), "--runs-dir", str(work / "runs")],
        capture_output=True,
        check=True,
    )
    events = (work / "runs" / f"bench-{index}" / "events.jsonl").read_text().splitlines()
    completed = next(json.loads(line) for line in reversed(events) if '"completed"' in line)
    return completed["tokens"] / completed["runtime_s"], completed["runtime_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model = work / "model"
        subprocess.run([sys.executable, "-c", BUILD, str(model)], check=True, capture_output=True)
        plain, ours = [], []
        for index in range(args.rounds):
            plain.append(plain_run(model, work / f"plain-{index}", args.steps))
            ours.append(ours_run(model, work, args.steps, index))
            (p_rate, p_time), (o_rate, o_time) = plain[-1], ours[-1]
            print(
                f"round {index + 1}: plain {p_rate:,.0f} tok/s ({p_time:.1f} s) · "
                f"ftwizard {o_rate:,.0f} tok/s ({o_time:.1f} s)",
                flush=True,
            )
    p_med, o_med = statistics.median(r for r, _ in plain), statistics.median(r for r, _ in ours)
    ratio = o_med / p_med
    print(f"tokens/s median: plain {p_med:,.0f}, ftwizard {o_med:,.0f}")
    print(f"ftwizard / plain tokens/s = {ratio:.3f}  (goal >= 0.97; {args.rounds} alternated rounds)")


if __name__ == "__main__":
    main()
