"""What tuiapp/core/estimate/moe_notes.py says about MoE models, checked on a tiny random Mixtral on CPU with
the installed transformers, bitsandbytes and PEFT (Unsloth is not imported: it patches this process)."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("bitsandbytes")


@pytest.fixture(scope="module")
def tiny_mixtral(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import MixtralConfig, MixtralForCausalLM

    config = MixtralConfig(
        vocab_size=128,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        num_local_experts=4,
        num_experts_per_tok=2,
        max_position_embeddings=256,
    )
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("mixtral") / "tiny"
    MixtralForCausalLM(config).to(torch.bfloat16).save_pretrained(folder)
    return folder


def load_4bit(folder: Path) -> torch.nn.Module:
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    quant = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
    )
    return AutoModelForCausalLM.from_pretrained(
        folder, quantization_config=quant, dtype=torch.bfloat16, device_map={"": "cpu"}
    )


def test_load_in_4bit_quantizes_attention_and_leaves_the_fused_experts_bf16(tiny_mixtral: Path) -> None:
    model = load_4bit(tiny_mixtral)
    params = dict(model.named_parameters())
    layer = "model.layers.0"
    assert type(params[f"{layer}.self_attn.q_proj.weight"]).__name__ == "Params4bit"
    assert params[f"{layer}.self_attn.q_proj.weight"].dtype == torch.uint8
    for name in ("gate_up_proj", "down_proj"):
        expert = params[f"{layer}.mlp.experts.{name}"]
        assert type(expert).__name__ == "Parameter" and expert.dtype == torch.bfloat16 and expert.dim() == 3


def test_a_checkpoint_saved_so_keeps_16bit_experts(tiny_mixtral: Path, tmp_path: Path) -> None:
    """A pre-quantized checkpoint written by transformers 5 is no way out: its experts are stored 16-bit."""
    from safetensors import safe_open

    load_4bit(tiny_mixtral).save_pretrained(tmp_path / "saved")
    with safe_open(str(tmp_path / "saved" / "model.safetensors"), "pt") as stored:
        experts = [key for key in stored.keys() if ".experts." in key and key.endswith(".weight")]  # noqa: SIM118
        assert experts and all(stored.get_slice(key).get_dtype() == "BF16" for key in experts)
        assert stored.get_slice("model.layers.0.self_attn.q_proj.weight").get_dtype() == "U8"


def test_a_transformers_4_layout_4bit_checkpoint_cannot_run_on_plain_transformers_5(
    tiny_mixtral: Path, tmp_path: Path
) -> None:
    """Each expert's w1/w2/w3 stored as 4-bit (transformers 4's layout, as Unsloth's Mixtral bnb-4bit mirrors
    were saved): transformers 5 merges the packed bytes into gate_up_proj as if they were 16-bit."""
    import bitsandbytes.functional as bnbf
    from safetensors.torch import load_file, save_file
    from transformers import AutoModelForCausalLM

    saved = tmp_path / "legacy"
    load_4bit(tiny_mixtral).save_pretrained(saved)
    tensors = load_file(str(saved / "model.safetensors"))
    for key in [key for key in tensors if ".experts." in key and key.endswith(".weight")]:
        packed, state = bnbf.quantize_4bit(tensors[key], blocksize=64, compress_statistics=True, quant_type="nf4")
        tensors[key] = packed
        tensors |= {f"{key}.{name}": value for name, value in state.as_dict(packed=True).items()}
    save_file(tensors, str(saved / "model.safetensors"), metadata={"format": "pt"})
    model = AutoModelForCausalLM.from_pretrained(saved, device_map={"": "cpu"})
    assert dict(model.named_parameters())["model.layers.0.mlp.experts.gate_up_proj"].dtype == torch.uint8
    with pytest.raises(RuntimeError):
        model(torch.tensor([[1, 2, 3]]))


def test_peft_all_linear_puts_lora_on_the_expert_tensors(tiny_mixtral: Path) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_mixtral), LoraConfig(r=4, target_modules="all-linear")
    )
    config = model.peft_config["default"]
    assert {"gate_up_proj", "down_proj"} <= set(config.target_parameters)
    trained = {name for name, param in model.named_parameters() if param.requires_grad}
    assert any(".mlp.experts.lora_A." in name for name in trained)
