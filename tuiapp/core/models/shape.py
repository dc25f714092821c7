"""A decoder-only LM's shape, read from its config.json: the numbers the memory planner multiplies.

The counts mirror the modules transformers 5 builds (tests/core/test_model_shape.py checks them
against a meta-device model for every catalogue entry), so no weights are ever needed.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tuiapp.core.models.families import FAMILIES, UnsupportedModelError, read_family_fields
from tuiapp.core.models.stored_quant import StoredQuantization, read_stored_quantization

Kind = Literal["linear", "experts", "router"]
_CONFIG_KEYS = {"num_layers": "num_hidden_layers", "num_experts": "num_experts (or num_local_experts)"}
"""ModelShape fields whose config.json key has another name."""


class LinearSpec(BaseModel):
    """One kind of weight matrix inside the decoder layers, and how many the whole model holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    """Its path inside a layer's attention or MLP block ("q_proj", "experts.down_proj"); the last
    part is what LoRA's target_modules matches."""
    in_features: int = Field(gt=0)
    out_features: int = Field(gt=0)
    count: int = Field(gt=0)
    """How many exist in the model: num_layers, or MoE layers x num_experts for expert weights."""
    bias: bool = False
    kind: Kind = "linear"
    """linear: an nn.Linear (bitsandbytes quantizes it, LoRA's all-linear targets it). experts: one
    expert's slice of a 3D tensor (transformers 5 fuses experts; bitsandbytes leaves them unquantized,
    LoRA reaches them only through target_parameters). router: the MoE router's weight matrix."""

    @property
    def params(self) -> int:
        """Weights and biases of all `count` copies."""
        return self.count * (self.in_features * self.out_features + (self.out_features if self.bias else 0))


def _linear(
    name: str, in_features: int, out_features: int, count: int, bias: bool = False, kind: Kind = "linear"
) -> LinearSpec:
    return LinearSpec(name=name, in_features=in_features, out_features=out_features, count=count, bias=bias, kind=kind)


