"""The worker's environment turns PyTorch's expandable segments on unless the user chose allocator settings,
and the started event records what the worker ran with (older event files, without it, still read)."""

from __future__ import annotations

import json

import pytest

from tuiapp.core.child_env import ALLOC_CONF_CAP, allocator_conf, child_env
from tuiapp.core.runs import Started
from tuiapp.core.runs.events import event_to_json, parse_event


def test_expandable_segments_are_on_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTORCH_CUDA_ALLOC_CONF", raising=False)
    monkeypatch.delenv("PYTORCH_ALLOC_CONF", raising=False)
    env = child_env()
    assert env["PYTORCH_CUDA_ALLOC_CONF"] == "expandable_segments:True"
    assert "PYTORCH_ALLOC_CONF" not in env
    assert allocator_conf(env) == "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True"


@pytest.mark.parametrize("name", ["PYTORCH_CUDA_ALLOC_CONF", "PYTORCH_ALLOC_CONF"])
def test_the_users_setting_stands(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.delenv("PYTORCH_CUDA_ALLOC_CONF", raising=False)
    monkeypatch.delenv("PYTORCH_ALLOC_CONF", raising=False)
    monkeypatch.setenv(name, "max_split_size_mb:128")
    env = child_env()
    assert env[name] == "max_split_size_mb:128"
    assert env.get("PYTORCH_CUDA_ALLOC_CONF", "") != "expandable_segments:True"  # ours is not added beside it
    assert allocator_conf(env) == f"{name}=max_split_size_mb:128"


def test_no_setting_and_a_long_one() -> None:
    assert allocator_conf({}) is None
    assert allocator_conf({"PYTORCH_CUDA_ALLOC_CONF": ""}) is None
    long = allocator_conf({"PYTORCH_CUDA_ALLOC_CONF": "x" * 5000})
    assert long is not None and len(long) == ALLOC_CONF_CAP


def test_started_event_carries_the_setting_and_old_files_read() -> None:
    started = Started(pid=1, step=0, total_steps=10, allocator_conf="PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True")
    line = json.loads(json.dumps(event_to_json(started)))
    assert parse_event(line) == started
    del line["allocator_conf"]  # a run started before this field existed
    old = parse_event(line)
    assert isinstance(old, Started) and old.allocator_conf is None
    assert parse_event({**line, "allocator_conf": 3}) is None  # a value not of its type is skipped, as others
