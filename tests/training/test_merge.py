"""The merge action on the tiny models: the merged model computes what base + adapter compute (LoRA, DoRA,
QLoRA and 8-bit adapters onto the 16-bit base), with its tokenizer, grown vocabulary and output folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from adapter_runs import base_plus_adapter_logits, leftovers, make_adapter_run, merge, model_logits

from tuiapp.core.models.stored_size import read_header
from tuiapp.core.runs.action_events import ActionDone

# A merged model in dtype D rounds W + s*B*A to D once; base + adapter rounds W to D and adds the adapter's
# output on the side. Both are within a few units of D's machine epsilon of the exact (fp32) answer, relative
# to the logits' size: measured on these models 3-5 eps x max|logit| (bf16 ~0.09, fp16 ~0.016 at |logit| ~3.4).
# TOLERANCE_EPS = 10 leaves room for that while staying far below what the adapter changes (~4.5, checked).
TOLERANCE_EPS = 10
SAFETENSORS_DTYPE = {"bf16": "BF16", "fp16": "F16"}


def torch_dtype(name: str) -> Any:
    import torch

    return {"bf16": torch.bfloat16, "fp16": torch.float16}[name]


def qlora_supported() -> str | None:
    """Why bitsandbytes cannot load a 4-bit model on this CPU, or None when it can."""
    try:
        import bitsandbytes  # noqa: F401
        import torch
        from bitsandbytes.functional import dequantize_4bit, quantize_4bit
        from transformers import BitsAndBytesConfig  # noqa: F401

        weight = torch.randn(64, 64, dtype=torch.bfloat16)
        packed, state = quantize_4bit(weight, quant_type="nf4")
        dequantize_4bit(packed, state)
    except Exception as exc:  # any failure means: no CPU 4-bit here
        return f"bitsandbytes cannot quantize to 4-bit on this CPU: {type(exc).__name__}: {exc}"
    return None


CASES = [
    pytest.param("lora", False, "bf16", id="lora-bf16"),
    pytest.param("lora", False, "fp16", id="lora-fp16"),
    pytest.param("lora", True, "bf16", id="dora-bf16"),
    pytest.param("qlora", False, "bf16", id="qlora-bf16"),
    pytest.param("lora8", False, "fp16", id="lora8-fp16"),
]


@pytest.mark.parametrize(("method", "dora", "dtype"), CASES)
def test_merged_model_computes_base_plus_adapter(
    tmp_path: Path, tiny_model_dir: Path, method: str, dora: bool, dtype: str
) -> None:
    import torch

    if method == "qlora" and (reason := qlora_supported()):
        pytest.skip(reason)
    paths = make_adapter_run(tmp_path / "run", tiny_model_dir, method, dora)
    final = merge(paths, {"dtype": dtype})
    assert isinstance(final, ActionDone), final

    reference = base_plus_adapter_logits(tiny_model_dir, paths.final, torch_dtype(dtype))
    merged = model_logits(paths.merged, torch_dtype(dtype))
    base_only = model_logits(tiny_model_dir, torch_dtype(dtype))
    tolerance = TOLERANCE_EPS * torch.finfo(torch_dtype(dtype)).eps * reference.abs().max().item()
    gap = (merged - reference).abs().max().item()
    assert gap <= tolerance, f"max |logit difference| {gap:.4f} over {tolerance:.4f}"
    assert (base_only - reference).abs().max().item() > 10 * tolerance  # the adapter matters: a lost one fails

    shards = sorted(paths.merged.glob("*.safetensors"))
    assert {t["dtype"] for s in shards for t in read_header(s).values()} == {SAFETENSORS_DTYPE[dtype]}
    assert not (paths.merged / "adapter_config.json").exists()
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(paths.merged)
    assert tokenizer.chat_template == AutoTokenizer.from_pretrained(paths.final).chat_template
    facts = final.facts
    assert (facts["method"], facts["dora"], facts["dtype"], facts["device"]) == (method, dora, dtype, "cpu")
    assert facts["base_model"] == str(tiny_model_dir) and facts["adapter"] == "final"
    assert facts["bytes"] == sum(p.stat().st_size for p in paths.merged.iterdir()) and facts["shards"] == 1
    quantized_note = [note for note in final.notes if "is merged onto its 16-bit weights" in note]
    assert bool(quantized_note) == (method in ("qlora", "lora8"))
    assert not any(str(tmp_path) in note or str(tiny_model_dir) in note for note in final.notes)  # cards repeat them
    assert leftovers(paths.root) == []


def test_qlora_merge_lands_near_the_4bit_model_it_was_trained_with(tmp_path: Path, tiny_model_dir: Path) -> None:
    """The 16-bit merge differs from the 4-bit base + adapter by the base's quantization error only: closer
    to it than the base without the adapter is."""
    if reason := qlora_supported():
        pytest.skip(reason)
    import torch
    from adapter_runs import logits_of
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    paths = make_adapter_run(tmp_path / "run", tiny_model_dir, "qlora")
    assert isinstance(merge(paths), ActionDone)
    quantization = BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16
    )
    four_bit = AutoModelForCausalLM.from_pretrained(
        tiny_model_dir, quantization_config=quantization, device_map={"": "cpu"}, dtype=torch.bfloat16
    )
    trained_with = logits_of(PeftModel.from_pretrained(four_bit, str(paths.final)), tiny_model_dir)
    merged = model_logits(paths.merged, torch.bfloat16)
    base_only = model_logits(tiny_model_dir, torch.bfloat16)
    assert (merged - trained_with).abs().mean() < 0.5 * (base_only - trained_with).abs().mean()


def test_grown_vocabulary_is_merged_with_its_embeddings(tmp_path: Path, tiny_model_dir: Path) -> None:
    """Training added a token (a chat template's) and grew the embeddings; PEFT saved them with the adapter."""
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    paths = make_adapter_run(tmp_path / "run", tiny_model_dir)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|new_turn|>"]})
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    base.resize_token_embeddings(len(tokenizer))
    torch.manual_seed(3)
    model = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    model.save_pretrained(paths.final, save_embedding_layers=True)
    tokenizer.save_pretrained(paths.final)

    assert isinstance(merge(paths), ActionDone)
    merged = AutoModelForCausalLM.from_pretrained(paths.merged, dtype=torch.bfloat16)
    assert (
        merged.get_input_embeddings().weight.shape[0]
        == len(tokenizer)
        == len(AutoTokenizer.from_pretrained(paths.merged))
    )
    grown = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.bfloat16)
    grown.resize_token_embeddings(len(tokenizer))
    reference = PeftModel.from_pretrained(grown, str(paths.final))
    new_token = tokenizer.convert_tokens_to_ids("<|new_turn|>")
    ids = torch.tensor([[new_token, 5, 6, 7]])
    with torch.no_grad():
        gap = (merged(ids).logits.float() - reference(ids).logits.float()).abs().max().item()
    assert gap <= TOLERANCE_EPS * torch.finfo(torch.bfloat16).eps * 4


