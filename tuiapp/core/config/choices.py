"""The closed sets of choices the config accepts, shared by validators, CLI and screens."""

from typing import Literal, get_args

Task = Literal["sft", "dpo", "kto", "orpo", "grpo"]
Method = Literal["full", "lora", "qlora", "lora8"]
Framework = Literal["hf", "unsloth"]
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
