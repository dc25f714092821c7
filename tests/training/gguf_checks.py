"""Reading a GGUF back with llama.cpp's own `gguf` reader, for the GGUF tests: its metadata, and its tensors
dequantized and mapped back to Hugging Face names and layout (llama.cpp permutes Llama's Q and K rows for its
RoPE; `unpermute` undoes that), so they can be compared with the merged model's weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

LAYER_NAMES = {
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
    "attn_norm": "input_layernorm",
    "ffn_norm": "post_attention_layernorm",
}
TOP_NAMES = {"token_embd": "model.embed_tokens", "output": "lm_head", "output_norm": "model.norm"}


def metadata(path: Path) -> dict[str, Any]:
    """The GGUF's key/value metadata, decoded."""
    import gguf

    reader = gguf.GGUFReader(path)
    return {key: field.contents() for key, field in reader.fields.items() if not key.startswith("GGUF.")}


def hf_name(gguf_name: str) -> str:
    """`blk.1.attn_q.weight` -> `model.layers.1.self_attn.q_proj.weight`."""
    stem, _, kind = gguf_name.rpartition(".")
    if stem.startswith("blk."):
        _, layer, part = stem.split(".", 2)
        return f"model.layers.{layer}.{LAYER_NAMES[part]}.{kind}"
    return f"{TOP_NAMES[stem]}.{kind}"


def unpermute(weights: np.ndarray, heads: int) -> np.ndarray:
    """Undo llama.cpp's Q/K row order: per head it interleaves the two rotary halves; put them back."""
    rows = weights.shape[0]
    return weights.reshape(heads, rows // heads // 2, 2, *weights.shape[1:]).swapaxes(1, 2).reshape(weights.shape)


def tensors(path: Path, heads: int, kv_heads: int) -> dict[str, tuple[np.ndarray, str]]:
    """Every tensor as float32 in Hugging Face layout, by Hugging Face name, with its GGUF type's name."""
    import gguf
    from gguf.quants import dequantize

    found: dict[str, tuple[np.ndarray, str]] = {}
    for tensor in gguf.GGUFReader(path).tensors:
        values = np.asarray(dequantize(tensor.data, tensor.tensor_type), dtype=np.float32)
        if tensor.name.endswith("attn_q.weight"):
            values = unpermute(values, heads)
        elif tensor.name.endswith("attn_k.weight"):
            values = unpermute(values, kv_heads)
        found[hf_name(tensor.name)] = (values, tensor.tensor_type.name)
    return found


def q8_0_bound(weights: np.ndarray) -> np.ndarray:
    """Q8_0's worst error for each weight. A 32-weight block stores d = max|w| / 127 as float16 and each weight as
    round(w / d) in -127..127 with the unrounded d: half a step, plus up to 127 times d's float16 rounding."""
    blocks = weights.reshape(-1, 32)
    step = np.abs(blocks).max(axis=1, keepdims=True) / 127
    return np.broadcast_to(step / 2 + 127 * step * 2**-11, blocks.shape).reshape(weights.shape)


def safetensors_weights(folder: Path) -> dict[str, np.ndarray]:
    """The folder's weights (any dtype, bf16 included) as float32 numpy arrays, by name."""
    from safetensors.torch import load_file

    found: dict[str, np.ndarray] = {}
    for shard in sorted(folder.glob("*.safetensors")):
        found.update({name: value.float().numpy() for name, value in load_file(shard).items()})
    return found
