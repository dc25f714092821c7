"""The offline model catalogue: complete entries, unique names, lookups, and the published sizes."""

from __future__ import annotations

import pytest

from tuiapp.core.models import ModelShape
from tuiapp.core.models.catalog import catalog_names, derived_entries, find_in_catalog, model_catalog

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


@pytest.mark.parametrize("query", ["", "llama", "Qwen/Qwen2.5-7", "org/unknown-model", "unsloth/SmolLM2-135M"])
def test_find_in_catalog_returns_none_for_unknown_or_partial_names(query: str) -> None:
    assert find_in_catalog(query) is None


# The base ids' figures as Lightning-AI/litgpt's litgpt/config.py gives them (commit 26857050, 2026-06-29; each
# entry copied from the base repo's config.json): layers, hidden, heads, kv heads, MLP width, vocabulary,
# context. A second source for what the catalogue derives from the instruct entries.
LITGPT = {
    "meta-llama/Llama-3.1-8B": (32, 4096, 32, 8, 14336, 128256, 131072),
    "meta-llama/Llama-3.1-70B": (80, 8192, 64, 8, 28672, 128256, 131072),
    "meta-llama/Llama-3.2-1B": (16, 2048, 32, 8, 8192, 128256, 131072),
    "meta-llama/Llama-3.2-3B": (28, 3072, 24, 8, 8192, 128256, 131072),
    "Qwen/Qwen2.5-0.5B": (24, 896, 14, 2, 4864, 151936, 32768),
    "Qwen/Qwen2.5-1.5B": (28, 1536, 12, 2, 8960, 151936, 131072),
    "Qwen/Qwen2.5-3B": (36, 2048, 16, 2, 11008, 151936, 32768),
    "Qwen/Qwen2.5-7B": (28, 3584, 28, 4, 18944, 152064, 131072),
    "Qwen/Qwen2.5-14B": (48, 5120, 40, 8, 13824, 152064, 131072),
    "Qwen/Qwen2.5-32B": (64, 5120, 40, 8, 27648, 152064, 131072),
    "Qwen/Qwen2.5-72B": (80, 8192, 64, 8, 29568, 152064, 131072),
    "Qwen/Qwen3-0.6B-Base": (28, 1024, 16, 8, 3072, 151936, 40960),
    "Qwen/Qwen3-1.7B-Base": (28, 2048, 16, 8, 6144, 151936, 40960),
    "Qwen/Qwen3-4B-Base": (36, 2560, 32, 8, 9728, 151936, 40960),
    "Qwen/Qwen3-8B-Base": (36, 4096, 32, 8, 12288, 151936, 40960),
    "Qwen/Qwen3-14B-Base": (40, 5120, 40, 8, 17408, 151936, 40960),
    "Qwen/Qwen3-30B-A3B-Base": (48, 2048, 32, 4, 6144, 151936, 40960),
    "mistralai/Mixtral-8x7B-v0.1": (32, 4096, 32, 8, 14336, 32000, 32768),
    "mistralai/Mistral-7B-v0.3": (32, 4096, 32, 8, 14336, 32768, 32768),
    "google/gemma-2-2b": (26, 2304, 8, 4, 9216, 256000, 8192),
    "google/gemma-2-9b": (42, 3584, 16, 8, 14336, 256000, 8192),
    "google/gemma-2-27b": (46, 4608, 32, 16, 36864, 256000, 8192),
    "HuggingFaceTB/SmolLM2-135M": (30, 576, 9, 3, 1536, 49152, 8192),
    "HuggingFaceTB/SmolLM2-360M": (32, 960, 15, 5, 2560, 49152, 8192),
    "HuggingFaceTB/SmolLM2-1.7B": (24, 2048, 32, 32, 8192, 49152, 8192),
    "TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T": (22, 2048, 32, 4, 5632, 32000, 2048),
}


@pytest.mark.parametrize("name", sorted(LITGPT))
def test_base_ids_answer_offline_with_their_own_figures(name: str) -> None:
    entry = find_in_catalog(name)
    assert entry is not None and entry.name == name and entry.derived_from is not None
    shape = ModelShape.from_hf_config(entry.config, name=name)
    got = (shape.num_layers, shape.hidden_size, shape.num_attention_heads, shape.num_key_value_heads)
    width = entry.config["intermediate_size"]  # the config's dense MLP width (Mixtral's is its experts')
    assert (*got, width, shape.vocab_size, shape.max_position_embeddings) == LITGPT[name]
    listed = find_in_catalog(entry.derived_from)
    assert listed is not None and (entry.license, entry.gated) == (listed.license, listed.gated)


