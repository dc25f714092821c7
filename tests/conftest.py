"""Fixtures shared by the whole test suite.

Import heavy libraries (torch, transformers, datasets, ...) inside tests and fixtures, not at module
level: the offline variables below are set when the first test starts, after collection.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_TELEMETRY": "1",
}


@pytest.fixture(scope="session", autouse=True)
def offline_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep every test off the network (and quiet) and out of the developer's Hugging Face cache (the
    Model screen lists it), restoring the environment afterwards."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in OFFLINE_ENV.items():
            mp.setenv(name, value)
        mp.setenv("HF_HUB_CACHE", str(tmp_path_factory.mktemp("hf_hub_cache")))
        yield


@pytest.fixture(scope="session")
def tiny_model_dirs(offline_env: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Folders holding a tiny random-init model + tokenizer, by architecture ("llama", "qwen2"), and
    "llama-sp": the llama with a SentencePiece tokenizer (tokenizer.model), as the demo model has."""
    from tuiapp.training.tiny_model import build_tiny_model

    root = tmp_path_factory.mktemp("tiny_models")
    folders = {arch: build_tiny_model(root / arch, arch=arch) for arch in ("llama", "qwen2")}
    folders["llama-sp"] = build_tiny_model(root / "llama-sp", arch="llama", tokenizer="sentencepiece")
    return folders


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_model_dirs: dict[str, Path]) -> Path:
    """The tiny llama model's folder."""
    return tiny_model_dirs["llama"]


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """An empty Hugging Face hub cache (HF_HUB_CACHE points at it) and a function that puts a model's
    config.json in it, laid out as huggingface_hub lays out a download: refs/main names the snapshot."""
    root = tmp_path / "hub"
    root.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(root))

    def add(repo_id: str, config: dict[str, Any] | None, revision: str = "0123456789abcdef") -> Path:
        repo = root / f"models--{repo_id.replace('/', '--')}"
        snapshot = repo / "snapshots" / revision
        snapshot.mkdir(parents=True)
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text(revision, encoding="utf-8")
        if config is not None:
            (snapshot / "config.json").write_text(json.dumps(config), encoding="utf-8")
        return snapshot

    return add
