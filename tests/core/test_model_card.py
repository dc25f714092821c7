"""The model card's text: metadata that huggingface_hub's ModelCard reads back, per kind of upload, and a body
that states the run's facts and nothing of this machine's."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from tuiapp.core.config import validate_config
from tuiapp.core.hub.base_model import BaseLicense
from tuiapp.core.hub.card_facts import CardFacts, PushKind, training_figures
from tuiapp.core.hub.card_snippets import quant_label
from tuiapp.core.hub.model_card import render_model_card
from tuiapp.core.hub.public_config import public_config
from tuiapp.core.runs.follow import read_events

RECORDED = Path(__file__).parents[1] / "fixtures" / "runs" / "tiny-llama-lora" / "events.jsonl"


def _facts(kind: PushKind = "adapter", method: str = "lora", **changes: object) -> CardFacts:
    config = validate_config(
        {
            "model": {"name_or_path": "acme/tiny-base"},
            "method": method,
            "dataset": {"source": "acme/chats", "format": "messages", "eval_size": 0.1},
            "training": {"max_steps": 40, "eval_steps": 10},
            "output": {"runs_root": "/home/ada/runs"},
        }
    )
    public = public_config(config, "alice/tiny")
    facts = CardFacts(
        repo_id="alice/tiny",
        kind=kind,
        config=public.config,
        config_yaml=public.yaml_text,
        config_changes=public.changes,
        base_model="acme/tiny-base",
        base_label="acme/tiny-base",
        license=BaseLicense("apache-2.0"),
        dataset_id="acme/chats",
        figures=training_figures(read_events(RECORDED)),
        files=["adapter_model.safetensors", "tokenizer.json"],
        has_chat_template=True,
        loss_curve="loss_curve.png",
    )
    return dataclasses.replace(facts, **changes)  # type: ignore[arg-type]


def _card(facts: CardFacts) -> Any:
    from huggingface_hub import ModelCard

    return ModelCard(render_model_card(facts))


@pytest.mark.parametrize(
    ("kind", "library", "relation"),
    [("adapter", "peft", "adapter"), ("full", "transformers", "finetune"), ("merged", "transformers", "finetune")],
)
def test_metadata_parses_back_with_huggingface_hub(kind: PushKind, library: str, relation: str) -> None:
    data = _card(_facts(kind)).data
    assert data.base_model == "acme/tiny-base"
    assert data.base_model_relation == relation
    assert data.library_name == library
    assert data.license == "apache-2.0"
    assert data.datasets == ["acme/chats"]
    assert data.pipeline_tag == "text-generation"
    assert {"ftwizard", "lora", "sft", "trl"} <= set(data.tags)


def test_gguf_is_a_finetune_of_the_base_unless_its_merged_model_was_pushed() -> None:
    files = ["tiny-Q4_K_M.gguf", "Modelfile"]
    alone = _card(_facts("gguf", files=files)).data
    assert (alone.library_name, alone.base_model, alone.base_model_relation) == ("gguf", "acme/tiny-base", "finetune")
    assert "gguf" in alone.tags
    pushed = _card(_facts("gguf", files=files, quantized_from="alice/tiny-merged")).data
    assert (pushed.base_model, pushed.base_model_relation) == ("alice/tiny-merged", "quantized")


def test_unknown_facts_are_left_out_not_guessed() -> None:
    facts = _facts(base_model=None, base_label="tiny-llama", license=None, dataset_id=None)
    data = _card(facts).data.to_dict()
    assert not {"base_model", "base_model_relation", "license", "datasets"} & set(data)
    text = render_model_card(facts)
    assert "`tiny-llama` (a local model folder)" in text
    assert "path/to/your/copy/of/tiny-llama" in text  # the PEFT snippet loads the reader's copy of the base


def test_body_states_the_run() -> None:
    text = render_model_card(_facts())
    for expected in (
        "LoRA (16-bit base)",
        "supervised fine-tuning",
        "transformers + PEFT + TRL",
        "| LoRA rank (r) | 16 |",
        "| Learning rate | 0.0002 |",
        "CPU (2 cores)",
        "not measured (no CUDA GPU)",
        "0:00:33 (40 of 40 steps)",
        "| Train loss (mean over the run) | 5.7835 |",
        "| Eval loss at step 40 | 5.4858 |",
        "![Train and eval loss by step](loss_curve.png)",
        "- peft 0.21.2",
        "ftwizard train config.yaml",
        'AutoPeftModelForCausalLM.from_pretrained("alice/tiny"',
        "apply_chat_template",
    ):
        assert expected in text, expected
    assert "/home/ada" not in text  # the runs folder is dropped from the published config
    assert "runs_root: null" in text


def test_gpu_hardware_and_peak_memory() -> None:
    gpu = {"device": "cuda", "gpus": [{"name": "NVIDIA H200", "memory_bytes": 150_000_000_000}], "cuda": "12.8"}
    figures = dataclasses.replace(_facts().figures, hardware=gpu, peak_memory_bytes=20 * 1024**3, tokens=90_000)
    text = render_model_card(_facts(figures=figures))
    assert "1 x NVIDIA H200 (140 GiB), CUDA 12.8" in text
    assert "20.00 GiB (reserved by PyTorch)" in text
    assert "90,000 (" in text


def test_merge_notes_are_in_the_card() -> None:
    note = "trained on a 4-bit base, merged onto the 16-bit base: expect small differences from the adapter"
    text = render_model_card(_facts("merged", method="qlora", action_facts={"dtype": "bf16"}, action_notes=[note]))
    assert "## How it was merged" in text and "| dtype | bf16 |" in text
    assert f"> **Note:** {note}" in text
    assert 'AutoModelForCausalLM.from_pretrained("alice/tiny"' in text


def test_qlora_adapter_says_how_to_load_its_base_in_4_bit() -> None:
    assert "BitsAndBytesConfig(load_in_4bit=True" in render_model_card(_facts(method="qlora"))


def test_gguf_snippets() -> None:
    files = ["tiny-Q4_K_M.gguf", "Modelfile"]
    text = render_model_card(_facts("gguf", files=files, action_facts={"quant": "q4_k_m"}))
    assert "ollama run hf.co/alice/tiny:Q4_K_M" in text
    assert "llama-cli -hf alice/tiny:Q4_K_M" in text
    assert "ollama create tiny -f Modelfile" in text
    hosted = render_model_card(_facts("gguf", files=files, endpoint="https://hub.example.com"))
    assert "hf.co/" not in hosted  # Ollama's shortcut reaches huggingface.co only
    assert "HF_ENDPOINT=https://hub.example.com hf download alice/tiny" in hosted


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("m-Q4_K_M.gguf", "Q4_K_M"),
        ("m-q8_0.gguf", "Q8_0"),
        ("m-f16.gguf", "F16"),
        ("m-BF16.gguf", "BF16"),
        ("m.gguf", None),
    ],
)
def test_quant_label_from_file_name(name: str, label: str | None) -> None:
    assert quant_label(_facts("gguf"), name) == label


def test_same_facts_same_card() -> None:
    assert render_model_card(_facts()) == render_model_card(_facts())  # a rerun changes nothing on the Hub
