"""The offline model catalogue: complete entries, unique names, lookups, and the published sizes."""

from __future__ import annotations

import pytest

from tuiapp.core.models import ModelShape
from tuiapp.core.models.catalog import find_in_catalog, model_catalog

# Parameter counts as the model cards and the Hub's safetensors metadata give them (tied embeddings
# counted once): a typo in a catalogue number moves these, whereas the meta-model test cannot notice it.
PUBLISHED = {
    "meta-llama/Llama-3.1-8B-Instruct": 8_030_261_248,
    "meta-llama/Llama-3.1-70B-Instruct": 70_553_706_496,
    "meta-llama/Llama-3.2-1B-Instruct": 1_235_814_400,
    "meta-llama/Llama-3.2-3B-Instruct": 3_212_749_824,
    "Qwen/Qwen2.5-0.5B-Instruct": 494_032_768,
    "Qwen/Qwen2.5-1.5B-Instruct": 1_543_714_304,
    "Qwen/Qwen2.5-3B-Instruct": 3_085_938_688,
    "Qwen/Qwen2.5-7B-Instruct": 7_615_616_512,
    "Qwen/Qwen2.5-14B-Instruct": 14_770_033_664,
    "Qwen/Qwen2.5-32B-Instruct": 32_763_876_352,
    "Qwen/Qwen2.5-72B-Instruct": 72_706_203_648,
    "Qwen/Qwen3-8B": 8_190_735_360,
    "Qwen/Qwen3-30B-A3B": 30_532_122_624,
    "mistralai/Mixtral-8x7B-Instruct-v0.1": 46_702_792_704,
    "mistralai/Mistral-7B-Instruct-v0.3": 7_248_023_552,
    "mistralai/Mistral-Nemo-Instruct-2407": 12_247_782_400,
    "mistralai/Mistral-Small-24B-Instruct-2501": 23_572_403_200,
    "google/gemma-2-2b-it": 2_614_341_888,
    "google/gemma-2-9b-it": 9_241_705_984,
    "google/gemma-2-27b-it": 27_227_128_320,
    "google/gemma-3-1b-it": 999_885_952,
    "microsoft/Phi-3.5-mini-instruct": 3_821_079_552,
    "microsoft/phi-4": 14_659_507_200,
    "HuggingFaceTB/SmolLM2-135M-Instruct": 134_515_008,
    "HuggingFaceTB/SmolLM2-360M-Instruct": 361_821_120,
    "HuggingFaceTB/SmolLM2-1.7B-Instruct": 1_711_376_384,
    "TinyLlama/TinyLlama-1.1B-Chat-v1.0": 1_100_048_384,
}


def test_catalogue_covers_the_popular_families() -> None:
    entries = model_catalog()
    assert len(entries) >= 25
    families = {entry.config["model_type"] for entry in entries}
    assert {
        "llama",
        "qwen2",
        "qwen3",
        "qwen3_moe",
        "mixtral",
        "mistral",
        "gemma2",
        "gemma3_text",
        "phi3",
    } <= families


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_catalogue_numbers_reproduce_the_published_parameter_count(name: str) -> None:
    entry = find_in_catalog(name)
    assert entry is not None
    assert ModelShape.from_hf_config(entry.config, name=name).total_params == PUBLISHED[name]


def test_every_entry_has_license_gating_and_the_fields_the_shape_reads() -> None:
    for entry in model_catalog():
        assert entry.license and isinstance(entry.gated, bool), entry.name
        assert entry.config["architectures"] and entry.config["model_type"], entry.name
        shape = ModelShape.from_hf_config(entry.config, name=entry.name)
        assert shape.max_position_embeddings >= 2048, entry.name


def test_names_and_aliases_are_unique() -> None:
    keys = [key for entry in model_catalog() for key in set(entry.lookup_keys)]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    assert duplicates == []


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B-Instruct"),
        ("META-LLAMA/llama-3.1-8b-instruct", "meta-llama/Llama-3.1-8B-Instruct"),
        ("Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B-Instruct"),  # the id without its owner
        ("qwen2.5-7b-instruct", "Qwen/Qwen2.5-7B-Instruct"),
        ("Qwen2.5-7B", "Qwen/Qwen2.5-7B-Instruct"),  # alias, any case
        ("  mixtral ", "mistralai/Mixtral-8x7B-Instruct-v0.1"),
        ("TinyLlama", "TinyLlama/TinyLlama-1.1B-Chat-v1.0"),
    ],
)
def test_find_in_catalog_matches_ids_and_aliases_case_insensitively(query: str, name: str) -> None:
    entry = find_in_catalog(query)
    assert entry is not None and entry.name == name


@pytest.mark.parametrize("query", ["", "llama", "Qwen/Qwen2.5-7B", "org/unknown-model"])
def test_find_in_catalog_returns_none_for_unknown_or_partial_names(query: str) -> None:
    assert find_in_catalog(query) is None
