"""resolve_model: local folder -> HF cache -> catalogue -> Hub, and an error that says what to do for
each way it can fail. huggingface_hub's functions are monkeypatched: nothing touches the network."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tuiapp.core.models.resolve import ModelResolveError, resolve_model

TINY_QWEN3 = {
    "architectures": ["Qwen3ForCausalLM"],
    "model_type": "qwen3",
    "vocab_size": 128,
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "max_position_embeddings": 1024,
    "tie_word_embeddings": True,
}


def write_config(folder: Path, config: Any = TINY_QWEN3, readme: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.json"
    path.write_text(config if isinstance(config, str) else json.dumps(config), encoding="utf-8")
    if readme is not None:
        (folder / "README.md").write_text(readme, encoding="utf-8")
    return path


def http_error(cls: type[Exception], status: int) -> Exception:
    import httpx

    response = httpx.Response(status, request=httpx.Request("GET", "https://huggingface.co/x"))
    return cls("boom", response=response)  # type: ignore[call-arg]


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty cache and a Hub that fails the test if asked; tests replace what they need."""
    import huggingface_hub

    def no_download(*args: Any, **kwargs: Any) -> str:
        raise AssertionError(f"unexpected Hub download {args} {kwargs}")

    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda *a, **k: None)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", no_download)
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None)


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    # The Hub "answers" (the downloads are faked): no real connection from the reachability probe.
    monkeypatch.setattr("tuiapp.core.models.resolve.hub_unreachable_reason", lambda endpoint: None)


def downloads(monkeypatch: pytest.MonkeyPatch, result: Callable[..., str]) -> list[dict[str, Any]]:
    import huggingface_hub

    calls: list[dict[str, Any]] = []

    def fake(repo_id: str, **kwargs: Any) -> str:
        calls.append({"repo_id": repo_id, **kwargs})
        return result(repo_id, **kwargs)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake)
    return calls


@pytest.mark.parametrize("arch", ["llama", "qwen2"])
def test_tiny_models_resolve_locally_with_the_loaded_models_counts(
    arch: str, tiny_model_dirs: dict[str, Path], hub: None
) -> None:
    from transformers import AutoModelForCausalLM

    folder = tiny_model_dirs[arch]
    resolved = resolve_model(str(folder))
    model = AutoModelForCausalLM.from_pretrained(folder)
    assert resolved.source == "local" and resolved.shape.name == str(folder.resolve())
    assert resolved.shape.model_type == arch and resolved.gated is False
    assert resolved.shape.total_params == sum(p.numel() for p in model.parameters())
    linear = {
        name.rsplit(".", 1)[1] for name, m in model.model.layers.named_modules() if m.__class__.__name__ == "Linear"
    }
    assert linear == {spec.name for spec in resolved.shape.linear_layers()}
    assert resolved.context_length == model.config.max_position_embeddings


def test_a_path_to_config_json_itself_works_and_the_model_card_gives_the_license(tmp_path: Path, hub: None) -> None:
    path = write_config(tmp_path / "m", readme="---\nlicense: apache-2.0\n---\n# My model\n")
    resolved = resolve_model(str(path))
    assert resolved.source == "local" and resolved.license == "apache-2.0"


def test_cache_comes_before_the_catalogue_and_never_downloads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub: None
) -> None:
    import huggingface_hub

    cached = write_config(tmp_path / "snapshot", readme="---\nlicense: mit\n---\n")
    files = {
        ("org/tiny", "config.json"): str(cached),
        ("org/tiny", "README.md"): str(cached.parent / "README.md"),
    }
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda repo, name, **kw: files.get((repo, name)))
    resolved = resolve_model("org/tiny")
    assert (resolved.source, resolved.shape.name, resolved.license) == ("cache", "org/tiny", "mit")
    assert resolved.hf_config == TINY_QWEN3


def test_a_cached_catalogue_model_is_read_from_the_cache_under_its_full_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub: None
) -> None:
    import huggingface_hub

    cached = write_config(tmp_path / "snapshot")
    seen: list[str] = []

    def lookup(repo: str, name: str, **kwargs: Any) -> str | None:
        seen.append(repo)
        return str(cached) if name == "config.json" else None

    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lookup)
    resolved = resolve_model("qwen2.5-7b")  # an alias
    assert seen[0] == "Qwen/Qwen2.5-7B-Instruct"
    assert (resolved.source, resolved.license, resolved.gated) == ("cache", "apache-2.0", False)


def test_catalogue_answers_offline_by_id_or_alias(hub: None) -> None:
    resolved = resolve_model("Llama-3.1-8B-Instruct")
    assert resolved.source == "catalogue" and resolved.shape.name == "meta-llama/Llama-3.1-8B-Instruct"
    assert (resolved.license, resolved.gated, resolved.context_length) == ("llama3.1", True, 131072)
    assert resolve_model("mixtral").shape.num_experts == 8
    with_revision = resolve_model("qwen3-8b", revision="v2")
    assert any("revision v2 was not checked" in note for note in with_revision.notes)


