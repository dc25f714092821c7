"""ModelShape against the models transformers really builds: every catalogue entry and every family,
instantiated on the meta device (no memory, no download) and counted parameter by parameter."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tuiapp.core.models import ModelShape, UnsupportedModelError
from tuiapp.core.models.catalog import model_catalog

Matrix = tuple[str, int, int, bool, str]  # name, in_features, out_features, bias, kind

# Small configs for what the catalogue lacks: flags the catalogue never sets, Gemma 1, Qwen2-MoE's
# shared expert, MoE models with dense layers in between.
TINY = dict(vocab_size=96, hidden_size=64, num_hidden_layers=4, num_attention_heads=4, max_position_embeddings=512)
FAMILY_CASES: dict[str, dict[str, Any]] = {
    "llama with biases": dict(
        TINY, model_type="llama", intermediate_size=96, num_key_value_heads=2, attention_bias=True,
        mlp_bias=True, tie_word_embeddings=True,
    ),
    "qwen3 with attention bias": dict(
        TINY, model_type="qwen3", intermediate_size=96, num_key_value_heads=2, head_dim=32,
        attention_bias=True,
    ),
    "gemma": dict(TINY, model_type="gemma", intermediate_size=96, num_key_value_heads=1, head_dim=16),
    "qwen2_moe with shared expert and a dense layer": dict(
        TINY, model_type="qwen2_moe", intermediate_size=80, moe_intermediate_size=24,
        shared_expert_intermediate_size=48, num_experts=6, num_experts_per_tok=2, num_key_value_heads=2,
        mlp_only_layers=[0],
    ),
    "qwen3_moe every other layer": dict(
        TINY, model_type="qwen3_moe", intermediate_size=80, moe_intermediate_size=24, num_experts=8,
        num_experts_per_tok=2, num_key_value_heads=2, head_dim=16, decoder_sparse_step=2,
    ),
    # transformers' default token ids point past the tiny vocabulary
    "phi3 without grouped-query attention": dict(
        TINY, model_type="phi3", intermediate_size=96, tie_word_embeddings=True, pad_token_id=0,
        eos_token_id=1, bos_token_id=1,
    ),
}  # fmt: skip
CASES = {entry.name: entry.config for entry in model_catalog()} | FAMILY_CASES


def build_meta_model(config: dict[str, Any]) -> Any:
    """The model transformers builds from this config.json dict, with meta tensors (no memory)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    fields = dict(config)
    hf_config = AutoConfig.for_model(fields.pop("model_type"), **fields)
    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(hf_config)


def matrices_in_layers(layers: Any) -> Counter[Matrix]:
    """Every weight matrix of the decoder layers, named by its path inside the attention or MLP block."""
    from torch import nn

    found: Counter[Matrix] = Counter()
    for layer in layers:
        modules = dict(layer.named_modules())
        for path, param in layer.named_parameters():
            if param.ndim < 2:
                continue
            owner_path, _leaf = path.rsplit(".", 1)
            owner = modules[owner_path]
            block_path = owner_path.split(".", 1)[1]  # drop "self_attn." / "mlp."
            if isinstance(owner, nn.Linear):
                key = (block_path, owner.in_features, owner.out_features, owner.bias is not None, "linear")
                found[key] += 1
            elif param.ndim == 3:  # transformers 5 fuses the experts into (experts, out, in) tensors
                experts, out_features, in_features = param.shape
                found[(path.split(".", 1)[1], in_features, out_features, False, "experts")] += experts
            else:  # the MoE router's (experts, hidden) weight
                found[(block_path, param.shape[1], param.shape[0], False, "router")] += 1
    return found


def expected_matrices(shape: ModelShape) -> Counter[Matrix]:
    return Counter({(s.name, s.in_features, s.out_features, s.bias, s.kind): s.count for s in shape.linear_layers()})