class ModelShape(BaseModel):
    """Sizes of one causal LM; built by from_hf_config, never by hand outside tests."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    model_type: str
    """config.json's model_type ("llama", "qwen2", ...): decides Unsloth support and module names."""
    architecture: str
    vocab_size: int = Field(gt=0)
    hidden_size: int = Field(gt=0)
    intermediate_size: int = Field(ge=0)
    """Width of a dense MLP (0 when every layer is a mixture of experts)."""
    num_layers: int = Field(gt=0)
    num_attention_heads: int = Field(gt=0)
    num_key_value_heads: int = Field(gt=0)
    head_dim: int = Field(gt=0)
    max_position_embeddings: int = Field(gt=0)
    tie_word_embeddings: bool
    num_experts: int = Field(default=0, ge=0)
    num_experts_per_tok: int = Field(default=0, ge=0)
    moe_intermediate_size: int = Field(default=0, ge=0)
    shared_expert_intermediate_size: int = Field(default=0, ge=0)
    """Qwen-MoE's always-on shared expert (with a one-output sigmoid gate); 0 when absent."""
    dense_mlp_layers: int = Field(default=0, ge=0)
    """Layers of an MoE model that keep a dense MLP (Qwen-MoE's mlp_only_layers / decoder_sparse_step)."""
    attention_bias: bool = False
    """Bias on the q, k and v projections (Qwen2 always has one)."""
    o_proj_bias: bool = False
    """Bias on the attention output projection (Llama's attention_bias sets both, Qwen2's only q/k/v)."""
    mlp_bias: bool = False
    """Bias on the MLP projections (Llama's mlp_bias; no popular checkpoint sets it)."""
    qk_norm: bool = False
    """An RMSNorm of head_dim on queries and keys in every layer (Qwen3, Gemma 3)."""
    sandwich_norms: bool = False
    """Gemma 2/3: extra RMSNorms before and after the MLP, four per layer instead of two."""
    fused_projections: bool = False
    """Phi-3: q, k and v live in one qkv_proj and gate/up in one gate_up_proj (LoRA targets differ)."""
    logit_softcapping: bool = False
    """Gemma 2: logits pass through cap * tanh(logits / cap) before the loss, which keeps one more
    vocabulary-sized tensor for backward."""
    norm_scales_in_fp32: bool = False
    """Gemma: RMSNorm multiplies by (1 + weight) in fp32 and casts afterwards (Llama casts first), so
    training the weight saves an fp32 copy of the normalized value."""
    sliding_window: int | None = None
    """How far back local-attention layers look (Mistral 7B v0.1, Gemma 2/3); None without any."""
    sliding_window_layers: int = Field(default=0, ge=0)
    """How many layers use the window; from sliding_window tokens on, they need an explicit mask."""
    torch_dtype: str = "bfloat16"
    stored_quantization: StoredQuantization | None = None
    """How the checkpoint's linear weights are stored when config.json has a quantization_config (an
    `unsloth/*-bnb-4bit` mirror, GPTQ, AWQ, FP8, ...): they load as stored; None for a 16-bit checkpoint."""

    @property
    def moe_layers(self) -> int:
        """Layers whose MLP is a mixture of experts."""
        return self.num_layers - self.dense_mlp_layers if self.num_experts else 0

    def linear_layers(self) -> tuple[LinearSpec, ...]:
        """Every weight matrix inside the decoder layers (attention, MLP, experts, router); no lm_head."""
        layers, hidden, bias = self.num_layers, self.hidden_size, self.attention_bias
        q_width = self.num_attention_heads * self.head_dim
        kv_width = self.num_key_value_heads * self.head_dim
        if self.fused_projections:
            specs = [_linear("qkv_proj", hidden, q_width + 2 * kv_width, layers, bias)]
        else:
            widths = {"q_proj": q_width, "k_proj": kv_width, "v_proj": kv_width}
            specs = [_linear(name, hidden, width, layers, bias) for name, width in widths.items()]
        specs.append(_linear("o_proj", q_width, hidden, layers, self.o_proj_bias))
        if layers > self.moe_layers:
            specs += self._mlp("", self.intermediate_size, layers - self.moe_layers)
        if self.moe_layers:
            specs += self._experts()
        return tuple(specs)

    def _mlp(self, prefix: str, width: int, count: int) -> list[LinearSpec]:
        hidden, bias = self.hidden_size, self.mlp_bias
        if self.fused_projections:
            up = [_linear(f"{prefix}gate_up_proj", hidden, 2 * width, count, bias)]
        else:
            up = [_linear(f"{prefix}{name}", hidden, width, count, bias) for name in ("gate_proj", "up_proj")]
        return [*up, _linear(f"{prefix}down_proj", width, hidden, count, bias)]

    def _experts(self) -> list[LinearSpec]:
        hidden, width, moe = self.hidden_size, self.moe_intermediate_size, self.moe_layers
        copies = moe * self.num_experts
        specs = [
            _linear("gate", hidden, self.num_experts, moe, kind="router"),
            _linear("experts.gate_up_proj", hidden, 2 * width, copies, kind="experts"),
            _linear("experts.down_proj", width, hidden, copies, kind="experts"),
        ]
        if self.shared_expert_intermediate_size:
            specs += self._mlp("shared_expert.", self.shared_expert_intermediate_size, moe)
            specs.append(_linear("shared_expert_gate", hidden, 1, moe))
        return specs

    @property
    def embedding_params(self) -> int:
        return self.vocab_size * self.hidden_size

    @property
    def lm_head_params(self) -> int:
        """0 when tied: the output projection reuses the embedding matrix."""
        return 0 if self.tie_word_embeddings else self.vocab_size * self.hidden_size

    @property
    def norm_params(self) -> int:
        """RMSNorm weights: per layer, plus the final norm."""
        per_layer = (4 if self.sandwich_norms else 2) * self.hidden_size
        per_layer += 2 * self.head_dim if self.qk_norm else 0
        return self.num_layers * per_layer + self.hidden_size

    @property
    def total_params(self) -> int:
        """Exactly what sum(p.numel() for p in model.parameters()) gives in transformers."""
        linear = sum(spec.params for spec in self.linear_layers())
        return self.embedding_params + self.lm_head_params + self.norm_params + linear

    @property
    def active_params(self) -> int:
        """Parameters one token passes through: the routed top-k experts, not all of them."""
        idle_experts = self.num_experts - self.num_experts_per_tok
        per_expert = 3 * self.hidden_size * self.moe_intermediate_size
        return self.total_params - self.moe_layers * idle_experts * per_expert

    @classmethod
    def from_hf_config(cls, config: dict[str, Any], name: str) -> ModelShape:
        """Read a config.json dict (a multimodal one through its text_config: the language model only).

        Raises UnsupportedModelError, saying what is wrong and what to do, for anything else.
        """
        fields = read_family_fields(config)
        fields["stored_quantization"] = read_stored_quantization(config)
        try:
            return cls(name=name, **fields)
        except ValidationError as exc:  # a bound read_family_fields does not check: name the config.json key
            problem = exc.errors()[0]
            field = str(problem["loc"][0]) if problem["loc"] else "a field"
            key = _CONFIG_KEYS.get(field, field)
            raise UnsupportedModelError(
                f"config.json's {key} gives an impossible shape ({problem['msg'].lower()}, got "
                f"{str(problem.get('input'))[:40]}): download config.json again, or check the folder holds "
                "the model you meant"
            ) from None


__all__ = ["FAMILIES", "LinearSpec", "ModelShape", "StoredQuantization", "UnsupportedModelError"]
