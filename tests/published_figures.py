"""The published A100 measurements the estimate is checked against (Mistral-7B v0.1, fms-acceleration),
with the shape, the stack's settings and each row's tolerance: shared by the closed-form, reserved-memory and
replay tests."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from tuiapp.core.estimate.closed_form import TrainingSetup
from tuiapp.core.models.shape import ModelShape

# Mistral-7B v0.1's config.json (the model the published A100 figures were measured on).
MISTRAL_7B_CONFIG: dict[str, Any] = {
    "architectures": ["MistralForCausalLM"],
    "model_type": "mistral",
    "vocab_size": 32000,
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "max_position_embeddings": 32768,
    "tie_word_embeddings": False,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "torch_dtype": "bfloat16",
}
MISTRAL_7B = ModelShape.from_hf_config(MISTRAL_7B_CONFIG, name="mistralai/Mistral-7B-v0.1")
# Source: fms-acceleration's A100-80GB reference table, scripts/benchmarks/refs/a100_80gb.csv at commit 24bdadb
# (https://github.com/foundation-model-stack/fms-acceleration/blob/24bdadb228e2d55bc0c69deec034b86a73da6917/
# scripts/benchmarks/refs/a100_80gb.csv, Feb 2025). Its stack (refs/requirements.txt): torch 2.4.1, transformers
# 4.48.1, trl 0.13.0, peft 0.13.2, bitsandbytes 0.43.3, flash-attn 2.7.3, fms-hf-tuning 2.5.0. Rows: Mistral-7B-v0.1,
# 1 GPU, per_device_train_batch_size 4, max_seq_len 4096 packed (benchmark.py's defaults), gradient checkpointing,
# adamw_torch, flash attention (defaults.yaml), torch_dtype bfloat16; LoRA and QLoRA r 16, alpha 16, dropout 0.1
# on q,k,v,o (scenarios.yaml). `allocated` is mem_peak_torch_mem_alloc_in_bytes (torch.cuda.max_memory_allocated),
# `nvidia_smi_mib` mem_nvidia_mem_reserved.
MEASURED_SETUP = TrainingSetup(
    seq_len=4096,
    micro_batch=4,
    gradient_checkpointing=True,
    optimizer="adamw_torch",
    precision="bf16",
    lora_r=16,
    lora_targets=("q_proj", "k_proj", "v_proj", "o_proj"),
    lora_dropout=0.1,
    attn_implementation="flash_attention_2",
    # The measured stack, not our TRL 1.16 backend: TRL 0.13's SFTTrainer takes the model's own loss, and
    # transformers 4.48 computes the (4, 4096, 32000) logits and upcasts them in ForCausalLMLoss; PEFT 0.13's
    # get_peft_model keeps adapters fp32 (autocast_adapter_dtype) and TRL 0.13 does not cast them.
    loss_path="full_logits",
    adapter_dtype="fp32",
    kbit_upcast=False,
)


@dataclass(frozen=True)
class PublishedRow:
    """One measured run, what our setup options say its stack did, and how close the estimate must come."""

    framework_config: str
    """fms-acceleration's framework_config column (none: plain fms-hf-tuning)."""
    allocated_bytes: int
    nvidia_smi_mib: int
    setup: TrainingSetup
    tolerance: float
    """Just above today's error (the estimate, 2026-12, against this row)."""


PUBLISHED = {
    "full": PublishedRow("none", 72_434_837_504, 77_256, replace(MEASURED_SETUP, method="full"), 0.005),
    # -4.5% today: the peak is the start of the backward, 1.1 GiB short, not yet explained.
    "lora": PublishedRow("none", 26_704_571_904, 29_576, replace(MEASURED_SETUP, method="lora"), 0.05),
    # baseline-peft-bnb (bf16: True) sets no_peft_model: true, so fms-acceleration's own non-upcasting prepare is
    # skipped and TRL 0.13 calls PEFT's prepare_model_for_kbit_training on the 4-bit model: every non-quantized
    # parameter upcast to fp32 (kbit_upcast). TRL then casts embed_tokens and lm_head back to bf16
    # (peft_module_casting_to_bf16); no setup option says that: ours holds them fp32, 0.49 GiB more weights.
    "qlora": PublishedRow(
        "baseline-peft-bnb", 20_669_338_112, 26_056, replace(MEASURED_SETUP, method="qlora", kbit_upcast=True), 0.01
    ),
}
