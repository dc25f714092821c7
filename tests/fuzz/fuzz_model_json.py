"""Generated model folders (a config.json of the shapes transformers writes, then damaged) and the parameter
count each must give, computed here from the module layout transformers builds for llama, mistral and qwen2."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

ARCHITECTURES = {"llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM"}
REQUIRED = ("hidden_size", "num_attention_heads", "num_hidden_layers", "vocab_size", "intermediate_size")
REQUIRED += ("max_position_embeddings",)
JUNK = st.dictionaries(
    st.sampled_from(
        ["rope_theta", "rms_norm_eps", "initializer_range", "transformers_version", "zz_extra", "bos_token_id"]
    ),
    st.one_of(
        st.integers(-5, 10**6), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=10), st.none()
    ),
    max_size=4,
)


@dataclass
class ModelDoc:
    """A config.json's bytes, what plan must do with it, and the parameter count an acceptance prints."""

    data: bytes
    expect: str  # accept | refuse | either
    params: int | None
    what: str
    as_dir: bool = False  # config.json is a folder, not a file

    def show(self) -> str:
        return repr(self.data[:600]) + (f" ... ({len(self.data):,} bytes)" if len(self.data) > 600 else "")


def parameter_count(config: dict[str, Any]) -> int:
    """sum(p.numel()) of the model transformers builds from this llama/mistral/qwen2 config.json."""
    family = config["model_type"]
    hidden, heads, layers = config["hidden_size"], config["num_attention_heads"], config["num_hidden_layers"]
    kv = config.get("num_key_value_heads", heads)
    head_dim = config.get("head_dim") or hidden // heads
    vocab, width = config["vocab_size"], config["intermediate_size"]
    attention_bias = config.get("attention_bias", False) if family == "llama" else False
    qkv_bias = True if family == "qwen2" else attention_bias
    mlp_bias = config.get("mlp_bias", False) if family == "llama" else False
    q, k = heads * head_dim, kv * head_dim
    attention = hidden * q + 2 * hidden * k + q * hidden
    attention += (q + 2 * k if qkv_bias else 0) + (hidden if attention_bias else 0)
    mlp = 3 * hidden * width + ((2 * width + hidden) if mlp_bias else 0)
    norms = 2 * hidden
    embeddings = vocab * hidden * (1 if config.get("tie_word_embeddings", False) else 2)
    return embeddings + layers * (attention + mlp + norms) + hidden


@st.composite
def good_configs(draw: Any) -> dict[str, Any]:
    """A config.json of a model that could exist: sizes a real checkpoint has, or a tiny test model's."""
    family = draw(st.sampled_from(sorted(ARCHITECTURES)))
    heads = draw(st.sampled_from([1, 2, 4, 8, 12, 16, 32, 40, 64]))
    kv = draw(st.sampled_from([d for d in range(1, heads + 1) if heads % d == 0]))
    head_dim = draw(st.sampled_from([8, 16, 32, 64, 80, 128]))
    config: dict[str, Any] = {
        "model_type": family,
        "hidden_size": heads * head_dim,
        "num_attention_heads": heads,
        "num_key_value_heads": kv,
        "num_hidden_layers": draw(st.integers(1, 96)),
        "vocab_size": draw(st.integers(2, 262_144)),
        "intermediate_size": draw(st.integers(1, 32_768)),
        "max_position_embeddings": draw(st.sampled_from([2048, 4096, 8192, 32768, 131072])),
    }
    if draw(st.booleans()):
        config["architectures"] = [ARCHITECTURES[family]]
    if draw(st.booleans()):
        config["tie_word_embeddings"] = draw(st.booleans())
    if draw(st.integers(0, 3)) == 0:  # an explicit head_dim that is not hidden / heads (Gemma-style widths)
        config["head_dim"] = draw(st.sampled_from([64, 128, 256]))
    if family == "llama" and draw(st.booleans()):
        config["attention_bias"], config["mlp_bias"] = draw(st.booleans()), draw(st.booleans())
    if draw(st.booleans()):
        config["torch_dtype"] = draw(st.sampled_from(["bfloat16", "float16", "float32"]))
    if draw(st.booleans()):
        config.pop("num_key_value_heads")
    junk = draw(JUNK)
    return {**junk, **config}


BAD_NUMBERS = st.sampled_from([0, -1, -64, "64", 64.5, True, None, [64], {"v": 64}, 2**70, 1e400, float("nan")])