@pytest.mark.parametrize("name", list(CASES))
def test_counts_match_the_model_transformers_builds(name: str) -> None:
    config = CASES[name]
    shape = ModelShape.from_hf_config(config, name=name)
    model = build_meta_model(config)
    actual_total = sum(p.numel() for p in model.parameters())
    print(f"{name}: {actual_total:,} parameters, {shape.active_params:,} active")
    assert shape.total_params == actual_total
    assert type(model).__name__ == shape.architecture
    assert matrices_in_layers(model.model.layers) == expected_matrices(shape)
    assert shape.embedding_params == model.get_input_embeddings().weight.numel()
    tied = model.lm_head.weight is model.get_input_embeddings().weight
    assert tied == shape.tie_word_embeddings and shape.lm_head_params == (0 if tied else shape.embedding_params)
    norms = sum(p.numel() for n, p in model.named_parameters() if p.ndim == 1 and "norm" in n)
    assert shape.norm_params == norms


def test_multimodal_config_is_sized_through_its_text_config() -> None:
    """A Gemma 3 4B-style config.json: the language model is counted, the vision tower is not."""
    text = dict(TINY, model_type="gemma3_text", intermediate_size=96, num_key_value_heads=2, head_dim=16)
    config = {
        "architectures": ["Gemma3ForConditionalGeneration"],
        "model_type": "gemma3",
        "text_config": text,
    }
    shape = ModelShape.from_hf_config(config, name="tiny-gemma3-vlm")
    model = build_meta_model(config)
    language = sum(p.numel() for p in model.model.language_model.parameters())
    assert shape.total_params == language + shape.lm_head_params
    assert (shape.model_type, shape.architecture) == ("gemma3_text", "Gemma3ForConditionalGeneration")


def test_defaults_fill_what_config_json_leaves_out() -> None:
    shape = ModelShape.from_hf_config({"model_type": "llama", "intermediate_size": 128, **TINY}, name="m")
    assert (shape.head_dim, shape.num_key_value_heads) == (16, 4)  # hidden / heads, and no GQA
    assert (shape.architecture, shape.tie_word_embeddings, shape.torch_dtype) == (
        "LlamaForCausalLM",
        False,
        "bfloat16",
    )
    assert shape.active_params == shape.total_params


def test_moe_active_params_count_only_the_routed_experts() -> None:
    shape = ModelShape.from_hf_config(CASES["Qwen/Qwen3-30B-A3B"], name="q")
    idle = shape.moe_layers * (shape.num_experts - shape.num_experts_per_tok) * 3 * 2048 * 768
    assert shape.active_params == shape.total_params - idle
    assert 3.0e9 < shape.active_params < 3.5e9  # the "A3B": about 3.3B active


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"model_type": "bert", "architectures": ["BertForMaskedLM"]}, "model_type 'bert' is not supported"),
        (
            {**TINY, "model_type": "llama", "architectures": ["LlamaForSequenceClassification"]},
            "not a text-gen",
        ),
        ({"hidden_size": 64}, "has no model_type"),
        ({**TINY, "model_type": "llama"}, "has no intermediate_size"),
        ({**TINY, "model_type": "llama", "intermediate_size": "96"}, "intermediate_size must be a positive"),
        ({**TINY, "model_type": "llama", "num_key_value_heads": 3}, "not a multiple of num_key_value_heads"),
        (["not", "a", "dict"], "must be a JSON object"),
    ],
)
def test_configs_it_cannot_size_say_why_and_what_to_do(config: Any, message: str) -> None:
    with pytest.raises(UnsupportedModelError, match=message) as caught:
        ModelShape.from_hf_config(config, name="m")
    assert isinstance(caught.value, ValueError) and ":" in str(caught.value)


def test_shape_and_spec_are_frozen() -> None:
    shape = ModelShape.from_hf_config(CASES["Qwen/Qwen2.5-0.5B-Instruct"], name="q")
    with pytest.raises(ValueError):
        shape.hidden_size = 1  # type: ignore[misc]
    with pytest.raises(ValueError):
        shape.linear_layers()[0].count = 1  # type: ignore[misc]
