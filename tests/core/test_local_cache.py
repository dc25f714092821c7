"""Models in the local Hugging Face cache: listed for completion, and resolved from it offline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tuiapp.core.models.local_cache import cached_model_ids, hub_cache_dir
from tuiapp.core.models.resolve import resolve_model

TINY_LLAMA = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "vocab_size": 128,
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 512,
    "tie_word_embeddings": False,
}


def test_lists_cached_models_that_have_a_config(hub_cache: Callable[..., Path]) -> None:
    hub_cache("someorg/Tiny-Model", TINY_LLAMA)
    hub_cache("gpt2", TINY_LLAMA)  # an id without an owner
    hub_cache("someorg/adapter-only", None)  # a snapshot without config.json: not sizable
    (hub_cache_dir() / "datasets--someorg--chats" / "snapshots" / "abc").mkdir(parents=True)
    (hub_cache_dir() / ".locks").mkdir()
    assert cached_model_ids() == ("gpt2", "someorg/Tiny-Model")


def test_the_snapshot_main_names_decides(hub_cache: Callable[..., Path]) -> None:
    """Resolving an id offline reads refs/main's snapshot, so only that one counts: a config.json in
    another snapshot (or no refs/main, as after a download by commit) would list an id that fails."""
    hub_cache("someorg/main-has-config", TINY_LLAMA, revision="old")
    hub_cache("someorg/other-has-config", None, revision="old")
    other = hub_cache_dir() / "models--someorg--other-has-config" / "snapshots" / "new"
    other.mkdir()
    (other / "config.json").write_text("{}", encoding="utf-8")
    no_ref = hub_cache("someorg/no-ref", TINY_LLAMA)
    (no_ref.parents[1] / "refs" / "main").unlink()
    assert cached_model_ids() == ("someorg/main-has-config",)


def test_every_listed_id_resolves_offline(hub_cache: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    _no_download(monkeypatch)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub_cache("someorg/first", TINY_LLAMA)
    hub_cache("otherorg/second", {**TINY_LLAMA, "num_hidden_layers": 3}, revision="fedcba9876543210")
    hub_cache("someorg/stale", None, revision="old")
    (hub_cache_dir() / "models--someorg--stale" / "snapshots" / "new").mkdir()
    (hub_cache_dir() / "models--someorg--stale" / "snapshots" / "new" / "config.json").write_text("{}")
    listed = cached_model_ids()
    assert listed == ("otherorg/second", "someorg/first")
    assert [resolve_model(name).source for name in listed] == ["cache", "cache"]


def test_missing_cache_lists_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "nowhere"))
    assert cached_model_ids() == ()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"HF_HUB_CACHE": "{tmp}/a"}, "{tmp}/a"),
        ({"HUGGINGFACE_HUB_CACHE": "{tmp}/b"}, "{tmp}/b"),
        ({"HF_HOME": "{tmp}/home"}, "{tmp}/home/hub"),
        ({"XDG_CACHE_HOME": "{tmp}/xdg"}, "{tmp}/xdg/huggingface/hub"),
    ],
)
def test_cache_folder_follows_huggingface_hub_environment(
    env: dict[str, str], expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(tmp=tmp_path))
    assert hub_cache_dir() == Path(expected.format(tmp=tmp_path))


def _no_download(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    def fail(*args: Any, **kwargs: Any) -> str:
        raise AssertionError(f"unexpected Hub download {args} {kwargs}")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fail)


def test_a_cached_id_resolves_offline_from_the_listed_folder(
    hub_cache: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_download(monkeypatch)
    snapshot = hub_cache("someorg/Tiny-Model", TINY_LLAMA)
    (snapshot / "README.md").write_text("---\nlicense: mit\n---\n", encoding="utf-8")
    [listed] = cached_model_ids()
    resolved = resolve_model(listed)
    assert (resolved.source, resolved.shape.name, resolved.license) == ("cache", "someorg/Tiny-Model", "mit")
    assert resolved.hf_config == TINY_LLAMA and resolved.shape.num_layers == 2


def test_a_cached_catalogue_model_reads_the_cached_config(
    hub_cache: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_download(monkeypatch)
    hub_cache("Qwen/Qwen2.5-7B-Instruct", TINY_LLAMA)
    resolved = resolve_model("qwen2.5-7b")  # an alias of the catalogue entry
    assert resolved.source == "cache" and resolved.shape.hidden_size == 64
    assert (resolved.license, resolved.gated) == ("apache-2.0", False)  # from the catalogue
