"""GGUF planning without the heavy tools: quant names, llama-quantize lookup, safetensors counts, the merged
folder's reuse rule, and a folder's chat template and end tokens read from its JSON files."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest

from tuiapp.core.gguf_plan import (
    LLAMA_QUANTIZE_ENV,
    QUANTS,
    check_disk_for,
    count_tensors,
    count_weights,
    expected_gguf_bytes,
    find_llama_quantize,
    gguf_file_name,
    merged_is_current,
    model_label,
    ollama_model_name,
    parse_quant,
    quantize_command,
    shell_line,
)
from tuiapp.core.tokenizer_files import bos_unsaid, chat_template_of, end_tokens_of
from tuiapp.core.user_error import UserError


def test_quant_names_any_case_and_the_direct_ones() -> None:
    assert parse_quant("Q4_K_M").name == "q4_k_m" and not parse_quant("q4_k_m").direct
    assert {name for name, q in QUANTS.items() if q.direct} == {"f32", "f16", "bf16", "q8_0"}
    with pytest.raises(UserError, match="not a GGUF type") as error:
        parse_quant("q1_0")
    assert "q4_k_m" in str(error.value) and "q8_0" in str(error.value)


def test_file_and_ollama_names() -> None:
    label = model_label("Qwen/Qwen2.5-0.5B-Instruct/")
    assert gguf_file_name(label, QUANTS["q4_k_m"]) == "Qwen2.5-0.5B-Instruct-Q4_K_M.gguf"
    assert model_label("/home/me/my model (v2)") == "my-model-v2"
    assert ollama_model_name("Qwen2.5-0.5B-lora-20250101-120000") == "qwen2.5-0.5b-lora-20250101-120000"
    assert ollama_model_name("Ünïcode run!") == "n-code-run"


def _executable(path: Path) -> Path:
    path.write_text("#!/bin/sh\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_llama_quantize_lookup_order(tmp_path: Path) -> None:
    given, from_env, on_path = (_executable(tmp_path / name) for name in ("given", "env", "llama-quantize"))
    env = {LLAMA_QUANTIZE_ENV: str(from_env), "PATH": str(tmp_path)}
    assert find_llama_quantize(str(given), env) == given.resolve()
    assert find_llama_quantize(None, env) == from_env.resolve()
    assert find_llama_quantize(None, {"PATH": str(tmp_path)}) == on_path.resolve()
    assert find_llama_quantize(None, {"PATH": str(tmp_path / "nowhere")}) is None
    not_executable = tmp_path / "plain"
    not_executable.write_text("", encoding="utf-8")
    with pytest.raises(UserError, match="not an executable file"):
        find_llama_quantize(str(not_executable), env)
    with pytest.raises(UserError, match=LLAMA_QUANTIZE_ENV):
        find_llama_quantize(None, {LLAMA_QUANTIZE_ENV: str(tmp_path / "missing")})


def test_quantize_command_is_pasteable() -> None:
    words = quantize_command("llama-quantize", Path("/a b/m-F16.gguf"), Path("/a b/m-Q4_K_M.gguf"), QUANTS["q4_k_m"])
    assert shell_line(words) == "llama-quantize '/a b/m-F16.gguf' '/a b/m-Q4_K_M.gguf' Q4_K_M"


def _safetensors(path: Path, shapes: dict[str, list[int]]) -> None:
    header = {name: {"dtype": "F16", "shape": shape, "data_offsets": [0, 0]} for name, shape in shapes.items()}
    header["__metadata__"] = {"format": "pt"}
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)


def test_weights_and_tensors_counted_from_the_headers(tmp_path: Path) -> None:
    _safetensors(tmp_path / "model-00001-of-00002.safetensors", {"a": [4, 8], "b": [8]})
    _safetensors(tmp_path / "model-00002-of-00002.safetensors", {"c": [2, 3, 5]})
    assert (count_weights(tmp_path), count_tensors(tmp_path)) == (32 + 8 + 30, 3)
    assert expected_gguf_bytes(1_000_000_000, QUANTS["q8_0"]) == 1_062_500_000 + 16 * 1024**2
    (tmp_path / "broken.safetensors").write_bytes(b"\x01")
    with pytest.raises(UserError, match="not a readable safetensors file"):
        count_weights(tmp_path)


def test_disk_check_names_both_figures(tmp_path: Path) -> None:
    check_disk_for(tmp_path / "new" / "folder", 1)
    with pytest.raises(UserError, match=r"needs about .* GiB .* GiB free"):
        check_disk_for(tmp_path, 1 << 60)


def _merged_folder(folder: Path, sharded: bool = False) -> None:
    folder.mkdir(parents=True)
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    if sharded:
        index = {"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}
        (folder / "model.safetensors.index.json").write_text(json.dumps(index), encoding="utf-8")
        (folder / "model-00001-of-00002.safetensors").write_bytes(b"")
    else:
        (folder / "model.safetensors").write_bytes(b"")
    (folder / "config.json").write_text("{}", encoding="utf-8")


def test_merged_folder_is_reused_only_when_whole_and_newer_than_the_adapter(tmp_path: Path) -> None:
    final, merged = tmp_path / "final", tmp_path / "merged"
    final.mkdir()
    (final / "adapter_model.safetensors").write_bytes(b"")
    assert not merged_is_current(merged, final)
    _merged_folder(merged)
    assert merged_is_current(merged, final)
    later = (merged / "config.json").stat().st_mtime + 10
    os.utime(final / "adapter_model.safetensors", (later, later))  # training went on after the merge
    assert not merged_is_current(merged, final)
    _merged_folder(tmp_path / "sharded", sharded=True)  # the index names a shard that is missing
    assert not merged_is_current(tmp_path / "sharded", tmp_path / "sharded")


def test_chat_template_sources_in_order(tmp_path: Path) -> None:
    assert chat_template_of(tmp_path) is None
    (tmp_path / "tokenizer_config.json").write_text(
        json.dumps({"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}),
        encoding="utf-8",
    )
    assert chat_template_of(tmp_path) == "D"
    (tmp_path / "chat_template.jinja").write_text("J", encoding="utf-8")
    assert chat_template_of(tmp_path) == "J"


def test_end_tokens_from_eos_and_generation_config(tmp_path: Path) -> None:
    (tmp_path / "tokenizer_config.json").write_text(
        json.dumps({"eos_token": {"content": "<|im_end|>"}, "bos_token": "<|endoftext|>"}), encoding="utf-8"
    )
    (tmp_path / "generation_config.json").write_text(json.dumps({"eos_token_id": [2, 0, 1, 7]}), encoding="utf-8")
    tokenizer = {
        "model": {"type": "BPE", "vocab": {"<|endoftext|>": 0, "a": 5, "b": 7}},
        "added_tokens": [{"id": 1, "content": "<|im_start|>"}, {"id": 2, "content": "<|im_end|>"}],
    }
    (tmp_path / "tokenizer.json").write_text(json.dumps(tokenizer), encoding="utf-8")
    # EOS first, no repeats, the BOS left out (a stop there would end every answer before it starts)
    assert end_tokens_of(tmp_path) == ["<|im_end|>", "<|im_start|>", "b"]
    assert end_tokens_of(tmp_path / "missing") == []


def _tokenizer_files(folder: Path, post_processor: object, config: dict | None = None) -> Path:
    folder.mkdir()
    (folder / "tokenizer.json").write_text(json.dumps({"post_processor": post_processor}), encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(json.dumps(config or {}), encoding="utf-8")
    return folder


def test_a_tokenizer_that_adds_no_bos_without_saying_so(tmp_path: Path) -> None:
    text_only = {"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A", "type_id": 0}}]}
    with_bos = {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}]}
    assert bos_unsaid(_tokenizer_files(tmp_path / "a", text_only))  # transformers 5's SentencePiece llama
    assert bos_unsaid(_tokenizer_files(tmp_path / "b", None))
    assert not bos_unsaid(_tokenizer_files(tmp_path / "c", with_bos))
    assert not bos_unsaid(_tokenizer_files(tmp_path / "d", text_only, {"add_bos_token": False}))  # already said
    assert not bos_unsaid(_tokenizer_files(tmp_path / "e", {"type": "ByteLevel"}))  # not ours to decide
    assert not bos_unsaid(tmp_path / "missing")
