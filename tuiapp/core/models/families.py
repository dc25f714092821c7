"""The model families ftwizard can size, and how each one's config.json maps onto a ModelShape.

A family is listed only once its module layout has been checked against transformers 5 (the meta-device
test in tests/core/test_model_shape.py); an unknown one is refused rather than guessed, because a wrong
parameter count turns into a wrong memory plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tuiapp.core.user_error import UserError

Bias = bool | tuple[str, bool]  # a fixed value, or (config key, transformers' default for it)


class UnsupportedModelError(UserError):
    """A config.json ftwizard cannot size: not a causal LM, an unknown family, or a damaged file."""


@dataclass(frozen=True)
class Family:
    """What differs between the decoder-only families transformers builds."""

    architecture: str
    """The causal-LM class, assumed when config.json names no architectures."""
    qkv_bias: Bias = False
    o_bias: Bias = False
    mlp_bias: Bias = False
    qk_norm: bool = False
    sandwich_norms: bool = False
    fused_projections: bool = False
    head_dim: int | None = None
    """transformers' default when config.json has none; None means hidden_size / num_attention_heads."""
    experts_key: str | None = None
    """The config key holding the expert count, for mixture-of-experts families."""
    expert_width_key: str = "moe_intermediate_size"
    tied_default: bool = False
    logit_softcap_default: float | None = None
    """transformers' final_logit_softcapping when config.json does not say (Gemma 2: 30.0)."""
    norm_scales_in_fp32: bool = False
    sliding_window_default: int | None = None
    """transformers' sliding_window when config.json does not say (Mistral, Gemma 2/3: 4096)."""
    sliding_pattern: int = 0
    """Gemma 2/3 without layer_types: every layer but each n-th uses the window (2, or Gemma 3's
    sliding_window_pattern, default 6); 0: every layer uses it."""


_ATTN_BIAS = ("attention_bias", False)
QWEN_MAX_WINDOW_LAYERS = 28  # transformers' default for Qwen2/Qwen3 configs
FAMILIES: dict[str, Family] = {
    "llama": Family("LlamaForCausalLM", _ATTN_BIAS, _ATTN_BIAS, mlp_bias=("mlp_bias", False)),
    "mistral": Family("MistralForCausalLM", sliding_window_default=4096),
    "mixtral": Family("MixtralForCausalLM", experts_key="num_local_experts", expert_width_key="intermediate_size"),
    "qwen2": Family("Qwen2ForCausalLM", qkv_bias=True),
    "qwen2_moe": Family("Qwen2MoeForCausalLM", qkv_bias=("qkv_bias", True), experts_key="num_experts"),
    "qwen3": Family("Qwen3ForCausalLM", _ATTN_BIAS, _ATTN_BIAS, qk_norm=True, head_dim=128),
    "qwen3_moe": Family("Qwen3MoeForCausalLM", _ATTN_BIAS, _ATTN_BIAS, qk_norm=True, experts_key="num_experts"),
    "gemma": Family(
        "GemmaForCausalLM", _ATTN_BIAS, _ATTN_BIAS, head_dim=256, tied_default=True, norm_scales_in_fp32=True
    ),
    "gemma2": Family(
        "Gemma2ForCausalLM",
        _ATTN_BIAS,
        _ATTN_BIAS,
        sandwich_norms=True,
        head_dim=256,
        tied_default=True,
        logit_softcap_default=30.0,
        norm_scales_in_fp32=True,
        sliding_window_default=4096,
        sliding_pattern=2,
    ),
    "gemma3_text": Family(
        "Gemma3ForCausalLM",
        _ATTN_BIAS,
        _ATTN_BIAS,
        qk_norm=True,
        sandwich_norms=True,
        head_dim=256,
        tied_default=True,
        norm_scales_in_fp32=True,
        sliding_window_default=4096,
        sliding_pattern=6,
    ),
    "phi3": Family("Phi3ForCausalLM", fused_projections=True),
}
_FIX = "download config.json again, or check the folder holds the model you meant"
WIDTH_MAX = 1 << 24
"""The largest width (hidden, intermediate, head, vocabulary) accepted: 16,777,216, a thousand times any
released model's, so a shape past it is a damaged or hostile file, and products of sizes stay plain ints."""
UPPER_BOUNDS = {"num_hidden_layers": 1 << 20, "max_position_embeddings": 1 << 32, "max_window_layers": 1 << 20}
"""Bounds other than WIDTH_MAX: layers (over a thousand times today's largest) and context length."""


