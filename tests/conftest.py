"""Fixtures shared by the whole test suite.

Import heavy libraries (torch, transformers, datasets, ...) inside tests and fixtures, not at module
level: the offline variables below are set when the first test starts, after collection.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_TELEMETRY": "1",
}


@pytest.fixture(scope="session", autouse=True)
def offline_env() -> Iterator[None]:
    """Keep every test off the network (and quiet), restoring the environment afterwards."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in OFFLINE_ENV.items():
            mp.setenv(name, value)
        yield


@pytest.fixture(scope="session")
def tiny_model_dirs(offline_env: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Folders holding a tiny random-init model + tokenizer, by architecture ("llama", "qwen2")."""
    from tuiapp.training.tiny_model import build_tiny_model

    root = tmp_path_factory.mktemp("tiny_models")
    return {arch: build_tiny_model(root / arch, arch=arch) for arch in ("llama", "qwen2")}


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_model_dirs: dict[str, Path]) -> Path:
    """The tiny llama model's folder."""
    return tiny_model_dirs["llama"]
