"""What a merge leaves in its folder: the generation config, the tokenizer and chat template as training saved them
(and none of the adapter's or trainer's files); and, with a small shard size (merge_action.SHARD_SIZE, 5GB for
real), several safetensors shards plus model.safetensors.index.json that reload into the very model the
single-file merge wrote."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from adapter_runs import PROMPT, leftovers, make_adapter_run, merge, model_logits

from tuiapp.core.models.stored_size import read_header
from tuiapp.core.runs.action_events import ActionDone
from tuiapp.core.runs.layout import RunPaths
from tuiapp.training import merge_action

SMALL_SHARDS = "100KB"  # the tiny llama is ~280 kB in bf16: a handful of shards
SMALL_SHARD_BYTES = 100_000  # what save_pretrained reads "100KB" as
INDEX = "model.safetensors.index.json"
TRAINER_FILES = {"training_args.bin": b"pickled trainer arguments", "README.md": "# PEFT's adapter card\n"}


@pytest.fixture(scope="module")
def adapter_run(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> RunPaths:
    """A LoRA run whose final/ also holds what TRL leaves beside the adapter (its arguments, PEFT's card)."""
    paths = make_adapter_run(tmp_path_factory.mktemp("merge_files") / "run", tiny_model_dir)
    for name, content in TRAINER_FILES.items():
        target = paths.final / name
        target.write_bytes(content) if isinstance(content, bytes) else target.write_text(content, encoding="utf-8")
    return paths


@pytest.fixture(scope="module")
def single_merge(adapter_run: RunPaths) -> ActionDone:
    """The merge with the real shard size, into RUN/merged."""
    final = merge(adapter_run)
    assert isinstance(final, ActionDone), final
    return final


def tensors_by_shard(folder: Path) -> dict[str, set[str]]:
    """Each safetensors file in `folder` -> the tensor names its header lists."""
    return {p.name: set(read_header(p)) for p in sorted(folder.glob("*.safetensors"))}


def test_the_merged_folder_has_generation_config_tokenizer_and_chat_template(
    adapter_run: RunPaths, single_merge: ActionDone, tiny_model_dir: Path
) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    merged, final = adapter_run.merged, adapter_run.final
    names = {p.name for p in merged.iterdir()}
    assert {"config.json", "generation_config.json", "model.safetensors"} <= names, names
    assert {"tokenizer.json", "tokenizer_config.json", "chat_template.jinja"} <= names, names
    assert not [n for n in names if n.startswith("adapter_") or n in TRAINER_FILES], names
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):  # copied as training saved them
        assert (merged / name).read_bytes() == (final / name).read_bytes(), name

    tokenizer, trained_with = AutoTokenizer.from_pretrained(merged), AutoTokenizer.from_pretrained(final)
    assert tokenizer.chat_template and tokenizer.chat_template == trained_with.chat_template
    conversation = [{"role": "user", "content": "What is the capital of France?"}]
    rendered = tokenizer.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
    assert rendered == trained_with.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
    assert rendered == PROMPT  # the ChatML turn the tiny model's template writes
    assert tokenizer(PROMPT).input_ids == trained_with(PROMPT).input_ids

    generation = GenerationConfig.from_pretrained(merged)
    base_generation = GenerationConfig.from_pretrained(tiny_model_dir)
    stops = generation.eos_token_id if isinstance(generation.eos_token_id, list) else [generation.eos_token_id]
    assert tokenizer.eos_token_id in stops  # generation stops at the end of an assistant turn
    assert generation.bos_token_id == base_generation.bos_token_id  # the base's, kept
    assert generation.pad_token_id == base_generation.pad_token_id
    model = AutoModelForCausalLM.from_pretrained(merged)
    assert model.generation_config.eos_token_id == generation.eos_token_id  # what from_pretrained hands generate


def test_a_small_shard_size_writes_an_index_and_shards_that_reload_to_the_same_model(
    adapter_run: RunPaths, single_merge: ActionDone, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    monkeypatch.setattr(merge_action, "SHARD_SIZE", SMALL_SHARDS)
    out = tmp_path / "sharded"
    final = merge(adapter_run, {"out": str(out)})
    assert isinstance(final, ActionDone), final

    single = tensors_by_shard(adapter_run.merged)
    assert list(single) == ["model.safetensors"] and single_merge.facts["shards"] == 1
    shards = tensors_by_shard(out)
    assert len(shards) > 1 and "model.safetensors" not in shards, sorted(shards)
    assert final.facts["shards"] == len(shards)
    assert final.facts["bytes"] == sum(p.stat().st_size for p in out.iterdir())

    index = json.loads((out / INDEX).read_text(encoding="utf-8"))
    weight_map: dict[str, str] = index["weight_map"]
    assert set(weight_map) == single["model.safetensors"]  # every tensor of the model, each in one shard
    assert set(weight_map.values()) == set(shards)  # every shard named, none missing on disk
    for shard, names in shards.items():
        assert names == {name for name, where in weight_map.items() if where == shard}, shard
        if len(names) > 1:  # a tensor larger than the limit gets a shard of its own; the others stay under it
            assert (out / shard).stat().st_size <= SMALL_SHARD_BYTES + 10_000, shard  # + the header
    offsets = [info["data_offsets"] for p in out.glob("*.safetensors") for info in read_header(p).values()]
    stored = sum(end - start for start, end in offsets)
    assert index["metadata"]["total_size"] == stored

    beside_shards = {p.name for p in out.iterdir()} - set(shards)
    beside_single = {p.name for p in adapter_run.merged.iterdir()} - {"model.safetensors"}
    assert beside_shards == beside_single | {INDEX}  # the same config, tokenizer and generation config
    assert leftovers(tmp_path) == [] and leftovers(adapter_run.root) == []

    sharded_model = AutoModelForCausalLM.from_pretrained(out, dtype=torch.bfloat16)
    single_model = AutoModelForCausalLM.from_pretrained(adapter_run.merged, dtype=torch.bfloat16)
    sharded_weights, single_weights = sharded_model.state_dict(), single_model.state_dict()
    assert sharded_weights.keys() == single_weights.keys()
    assert all(torch.equal(sharded_weights[k], single_weights[k]) for k in single_weights)
    assert torch.equal(model_logits(out, torch.bfloat16), model_logits(adapter_run.merged, torch.bfloat16))
    assert not torch.equal(model_logits(out, torch.bfloat16), base_logits(adapter_run))  # the adapter is in it


def base_logits(paths: RunPaths) -> Any:
    """The base model's bf16 logits for PROMPT: what a merge that lost the adapter would compute."""
    import torch

    from tuiapp.core.config import load_config

    return model_logits(Path(load_config(paths.config).model.name_or_path), torch.bfloat16)
