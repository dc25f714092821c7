"""The tiny llama with a SentencePiece tokenizer (the demo model's): it tokenizes exactly as its tokenizer.model,
keeps the BPE one's special tokens, EOS and ChatML template, and the {% generation %} assistant mask and
chat_render's loss marks hold with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

SAMPLES = [
    "Hello! The answer is 42, isn't it? Café au lait costs $3.50.\n\n  Done.",
    "  two leading spaces, a\ttab, and 日本語 (bytes)",
    "x",
]
CHAT = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "What is two plus two?"},
    {"role": "assistant", "content": "Four."},
    {"role": "user", "content": "And times three?"},
    {"role": "assistant", "content": "Twelve."},
]


@pytest.fixture
def tokenizer(tiny_model_dirs: dict[str, Path]) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dirs["llama-sp"])


def test_tokenizes_like_its_sentencepiece_model(tiny_model_dirs: dict[str, Path], tokenizer: Any) -> None:
    import sentencepiece

    model = sentencepiece.SentencePieceProcessor(model_file=str(tiny_model_dirs["llama-sp"] / "tokenizer.model"))
    for text in SAMPLES:
        ids = tokenizer(text)["input_ids"]
        assert ids == model.encode(text), text  # no BOS added, no dummy prefix: what llama.cpp will do
        assert tokenizer.decode(ids) == text
    assert len(tokenizer) == model.get_piece_size() == 512


def test_special_tokens_match_the_bpe_tokenizers(tokenizer: Any) -> None:
    from tuiapp.training.tiny_model import SPECIAL_TOKENS

    assert (tokenizer.eos_token, tokenizer.pad_token, tokenizer.bos_token) == ("<|im_end|>", "<pad>", "<|endoftext|>")
    for token in SPECIAL_TOKENS:
        assert len(tokenizer(token)["input_ids"]) == 1, token
    text = "<|im_start|>user\nHi<|im_end|>"
    assert tokenizer(text)["input_ids"][0] == tokenizer.convert_tokens_to_ids("<|im_start|>")
    assert tokenizer(text)["input_ids"][-1] == tokenizer.eos_token_id


def test_assistant_mask_and_loss_marks(tokenizer: Any) -> None:
    from tuiapp.training.chat_render import prepare_template, render_row

    report = prepare_template(tokenizer)
    assert (report.source, report.assistant_only, report.problems) == ("tokenizer", True, [])
    expected = tokenizer.apply_chat_template(CHAT, return_dict=True, return_assistant_tokens_mask=True)
    masked = [i for i, m in zip(expected["input_ids"], expected["assistant_masks"], strict=True) if m]
    assert tokenizer.decode(masked) == "Four.<|im_end|>Twelve.<|im_end|>"
    rendered = render_row(tokenizer, {"messages": CHAT}, report.assistant_only)
    assert [learns for _, learns in rendered.pieces] == [bool(m) for m in expected["assistant_masks"]]
    assert "".join(text for text, _ in rendered.pieces) == tokenizer.apply_chat_template(CHAT, tokenize=False)


def test_build_is_deterministic_and_llama_only(tmp_path: Path) -> None:
    from tuiapp.training.tiny_model import build_tiny_model

    first = build_tiny_model(tmp_path / "a", tokenizer="sentencepiece")
    second = build_tiny_model(tmp_path / "b", tokenizer="sentencepiece")
    for name in ("tokenizer.model", "tokenizer.json", "model.safetensors"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    with pytest.raises(ValueError, match="llama architecture only"):
        build_tiny_model(tmp_path / "c", arch="qwen2", tokenizer="sentencepiece")


def test_demo_model_of_an_older_build_is_rebuilt(tmp_path: Path) -> None:
    import json

    from tuiapp.core.demo import DEMO_MODEL_MARKER, DEMO_MODEL_VERSION, demo_model_is_current, ensure_demo_model
    from tuiapp.training.tiny_model import build_tiny_model

    old = build_tiny_model(tmp_path / "demo-model")  # what version 1 left: BPE, no marker
    assert not demo_model_is_current(old)
    folder = ensure_demo_model(old)
    assert folder == old and (folder / "tokenizer.model").is_file() and demo_model_is_current(folder)
    marker = json.loads((folder / DEMO_MODEL_MARKER).read_text(encoding="utf-8"))
    assert marker == {"version": DEMO_MODEL_VERSION, "arch": "llama", "tokenizer": "sentencepiece"}
    stamp = (folder / "config.json").stat().st_mtime_ns
    assert ensure_demo_model(folder) == folder and (folder / "config.json").stat().st_mtime_ns == stamp