def read_family_fields(config: Any) -> dict[str, Any]:
    """Every ModelShape field but the name, from a config.json dict."""
    if not isinstance(config, dict):
        raise UnsupportedModelError(f"config.json must be a JSON object, got {type(config).__name__}: {_FIX}")
    architecture, text, family = _family(config)
    hidden, heads = _positive(text, "hidden_size"), _positive(text, "num_attention_heads")
    if heads > hidden:
        raise UnsupportedModelError(
            f"config.json's num_attention_heads ({heads}) is more than its hidden_size ({hidden}): "
            f"every head needs at least one dimension; {_FIX}"
        )
    kv_heads = _positive(text, "num_key_value_heads", default=heads)
    if heads % kv_heads:
        raise UnsupportedModelError(
            f"num_attention_heads ({heads}) is not a multiple of num_key_value_heads ({kv_heads}): {_FIX}"
        )
    if text.get("head_dim") is None and family.head_dim is None and hidden % heads:
        raise UnsupportedModelError(
            f"config.json's hidden_size ({hidden}) is not a multiple of num_attention_heads ({heads}) and no "
            f"head_dim says how wide a head is: {_FIX}"
        )
    layers = _positive(text, "num_hidden_layers")
    fields: dict[str, Any] = {
        "model_type": text["model_type"],
        "architecture": architecture,
        "vocab_size": _positive(text, "vocab_size"),
        "hidden_size": hidden,
        "num_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": _positive(text, "head_dim", default=family.head_dim or hidden // heads),
        "max_position_embeddings": _positive(text, "max_position_embeddings"),
        "tie_word_embeddings": _flag(
            text, "tie_word_embeddings", _flag(config, "tie_word_embeddings", family.tied_default)
        ),
        "attention_bias": _bias(text, family.qkv_bias),
        "o_proj_bias": _bias(text, family.o_bias),
        "mlp_bias": _bias(text, family.mlp_bias),
        "qk_norm": family.qk_norm,
        "sandwich_norms": family.sandwich_norms,
        "fused_projections": family.fused_projections,
        "logit_softcapping": bool(_number(text, "final_logit_softcapping", family.logit_softcap_default)),
        "norm_scales_in_fp32": family.norm_scales_in_fp32,
        "torch_dtype": _dtype(config, text),
        **_sliding_window(text, family, layers),
    }
    if family.experts_key and _positive(text, family.experts_key, default=0):
        fields.update(_moe_fields(text, family, layers))
    else:
        fields["intermediate_size"] = _positive(text, "intermediate_size")
    return fields


def _family(config: dict[str, Any]) -> tuple[str, dict[str, Any], Family]:
    """(architecture, the language model's config, its family), or why it cannot be sized."""
    text = config.get("text_config")
    if text is not None and not isinstance(text, dict):
        raise UnsupportedModelError(
            f"config.json's text_config must be an object of the language model's fields, got {_kind(text)}: {_FIX}"
        )
    nested = isinstance(text, dict) and bool(text)
    text = text if nested else config
    model_type = text.get("model_type")
    if model_type is None or model_type == "":
        raise UnsupportedModelError(f"config.json has no model_type, so it is not a transformers model: {_FIX}")
    if not isinstance(model_type, str):
        raise UnsupportedModelError(
            f"config.json's model_type must be a name such as 'llama', got {_kind(model_type)}: {_FIX}"
        )
    family = FAMILIES.get(model_type)
    if family is None:
        raise UnsupportedModelError(
            f"model_type {model_type!r} is not supported: ftwizard can size {', '.join(sorted(FAMILIES))}. "
            "Pick a model of one of these families (`ftwizard` lists a catalogue of them)"
        )
    architectures = config.get("architectures") or [family.architecture]
    if not isinstance(architectures, list) or not all(isinstance(name, str) for name in architectures):
        raise UnsupportedModelError(f"config.json's architectures must be a list of class names: {_FIX}")
    architecture = architectures[0]
    endings = ("ForCausalLM", "ForConditionalGeneration") if nested else ("ForCausalLM",)
    if not architecture.endswith(endings):
        raise UnsupportedModelError(
            f"{architecture} is not a text-generation (…ForCausalLM) model, so it cannot be fine-tuned "
            "for chat or completion here: pick the causal-LM (base or instruct) version of the model"
        )
    return architecture, text, family


def _moe_fields(text: dict[str, Any], family: Family, layers: int) -> dict[str, Any]:
    assert family.experts_key is not None
    experts = _positive(text, family.experts_key)
    top_k = _positive(text, "num_experts_per_tok")
    if top_k > experts:
        raise UnsupportedModelError(f"num_experts_per_tok ({top_k}) exceeds the {experts} experts: {_FIX}")
    step = _positive(text, "decoder_sparse_step", default=1)
    dense_only = text.get("mlp_only_layers") or []
    if not isinstance(dense_only, list) or not all(_is_int(i) for i in dense_only):
        raise UnsupportedModelError(f"config.json's mlp_only_layers must be a list of layer numbers: {_FIX}")
    dense_set = set(dense_only)
    dense = sum(1 for i in range(layers) if i in dense_set or (i + 1) % step)
    return {
        "num_experts": experts,
        "num_experts_per_tok": top_k,
        "moe_intermediate_size": _positive(text, family.expert_width_key),
        "shared_expert_intermediate_size": _positive(text, "shared_expert_intermediate_size", default=0),
        "dense_mlp_layers": dense,
        "intermediate_size": _positive(text, "intermediate_size") if dense else 0,
    }


def _sliding_window(text: dict[str, Any], family: Family, layers: int) -> dict[str, Any]:
    """The local-attention span and how many layers use it, with transformers' defaults."""
    window = text.get("sliding_window", family.sliding_window_default)
    if window is not None and not (_is_int(window) and 0 <= window <= UPPER_BOUNDS["max_position_embeddings"]):
        raise UnsupportedModelError(
            f"config.json's sliding_window must be a number of tokens or null, got {_kind(window)}: {_FIX}"
        )
    if "use_sliding_window" in text and not _flag(text, "use_sliding_window", False):  # Qwen: off unless on
        window = None
    if window is None or window == 0:
        return {"sliding_window": None, "sliding_window_layers": 0}
    types = text.get("layer_types")
    if types is not None and not (isinstance(types, list) and all(isinstance(kind, str) for kind in types)):
        raise UnsupportedModelError(f"config.json's layer_types must be a list of names: {_FIX}")
    if isinstance(types, list) and types:
        count = sum(1 for kind in types if kind == "sliding_attention")
    elif "use_sliding_window" in text:  # Qwen: the layers from max_window_layers on
        count = max(0, layers - _positive(text, "max_window_layers", default=QWEN_MAX_WINDOW_LAYERS))
    elif family.sliding_pattern:
        pattern = _positive(text, "sliding_window_pattern", default=family.sliding_pattern)
        count = layers - layers // pattern
    else:
        count = layers
    return {"sliding_window": window if count else None, "sliding_window_layers": count}


def _positive(config: dict[str, Any], key: str, default: int | None = None) -> int:
    value = config.get(key)
    if value is None:
        if default is None:
            raise UnsupportedModelError(f"config.json has no {key}: {_FIX}")
        return default
    if not _is_int(value) or value < 0 or (value == 0 and default != 0):
        raise UnsupportedModelError(f"config.json's {key} must be a positive integer, got {_kind(value)}: {_FIX}")
    upper = UPPER_BOUNDS.get(key, WIDTH_MAX)
    if value > upper:
        raise UnsupportedModelError(
            f"config.json's {key} is {_kind(value)}, more than the {upper:,} ftwizard accepts (no real model comes "
            f"near): {_FIX}"
        )
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(value: object) -> str:
    """A value for a message: short ones as written, long ones by their type and length."""
    text = repr(value) if isinstance(value, int | float | bool | str) or value is None else ""
    if text and len(text) <= 40:
        return text
    size = f" of {len(value)}" if isinstance(value, str | list | dict) else ""
    return f"a {type(value).__name__}{size}"


def _flag(config: dict[str, Any], key: str, default: bool) -> bool:
    """A true/false field; null or absent means `default`."""
    value = config.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise UnsupportedModelError(f"config.json's {key} must be true or false, got {_kind(value)}: {_FIX}")
    return value


def _number(config: dict[str, Any], key: str, default: float | None) -> float | None:
    value = config.get(key, default)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise UnsupportedModelError(f"config.json's {key} must be a number or null, got {_kind(value)}: {_FIX}")
    return value


def _bias(config: dict[str, Any], rule: Bias) -> bool:
    if isinstance(rule, bool):
        return rule
    key, default = rule
    return _flag(config, key, default)


def _dtype(config: dict[str, Any], text: dict[str, Any]) -> str:
    """config.json says torch_dtype (transformers 4) or dtype (transformers 5); bf16 when silent."""
    for source in (text, config):
        for key in ("dtype", "torch_dtype"):
            if isinstance(source.get(key), str):
                return source[key]
    return "bfloat16"