def test_base_ids_and_unsloth_mirrors_answer_offline(hub: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """`plan --model meta-llama/Llama-3.1-8B` said "Did you mean ...-Instruct" offline: the base shares the
    instruct model's shape, and the unsloth/ mirrors of both are in the catalogue too."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    base = resolve_model("meta-llama/Llama-3.1-8B")
    assert base.source == "catalogue" and base.shape.name == "meta-llama/Llama-3.1-8B"
    assert base.shape.total_params == resolve_model("meta-llama/Llama-3.1-8B-Instruct").shape.total_params
    assert (base.license, base.gated) == ("llama3.1", True)
    assert any("Llama-3.1-8B-Instruct's figures" in note for note in base.notes)
    mirror = resolve_model("unsloth/Qwen2.5-7B-Instruct-bnb-4bit")
    assert mirror.source == "catalogue" and mirror.gated is False
    assert mirror.shape.stored_quantization is not None and mirror.shape.stored_quantization.bits == 4
    assert mirror.hf_config["quantization_config"]["quant_method"] == "bitsandbytes"
    assert any("stored already quantized" in note for note in mirror.notes)
    assert any("a mirror of Qwen/Qwen2.5-7B-Instruct" in note for note in mirror.notes)


def test_the_hub_is_asked_for_config_json_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub: None, online: None
) -> None:
    path = write_config(tmp_path / "downloaded")
    calls = downloads(monkeypatch, lambda repo_id, **kw: str(path))
    resolved = resolve_model("org/new-model", revision="abc", token="hf_x")
    assert resolved.source == "hub" and resolved.gated is None and resolved.license is None
    assert calls == [{"repo_id": "org/new-model", "filename": "config.json", "revision": "abc", "token": "hf_x"}]


def test_unknown_id_while_offline_says_so_and_suggests_catalogue_names(hub: None) -> None:
    with pytest.raises(ModelResolveError, match="HF_HUB_OFFLINE is set") as caught:
        resolve_model("Qwen/Qwen2.5-7B-Instruc")
    assert "Did you mean Qwen/Qwen2.5-7B-Instruct" in str(caught.value)


def _raise(error: Exception) -> Callable[..., str]:
    def fail(*args: Any, **kwargs: Any) -> str:
        raise error

    return fail


@pytest.mark.parametrize(
    ("error", "token", "message"),
    [
        ("GatedRepoError", None, "is gated: accept its terms at https://huggingface.co/org/m.*HF_TOKEN"),
        ("GatedRepoError", "hf_x", "your Hugging Face token has no access yet"),
        ("RepositoryNotFoundError", None, "no model org/m on the Hugging Face Hub.*Check the spelling"),
        ("RevisionNotFoundError", None, "has no revision"),
        ("RemoteEntryNotFoundError", None, "has no config.json.*base model"),
        ("LocalEntryNotFoundError", None, "cannot reach the Hugging Face Hub.*check the network"),
    ],
)
def test_hub_failures_become_errors_that_say_what_to_do(
    error: str, token: str | None, message: str, monkeypatch: pytest.MonkeyPatch, hub: None, online: None
) -> None:
    from huggingface_hub import errors

    cls = getattr(errors, error)
    exc = cls("no network") if error == "LocalEntryNotFoundError" else http_error(cls, 404)
    downloads(monkeypatch, _raise(exc))
    with pytest.raises(ModelResolveError, match=message) as caught:
        resolve_model("org/m", token=token)
    assert isinstance(caught.value, ValueError) and caught.value.__cause__ is exc


def test_malformed_config_json_names_the_file_and_the_reason(tmp_path: Path, hub: None) -> None:
    path = write_config(tmp_path / "broken", config='{"model_type": "llama",')
    with pytest.raises(ModelResolveError, match="not valid JSON") as caught:
        resolve_model(str(tmp_path / "broken"))
    assert str(path) in str(caught.value) and "line 1" in str(caught.value)


def test_unsupported_architecture_names_the_file(tmp_path: Path, hub: None) -> None:
    write_config(tmp_path / "bert", config={"model_type": "bert", "architectures": ["BertForMaskedLM"]})
    with pytest.raises(ModelResolveError, match="model_type 'bert' is not supported") as caught:
        resolve_model(str(tmp_path / "bert"))
    assert "config.json" in str(caught.value)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "give a model"),
        ("./nowhere/model", "no such folder"),
        ("not a model id!", "is not a folder, a catalogue name or a Hugging Face id"),
    ],
)
def test_bad_input_is_refused_before_any_lookup(query: str, message: str, hub: None) -> None:
    with pytest.raises(ModelResolveError, match=message):
        resolve_model(query)


def test_a_folder_without_config_json_says_what_folder_is_needed(tmp_path: Path, hub: None) -> None:
    (tmp_path / "model.Q4_K_M.gguf").write_bytes(b"GGUF")
    with pytest.raises(ModelResolveError, match=r"has no config.json \(a GGUF file"):
        resolve_model(str(tmp_path))
