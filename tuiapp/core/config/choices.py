"""The closed sets of choices the config accepts, shared by validators, CLI and screens."""

from typing import Literal, get_args

Task = Literal["sft", "dpo", "kto", "orpo", "grpo"]
Method = Literal["full", "lora", "qlora", "lora8"]
Framework = Literal["hf", "unsloth", "axolotl"]
DatasetFormat = Literal[
    "auto", "messages", "sharegpt", "alpaca", "prompt_completion", "text", "preference", "kto", "prompt_only"
]
Optimizer = Literal["adamw_torch", "adamw_torch_fused", "adamw_8bit", "paged_adamw_8bit", "adafactor", "sgd"]
Precision = Literal["auto", "bf16", "fp16", "fp32"]
Scheduler = Literal["linear", "cosine", "constant", "constant_with_warmup", "cosine_with_restarts"]
AttnImplementation = Literal["sdpa", "eager", "flash_attention_2"]

METHOD_LABELS: dict[str, str] = {
    "full": "full fine-tune",
    "lora": "LoRA (16-bit base)",
    "qlora": "QLoRA (4-bit NF4 base)",
    "lora8": "LoRA on an 8-bit base",
}
TASK_LABELS: dict[str, str] = {
    "sft": "supervised fine-tuning",
    "dpo": "direct preference optimization",
    "kto": "Kahneman-Tversky optimization",
    "orpo": "odds-ratio preference optimization",
    "grpo": "group relative policy optimization (RL)",
}
# Which dataset formats each task can train on ("auto" is resolved by the dataset doctor).
TASK_FORMATS: dict[str, tuple[str, ...]] = {
    "sft": ("auto", "messages", "sharegpt", "alpaca", "prompt_completion", "text"),
    "dpo": ("auto", "preference"),
    "orpo": ("auto", "preference"),
    "kto": ("auto", "kto", "preference"),
    "grpo": ("auto", "prompt_only", "messages", "prompt_completion"),
}


def choices(literal: object) -> tuple[str, ...]:
    """The allowed values of one of the Literal aliases above."""
    return get_args(literal)


# The bounds (lowest, highest, both allowed) of the config's whole-number fields, by dotted path. The config
# model declares its fields with them, and the CLI flags that set the same values import them, so `check`,
# the Hyperparameters form, the flags and the worker refuse the same numbers. The highs are what torch and the
# trainers take, or far past anything a fine-tune on one GPU does, so a larger value is a typo, not a plan:
STEPS_MAX = 10_000_000  # optimizer steps: days even at 20 steps a second
EFFECTIVE_BATCH_MAX = 65_536  # sequences per optimizer step: 30x any published pretraining batch
FIELD_BOUNDS: dict[str, tuple[int, int]] = {
    # numpy's and torch's seeding take 0 .. 2**32 - 1 (transformers' set_seed seeds both)
    "training.seed": (0, 2**32 - 1),
    # sequences per forward pass: 4096 fits no GPU at any useful length; torch builds index lists this long
    "training.micro_batch_size": (1, 4096),
    # with micro_batch_size, at most EFFECTIVE_BATCH_MAX sequences a step (out-of-memory recovery keeps the
    # product when it halves the micro-batch and doubles this, so the product is the bound that matters)
    "training.grad_accum": (1, EFFECTIVE_BATCH_MAX),
    "training.max_length": (16, 1_048_576),  # 16 tokens hold a prompt and an answer; 1M is the longest context
    "training.max_steps": (1, STEPS_MAX),
    "training.logging_steps": (1, STEPS_MAX),
    "training.eval_steps": (1, STEPS_MAX),
    "training.save_steps": (1, STEPS_MAX),
    "training.save_total_limit": (1, 10_000),  # checkpoints kept on disk: each is the adapter plus optimizer state
    "training.oom_retries": (0, 10),
    # the rank of the adapter matrices: 16,384 is the widest hidden size of open models, and a rank above a
    # layer's width adds no capacity; PEFT allocates r x width matrices, so 1e20 is an allocation error
    "lora.r": (1, 16_384),
    # the update is scaled by alpha / r; the usual alpha is r or 2r, 4x the highest rank leaves room for more
    "lora.alpha": (1, 65_536),
    # rows held out as a count (a fraction below 1 is the other way to say it): more is longer than training
    "dataset.eval_size": (0, 10_000_000),
    "debug.inject_oom_at_step": (1, STEPS_MAX),
    "debug.inject_oom_times": (1, 100),
}