def test_every_family_has_a_base_id_and_qwen25_bases_keep_their_longer_context() -> None:
    families = {entry.config["model_type"] for entry in model_catalog() if entry.base}
    assert {"llama", "qwen2", "qwen3", "qwen3_moe", "mixtral", "mistral", "gemma2"} <= families
    assert find_in_catalog("Qwen/Qwen2.5-7B").config["max_position_embeddings"] == 131072
    assert find_in_catalog("Qwen/Qwen2.5-7B-Instruct").config["max_position_embeddings"] == 32768


def test_a_bnb_4bit_mirror_carries_the_quantization_config_its_file_has() -> None:
    mirror = find_in_catalog("unsloth/Llama-3.1-8B-Instruct-bnb-4bit")
    assert mirror is not None and mirror.derived_from == "meta-llama/Llama-3.1-8B-Instruct"
    assert mirror.gated is False and mirror.license == "llama3.1"
    quant = mirror.config["quantization_config"]
    assert quant["quant_method"] == "bitsandbytes" and quant["load_in_4bit"] is True
    assert (quant["bnb_4bit_quant_type"], quant["bnb_4bit_use_double_quant"]) == ("nf4", True)
    assert (quant["bnb_4bit_compute_dtype"], quant["bnb_4bit_quant_storage"]) == ("bfloat16", "uint8")
    shape = ModelShape.from_hf_config(mirror.config, name=mirror.name)
    assert shape.stored_quantization is not None and shape.stored_quantization.format == "bnb-4bit"
    dynamic = find_in_catalog("unsloth/Llama-3.1-8B-unsloth-bnb-4bit")
    assert dynamic is not None and "lm_head" in dynamic.config["quantization_config"]["llm_int8_skip_modules"]
    assert any("dynamic 4-bit" in note for note in dynamic.notes)
    plain = find_in_catalog("unsloth/Llama-3.1-8B")  # the 16-bit mirror of the base
    assert plain is not None and "quantization_config" not in plain.config
    assert find_in_catalog("unsloth/mistral-7b-v0.3") is not None  # Unsloth's own spelling


def test_aliases_keep_their_meaning_and_full_ids_are_unique() -> None:
    assert find_in_catalog("qwen2.5-7b").name == "Qwen/Qwen2.5-7B-Instruct"  # the alias, as before
    assert find_in_catalog("Mixtral-8x7B-v0.1").name == "mistralai/Mixtral-8x7B-v0.1"  # a base without its owner
    names = [name.lower() for name in catalog_names()]
    assert len(names) == len(set(names))
    assert len(derived_entries()) >= 3 * len(model_catalog())


def _unsloth_name_map() -> dict[str, set[str]]:
    """Unsloth's own map of mirror names (unsloth/models/mapper.py), read as data without importing Unsloth:
    each name -> the names it is listed with."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec("unsloth")
    if spec is None or spec.origin is None:
        pytest.skip("Unsloth is not installed: its mapper is the check for the mirror names")
    from pathlib import Path

    tree = ast.parse((Path(spec.origin).parent / "models" / "mapper.py").read_text(encoding="utf-8"))
    together: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                group = {
                    n.value.lower() for n in ast.walk(value) if isinstance(n, ast.Constant) and isinstance(n.value, str)
                }
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    group.add(key.value.lower())
                for name in group:
                    together.setdefault(name, set()).update(group)
    return together


def test_every_mirror_is_one_unsloth_lists_beside_its_original() -> None:
    together = _unsloth_name_map()
    mirrors = [entry for entry in derived_entries() if entry.name.startswith("unsloth/")]
    assert len(mirrors) > 100
    for mirror in mirrors:
        original = mirror.notes[0].removeprefix("a mirror of ").removesuffix(" by Unsloth").lower()
        assert mirror.name.lower() in together, mirror.name
        # Meta renamed its Llama 3.1 repos (Meta-Llama-3.1-70B-Instruct -> Llama-3.1-70B-Instruct; the Hub redirects)
        listed_with = {
            name.replace("meta-llama/meta-llama-", "meta-llama/llama-") for name in together[mirror.name.lower()]
        }
        assert original in listed_with, (mirror.name, original)