@st.composite
def model_documents(draw: Any) -> ModelDoc:
    """A good config.json (accepted, with its count), or one damaged so that no model has that shape."""
    config = draw(good_configs())
    damage = draw(st.sampled_from(["none"] * 4 + ["missing", "value", "kv", "narrow", "type", "arch", "file", "huge"]))
    if damage == "none":
        return ModelDoc(json.dumps(config).encode(), "accept", parameter_count(config), "a good shape")
    if damage == "missing":
        key = draw(st.sampled_from([*REQUIRED, "model_type"]))
        config.pop(key)
        return ModelDoc(json.dumps(config).encode(), "refuse", None, f"no {key}")
    if damage == "value":
        key = draw(st.sampled_from([*REQUIRED, "num_key_value_heads", "head_dim"]))
        value = draw(BAD_NUMBERS)
        config[key] = value
        if key in ("num_key_value_heads", "head_dim") and value is None:
            return ModelDoc(json.dumps(config).encode(), "either", None, f"{key} null")  # the default applies
        return ModelDoc(json.dumps(config, allow_nan=True).encode(), "refuse", None, f"{key} = {value!r}")
    if damage == "kv":
        heads = config["num_attention_heads"] = draw(st.sampled_from([6, 10, 14, 40]))
        config["num_key_value_heads"] = draw(st.sampled_from([4, 7, 12, 9, 80]).filter(lambda v: heads % v))
        config["hidden_size"] = heads * 64
        return ModelDoc(json.dumps(config).encode(), "refuse", None, "heads not a multiple of kv heads")
    if damage == "narrow":
        config["num_attention_heads"], config["num_key_value_heads"] = 32, 8
        config["hidden_size"] = draw(st.integers(1, 31))
        config.pop("head_dim", None)
        return ModelDoc(json.dumps(config).encode(), "refuse", None, "hidden size below the head count")
    if damage == "type":
        config["model_type"] = draw(st.sampled_from(["bert", "", "LLAMA", "t5", 5, None, ["llama"]]))
        return ModelDoc(json.dumps(config).encode(), "refuse", None, f"model_type {config['model_type']!r}")
    if damage == "arch":
        config["architectures"] = draw(st.sampled_from([["BertModel"], "LlamaForCausalLM", [5], {"a": 1}]))
        return ModelDoc(json.dumps(config).encode(), "refuse", None, f"architectures {config['architectures']!r}")
    if damage == "huge":  # absurd but well-formed: refused, or planned with the right count
        config["hidden_size"] = config["num_attention_heads"] * draw(st.sampled_from([2**12, 2**16, 2**20]))
        config["num_hidden_layers"] = draw(st.sampled_from([1, 1000, 100_000]))
        return ModelDoc(json.dumps(config).encode(), "either", parameter_count(config), "absurdly large shape")
    return _damaged_file(draw, config)


def _damaged_file(draw: Any, config: dict[str, Any]) -> ModelDoc:
    text = json.dumps(config)
    kind = draw(st.sampled_from(["cut", "array", "string", "empty", "deep", "utf16", "bom8", "latin1", "dir", "nan"]))
    if kind == "cut":
        return ModelDoc(text[: draw(st.integers(1, len(text) - 1))].encode(), "refuse", None, "cut short")
    if kind == "array":
        return ModelDoc(f"[{text}]".encode(), "refuse", None, "a JSON array")
    if kind == "string":
        return ModelDoc(json.dumps(text).encode(), "refuse", None, "a JSON string")
    if kind == "empty":
        return ModelDoc(b"", "refuse", None, "empty")
    if kind == "deep":
        depth = draw(st.integers(100, 200_000))
        return ModelDoc(("[" * depth + "]" * depth).encode(), "refuse", None, f"nested {depth} deep")
    if kind == "utf16":
        return ModelDoc(text.encode("utf-16"), "either", parameter_count(config), "UTF-16 with a BOM")
    if kind == "bom8":
        return ModelDoc(b"\xef\xbb\xbf" + text.encode(), "either", parameter_count(config), "UTF-8 with a BOM")
    if kind == "latin1":
        return ModelDoc(text[:-1].encode() + b', "name": "caf\xe9"}', "refuse", None, "a latin-1 byte")
    if kind == "dir":
        return ModelDoc(b"", "refuse", None, "config.json is a folder", as_dir=True)
    config["hidden_size"] = float("nan")
    return ModelDoc(json.dumps(config).encode(), "refuse", None, "NaN hidden size")


# Model references that are not folders: (reference, expect). Refusals must name the reference or --model.
REFERENCES = st.one_of(
    st.sampled_from(["", " ", "../nope", "/nonexistent/model", "~/.nope-model", "a//b", "org/name with space"]),
    st.sampled_from(["org/not-cached-model", "x" * 5000, "org/" + "y" * 300, "a\x00b", "日本/モデル", "\ud800/x"]),
    st.text(max_size=30).filter(lambda s: not s.startswith("-")),
)
