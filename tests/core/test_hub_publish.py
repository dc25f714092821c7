"""What a push checks and prepares before any request: the repo name, the base model's Hub id and license,
the config made public, and the folder's files with this machine's paths taken out."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tuiapp.core.config import loads_config, validate_config
from tuiapp.core.hub.base_model import base_license, hub_id_of
from tuiapp.core.hub.public_config import public_config, public_record, refuse_token_like
from tuiapp.core.hub.repo_name import check_repo_name, split_repo
from tuiapp.core.hub.upload_plan import folder_upload
from tuiapp.core.user_error import UserError

FAKE_TOKEN = "hf_" + "abcdefghijklmnopqrstuvwxyz0123456789"  # built, so secret scanners skip this file


@pytest.mark.parametrize("name", ["tiny", "alice/tiny", "Org_1/Foo-BAR_foo.bar123", "a/b", "_x/y_"])
def test_valid_repo_names(name: str) -> None:
    assert check_repo_name(f" {name} ") == name


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "no Hub repo"),
        ("a/b/c", "more than one '/'"),
        ("alice/-tiny", "must use ASCII"),
        ("alice/tiny.", "must use ASCII"),
        ("alice/ti ny", "must use ASCII"),
        ("alice/café", "must use ASCII"),
        ("alice/ti--ny", "'--' and '..'"),
        ("alice/ti..ny", "'--' and '..'"),
        ("alice/tiny.git", ".git"),
        ("alice/" + "x" * 97, "longer than 96"),
    ],
)
def test_invalid_repo_names_say_why(name: str, why: str) -> None:
    with pytest.raises(UserError) as caught:
        check_repo_name(name)
    assert why in str(caught.value)
    assert caught.value.fix


def test_split_repo() -> None:
    assert split_repo("tiny") == (None, "tiny")
    assert split_repo("alice/tiny") == ("alice", "tiny")


def test_hub_id_of() -> None:
    assert hub_id_of("Qwen/Qwen2.5-0.5B") == "Qwen/Qwen2.5-0.5B"
    assert hub_id_of("/cache/hub/models--Qwen--Qwen2.5-0.5B/snapshots/abc123") == "Qwen/Qwen2.5-0.5B"
    assert hub_id_of("/home/ada/models/tiny-llama") is None


def test_license_from_the_base_card_in_the_cache(hub_cache: Callable[..., Path]) -> None:
    snapshot = hub_cache("acme/tiny-base", {"model_type": "llama"})
    (snapshot / "README.md").write_text(
        "---\nlicense: other\nlicense_name: acme-license\nlicense_link: LICENSE\n---\n# Tiny", encoding="utf-8"
    )
    found = base_license("acme/tiny-base")
    assert (found.license, found.name, found.link) == ("other", "acme-license", "LICENSE")  # type: ignore[union-attr]
    assert base_license("acme/not-cached") is None  # not on this machine: never guessed


def test_license_from_a_local_folder_and_the_catalogue(tmp_path: Path, hub_cache: Callable[..., Path]) -> None:
    (tmp_path / "README.md").write_text("---\nlicense: mit\n---\n", encoding="utf-8")
    assert base_license(str(tmp_path)).license == "mit"  # type: ignore[union-attr]
    assert base_license(str(tmp_path / "missing")) is None
    assert base_license("Qwen/Qwen2.5-0.5B-Instruct").license == "apache-2.0"  # type: ignore[union-attr]


def _config(**extra: object) -> object:
    data = {
        "model": {"name_or_path": "/home/ada/models/tiny-llama"},
        "dataset": {"source": "/home/ada/data/chats.jsonl"},
        "output": {"runs_root": "/home/ada/runs", "run_name": "r1"},
        **extra,
    }
    return validate_config(data)


def test_public_config_keeps_no_local_path_and_still_loads() -> None:
    public = public_config(_config(), "alice/tiny")  # type: ignore[arg-type]
    assert "/home/ada" not in public.yaml_text
    again = loads_config(public.yaml_text)
    assert again.model.name_or_path == "tiny-llama"
    assert again.dataset is not None and again.dataset.source == "chats.jsonl"
    assert again.output.runs_root is None and again.output.hub_repo == "alice/tiny"
    assert len(public.changes) == 3


def test_public_config_keeps_hub_ids_and_names_a_cached_copy() -> None:
    cached = "/home/ada/.cache/huggingface/hub/models--Qwen--Qwen2.5-0.5B/snapshots/abc"
    public = public_config(_config(model={"name_or_path": cached}, dataset={"source": "acme/chats"}), "a/b")  # type: ignore[arg-type]
    assert public.config.model.name_or_path == "Qwen/Qwen2.5-0.5B"
    assert public.config.dataset is not None and public.config.dataset.source == "acme/chats"


def test_a_token_in_the_config_stops_the_push() -> None:
    """validate_config refuses such a config now; a run's config written before it did still reaches the push."""
    from tuiapp.core.config.dataset_section import DatasetSection

    valid = _config()
    config = valid.model_copy(update={"dataset": DatasetSection.model_construct(source=f"acme/{FAKE_TOKEN}")})
    with pytest.raises(UserError, match="looks like a Hugging Face token") as caught:
        public_config(config, "alice/tiny")  # type: ignore[arg-type]
    assert FAKE_TOKEN not in str(caught.value)


def test_the_exact_token_is_refused_whatever_its_shape() -> None:
    with pytest.raises(UserError, match=r"line 2"):
        refuse_token_like(b"one\ntwo secret-value three", "card", token="secret-value")
    refuse_token_like(b"nothing here", "card", token="secret-value")


def test_folder_upload_skips_ours_and_rewrites_local_paths(tmp_path: Path) -> None:
    folder = tmp_path / "final"
    (folder / "sub").mkdir(parents=True)
    base = "/home/ada/models/tiny-llama"
    (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": base, "r": 4}))
    (folder / "tokenizer_config.json").write_text(json.dumps({"name_or_path": f"{tmp_path}/x", "pad": "<pad>"}))
    (folder / "adapter_model.safetensors").write_bytes(b"\0" * 64)
    (folder / "README.md").write_text("PEFT's own card")
    (folder / "training_args.bin").write_bytes(b"pickle")
    (folder / ".partial").write_text("half")
    (folder / "sub" / "vocab.txt").write_text("a b")
    upload = folder_upload(folder, [str(tmp_path), base], "acme/tiny-base")
    by_name = {f.path_in_repo: f for f in upload.files}
    sent = ["adapter_config.json", "adapter_model.safetensors", "sub/vocab.txt", "tokenizer_config.json"]
    assert sorted(by_name) == sent
    adapter = json.loads(by_name["adapter_config.json"].data or b"")
    assert adapter == {"base_model_name_or_path": "acme/tiny-base", "r": 4}
    assert json.loads(by_name["tokenizer_config.json"].data or b"")["name_or_path"] == "x"
    assert by_name["adapter_model.safetensors"].source == folder / "adapter_model.safetensors"
    assert json.loads((folder / "adapter_config.json").read_text())["base_model_name_or_path"] == base  # untouched
    assert len(upload.changes) == 2


def test_public_record_leaves_out_what_names_local_paths() -> None:
    facts = {"quant": "q4_k_m", "llama_quantize": "/home/ada/llama.cpp/llama-quantize", "bytes": 12}
    notes = ["merged onto the bf16/fp16 base", "to use it: ollama create x -f /home/ada/runs/r/gguf/Modelfile"]
    assert public_record(facts, notes) == ({"quant": "q4_k_m", "bytes": 12}, ["merged onto the bf16/fp16 base"])
