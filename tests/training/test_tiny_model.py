"""The tiny offline model: loading, chat template / assistant mask, determinism, and real CPU training."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ARCHS = ["llama", "qwen2"]
SAMPLE = "Hello! The answer is 42, isn't it? Café au lait costs $3.50.\n\n  Done."
CONVERSATION = [
    {"role": "system", "content": "You are brief."},
    {"role": "user", "content": "What is 2 plus 2?"},
    {"role": "assistant", "content": "It is 4."},
    {"role": "user", "content": "And 3 plus 3?"},
    {"role": "assistant", "content": "That makes 6!"},
]


def _masked_spans(ids: list[int], mask: list[int]) -> list[list[int]]:
    """Contiguous runs of token ids whose mask is 1."""
    spans: list[list[int]] = []
    previous = 0
    for token_id, flag in zip(ids, mask, strict=True):
        if flag:
            if not previous:
                spans.append([])
            spans[-1].append(token_id)
        previous = flag
    return spans


def test_import_stays_light() -> None:
    code = "import sys, tuiapp.training.tiny_model; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


@pytest.mark.parametrize("arch", ARCHS)
def test_loads_and_runs_forward(tiny_model_dirs: dict[str, Path], arch: str) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = tiny_model_dirs[arch]
    assert (folder / "model.safetensors").is_file()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    batch = tokenizer(["Hello there.", "The answer is 42, of course!"], padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits
    assert logits.shape == (2, batch["input_ids"].shape[1], model.config.vocab_size)
    assert torch.isfinite(logits).all()
    assert sum(p.numel() for p in model.parameters()) < 200_000


@pytest.mark.parametrize("arch", ARCHS)
def test_config_gqa_and_tied_embeddings(tiny_model_dirs: dict[str, Path], arch: str) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = tiny_model_dirs[arch]
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    config = model.config
    assert config.model_type == arch
    assert (config.hidden_size, config.num_hidden_layers, config.intermediate_size) == (64, 2, 128)
    assert (config.num_attention_heads, config.num_key_value_heads) == (4, 2)
    assert config.max_position_embeddings == 512
    assert config.vocab_size == len(tokenizer)
    tied = arch == "qwen2"
    assert config.tie_word_embeddings is tied
    same_tensor = model.get_output_embeddings().weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()
    assert same_tensor is tied
    assert (config.eos_token_id, config.pad_token_id) == (tokenizer.eos_token_id, tokenizer.pad_token_id)


@pytest.mark.parametrize("arch", ARCHS)
def test_tokenizer_reloads_identically(tiny_model_dirs: dict[str, Path], arch: str) -> None:
    # transformers 5 reloads a qwen2 checkpoint's tokenizer as Qwen2Tokenizer, which rebuilds its own
    # pre-tokenizer around the saved vocab: it must still tokenize exactly like the trained one.
    from transformers import AutoTokenizer

    from tuiapp.training.tiny_model import SPECIAL_TOKENS, train_tokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dirs[arch])
    assert tokenizer(SAMPLE)["input_ids"] == train_tokenizer()(SAMPLE)["input_ids"]
    assert tokenizer.decode(tokenizer(SAMPLE)["input_ids"]) == SAMPLE
    assert 400 <= len(tokenizer) <= 600
    assert (tokenizer.eos_token, tokenizer.pad_token) == ("<|im_end|>", "<pad>")
    for token in SPECIAL_TOKENS:
        assert len(tokenizer(token)["input_ids"]) == 1, token
    # Enough merges that ordinary English is well below one token per character.
    assert len(tokenizer("the capital of France is Paris")["input_ids"]) < 20


def test_chat_template_renders(tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    text = tokenizer.apply_chat_template(CONVERSATION[:3], tokenize=False)
    assert text == (
        "<|im_start|>system\nYou are brief.<|im_end|>\n"
        "<|im_start|>user\nWhat is 2 plus 2?<|im_end|>\n"
        "<|im_start|>assistant\nIt is 4.<|im_end|>\n"
    )
    prompt = tokenizer.apply_chat_template(CONVERSATION[:2], tokenize=False, add_generation_prompt=True)
    assert prompt.endswith("<|im_end|>\n<|im_start|>assistant\n")
    assert not tokenizer.apply_chat_template(CONVERSATION[:2], tokenize=False).endswith("assistant\n")


@pytest.mark.parametrize("arch", ARCHS)
def test_assistant_mask_covers_content_and_im_end(tiny_model_dirs: dict[str, Path], arch: str) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dirs[arch])
    out = tokenizer.apply_chat_template(
        CONVERSATION, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
    )
    spans = _masked_spans(out["input_ids"], out["assistant_masks"])
    assert [tokenizer.decode(span) for span in spans] == ["It is 4.<|im_end|>", "That makes 6!<|im_end|>"]
    assert all(span[-1] == tokenizer.convert_tokens_to_ids("<|im_end|>") for span in spans)


def test_same_seed_same_weights(tmp_path: Path) -> None:
    from safetensors.torch import load_file

    from tuiapp.training.tiny_model import build_tiny_model

    first = load_file(build_tiny_model(tmp_path / "a", seed=3) / "model.safetensors")
    second_dir = build_tiny_model(tmp_path / "b", seed=3)
    second = load_file(second_dir / "model.safetensors")
    other = load_file(build_tiny_model(tmp_path / "c", seed=4) / "model.safetensors")
    assert first.keys() == second.keys()
    assert all(first[name].equal(second[name]) for name in first)
    assert not all(first[name].equal(other[name]) for name in first)
    assert (tmp_path / "a" / "tokenizer.json").read_bytes() == (second_dir / "tokenizer.json").read_bytes()


def _conversations(n: int = 16) -> list[dict]:
    pairs = [
        ("What is 2 plus 2?", "4."),
        ("Say hello.", "Hello!"),
        ("What color is the sky?", "Blue."),
        ("Name a pet.", "A cat."),
    ]
    return [
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": question},
                {"role": "assistant", "content": answer},
            ]
        }
        for question, answer in (pairs * n)[:n]
    ]


def _train(folder: Path, output_dir: Path, max_steps: int, use_lora: bool) -> list[float]:
    """Run TRL's SFTTrainer on CPU and return the logged training losses, one per step."""
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    args = SFTConfig(
        output_dir=str(output_dir),
        max_steps=max_steps,
        per_device_train_batch_size=4,
        learning_rate=5e-3,
        logging_steps=1,
        max_length=128,
        assistant_only_loss=True,  # works: the template wraps assistant turns in {% generation %}
        use_cpu=True,
        # TRL's SFTConfig defaults to bf16=True and gradient_checkpointing=True; neither suits a CPU run.
        bf16=False,
        gradient_checkpointing=False,
        report_to=[],
        save_strategy="no",
        disable_tqdm=True,
        seed=0,
    )
    lora = LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM")
    trainer = SFTTrainer(
        model=AutoModelForCausalLM.from_pretrained(folder),
        args=args,
        train_dataset=Dataset.from_list(_conversations()),
        processing_class=AutoTokenizer.from_pretrained(folder),
        peft_config=lora if use_lora else None,
    )
    trainer.train()
    trainer.save_model(str(output_dir))
    return [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]


@pytest.mark.slow
def test_sft_lora_training_lowers_loss(tiny_model_dir: Path, tmp_path: Path) -> None:
    losses = _train(tiny_model_dir, tmp_path / "lora", max_steps=25, use_lora=True)
    assert len(losses) == 25
    assert losses[-1] < 0.8 * losses[0], losses
    assert (tmp_path / "lora" / "adapter_model.safetensors").is_file()


@pytest.mark.slow
def test_sft_full_finetune_lowers_loss(tiny_model_dir: Path, tmp_path: Path) -> None:
    losses = _train(tiny_model_dir, tmp_path / "full", max_steps=8, use_lora=False)
    assert len(losses) == 8
    assert losses[-1] < 0.8 * losses[0], losses
    assert (tmp_path / "full" / "model.safetensors").is_file()