def test_output_folder_elsewhere(tmp_path: Path, tiny_model_dir: Path) -> None:
    paths = make_adapter_run(tmp_path / "run", tiny_model_dir)
    out = tmp_path / "exports" / "my-model"
    final = merge(paths, {"out": str(out)})
    assert isinstance(final, ActionDone) and final.outputs == [str(out)]
    assert (out / "config.json").is_file() and not paths.merged.exists()
    assert leftovers(out.parent) == []


@pytest.mark.slow
def test_trained_demo_run_merges_and_generates(tmp_path: Path, tiny_model_dir: Path) -> None:
    """End to end: the demo config trained for real by the worker, merged in a child like the Finish screen's."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from worker_runs import run_to_end

    from tuiapp.core.config import with_changes
    from tuiapp.core.demo import demo_config
    from tuiapp.core.runs.launcher import prepare_run

    config = with_changes(demo_config(tiny_model_dir), {"training.max_steps": 10, "training.eval_steps": None})
    paths = prepare_run(config, runs_dir=str(tmp_path / "runs"))
    assert run_to_end(paths, timeout_s=300)[0] == 0, paths.log.read_text()[-2000:]
    done = subprocess.run(
        [sys.executable, "-m", "tuiapp.training.action_main", "merge", str(paths.root), "{}"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    reference = base_plus_adapter_logits(tiny_model_dir, paths.final, torch.bfloat16)
    merged_logits = model_logits(paths.merged, torch.bfloat16)
    assert (merged_logits - reference).abs().max() <= TOLERANCE_EPS * 0.0078125 * reference.abs().max()
    tokenizer = AutoTokenizer.from_pretrained(paths.merged)
    model = AutoModelForCausalLM.from_pretrained(paths.merged, dtype=torch.bfloat16)
    ids = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Hi"}], add_generation_prompt=True, return_tensors="pt"
    )
    out = model.generate(ids if isinstance(ids, torch.Tensor) else ids["input_ids"], max_new_tokens=5, do_sample=False)
    assert out.shape[1] > 0


def test_sentencepiece_model_travels_with_the_merge(tmp_path: Path, tiny_model_dirs: dict[str, Path]) -> None:
    """transformers 5 saves only tokenizer.json beside the adapter; the merged folder also gets the base's
    tokenizer.model (llama.cpp's GGUF converter reads it) and tokenizes exactly as final/ does."""
    if "llama-sp" not in tiny_model_dirs:
        pytest.skip("this checkout's tiny models have no SentencePiece tokenizer (tokenizer='sentencepiece')")
    from adapter_runs import PROMPT
    from transformers import AutoTokenizer

    model_dir = tiny_model_dirs["llama-sp"]
    paths = make_adapter_run(tmp_path / "run", model_dir)
    assert isinstance(merge(paths), ActionDone)
    assert (paths.merged / "tokenizer.model").read_bytes() == (model_dir / "tokenizer.model").read_bytes()
    merged, final = AutoTokenizer.from_pretrained(paths.merged), AutoTokenizer.from_pretrained(paths.final)
    assert merged(PROMPT).input_ids == final(PROMPT).input_ids
    assert merged.chat_template == final.chat_template and merged.eos_token == final.eos_token
