"""The merge never leaves half a model: a cancel (in-process, or SIGTERM to the child the Finish screen
starts) or a failure removes the partial folder and keeps an earlier merge; the refusals before loading."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from adapter_runs import leftovers, make_adapter_run, merge

from tuiapp.core.merge_preflight import FreeResources
from tuiapp.core.runs.action_events import ActionCancelled, ActionDone, ActionFailed
from tuiapp.core.runs.follow import read_events
from tuiapp.core.runs.layout import RunPaths
from tuiapp.training import merge_action


def test_an_earlier_merge_is_replaced_only_when_the_new_one_is_complete(tmp_path: Path, tiny_model_dir: Path) -> None:
    paths = make_adapter_run(tmp_path / "run", tiny_model_dir)
    assert isinstance(merge(paths, {"dtype": "fp16"}), ActionDone)
    before = {p.name: p.read_bytes() for p in paths.merged.iterdir()}

    cancelled = merge(paths, {"dtype": "bf16"}, stop_at="copying the tokenizer")  # the shards are written by then
    assert isinstance(cancelled, ActionCancelled)
    assert {p.name: p.read_bytes() for p in paths.merged.iterdir()} == before
    assert leftovers(paths.root) == []

    done = merge(paths, {"dtype": "bf16"})
    assert isinstance(done, ActionDone) and "replaced the earlier merge that was in the output folder" in done.notes
    assert json.loads((paths.merged / "config.json").read_text())["dtype"] == "bfloat16"
    assert leftovers(paths.root) == []


@pytest.mark.parametrize("phase", ["loading the base model", "merging", "writing shards", "copying the tokenizer"])
def test_cancel_leaves_no_partial_folder(tmp_path: Path, tiny_model_dir: Path, phase: str) -> None:
    paths = make_adapter_run(tmp_path / "run", tiny_model_dir)
    assert isinstance(merge(paths, stop_at=phase), ActionCancelled)
    assert not paths.merged.exists() and leftovers(paths.root) == []
    assert read_events(paths.events)[-1].kind == "action_cancelled"


SLOW_SAVE = """
import time
from contextlib import contextmanager
from tuiapp.training import merge_output
original = merge_output.shard_progress

@contextmanager
def slow(folder, expected, report):
    with original(folder, expected, report):
        yield
    for _ in range(600):  # shards on disk, the model not yet installed: the moment a cancel must clean up
        time.sleep(0.1)

merge_output.shard_progress = slow
"""


def test_sigterm_to_the_child_removes_the_partial_folder(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m tuiapp.training.action_main merge RUN {}` stopped (as the Finish screen stops it) once its
    shards are written: exit 130, an action_cancelled event, no partial and no merged folder."""
    from tuiapp.core.runs.action_launcher import launch_action

    paths = make_adapter_run(tmp_path / "run", tiny_model_dir)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SLOW_SAVE)  # a test-only pause after the shards, in the child
    monkeypatch.setenv("PYTHONPATH", str(hooks))
    process = launch_action(paths, "merge", {"dtype": "bf16"}, "bf16 into merged")
    deadline = time.monotonic() + 120
    partial: list[Path] = []
    while time.monotonic() < deadline and process.poll() is None:
        partial = [p for p in paths.root.glob(".merged.partial-*") if list(p.glob("*.safetensors"))]
        if partial and any(
            e.kind == "action_progress" and e.total and e.done == e.total for e in read_events(paths.events)
        ):
            break
        time.sleep(0.1)
    assert partial and process.poll() is None, paths.actions_log.read_text()[-2000:]
    os.kill(process.pid, signal.SIGTERM)
    assert process.wait(timeout=60) == 130
    assert read_events(paths.events)[-1].kind == "action_cancelled"
    assert not paths.merged.exists() and leftovers(paths.root) == []


def test_full_fine_tune_says_final_is_the_model(tmp_path: Path, tiny_model_dir: Path) -> None:
    import shutil

    from tuiapp.core.config import save_config, with_changes
    from tuiapp.core.demo import demo_config

    paths = RunPaths(tmp_path / "run")
    shutil.copytree(tiny_model_dir, paths.final)
    save_config(with_changes(demo_config(tiny_model_dir), {"method": "full"}), paths.config)
    final = merge(paths)
    assert isinstance(final, ActionFailed)
    assert f"{paths.final} is already the whole model" in final.message
    assert not paths.merged.exists()


def test_unfinished_run_has_no_adapter_to_merge(tmp_path: Path, tiny_model_dir: Path) -> None:
    from tuiapp.core.config import save_config
    from tuiapp.core.demo import demo_config

    paths = RunPaths(tmp_path / "run")
    save_config(demo_config(tiny_model_dir), paths.config)
    final = merge(paths)
    assert isinstance(final, ActionFailed) and "has no trained adapter yet" in final.message
    assert final.fixes == [f"let it finish, or continue it with `ftwizard resume {paths.name}`"]


def test_short_disk_fails_before_loading(tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = make_adapter_run(tmp_path / "run", tiny_model_dir)
    full_disk = FreeResources(ram_bytes=64 * 1024**3, disk_bytes=1024, disk_path=str(tmp_path))
    monkeypatch.setattr(merge_action, "read_free_resources", lambda out_dir, with_gpu: full_disk)
    final = merge(paths)
    assert isinstance(final, ActionFailed)
    assert f"the disk holding {tmp_path} needs 0.1 GiB for the shards and has 0.0 GiB free" in final.message
    assert "write elsewhere with -o DIR" in final.fixes[0]
    assert [e.phase for e in read_events(paths.events) if e.kind == "action_progress"] == ["checking memory and disk"]
    assert not paths.merged.exists() and leftovers(paths.root) == []


@pytest.mark.parametrize(
    ("options", "words"),
    [({"dtype": "int4"}, "dtype is 'int4'"), ({"device": "tpu"}, "device is 'tpu'"), ({"out": 3}, "must be a folder")],
)
def test_bad_options_are_user_errors(tmp_path: Path, tiny_model_dir: Path, options: dict, words: str) -> None:
    from tuiapp.core.config import save_config
    from tuiapp.core.demo import demo_config

    paths = RunPaths(tmp_path / "run")
    save_config(demo_config(tiny_model_dir), paths.config)
    final = merge(paths, options)
    assert isinstance(final, ActionFailed) and words in final.message


def test_auto_falls_back_to_the_cpu_when_the_gpu_is_too_full(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = make_adapter_run(tmp_path / "run", tiny_model_dir)
    busy_gpu = FreeResources(64 * 1024**3, 64 * 1024**3, str(tmp_path), vram_bytes=1024, gpu_name="RTX 4090")
    monkeypatch.setattr(merge_action, "read_free_resources", lambda out_dir, with_gpu: busy_gpu)
    monkeypatch.setattr(merge_action, "cuda_available", lambda: True)
    final = merge(paths, {"device": "auto"})
    assert isinstance(final, ActionDone) and final.facts["device"] == "cpu"
    assert any(
        note.startswith("merged on the CPU: RTX 4090 has 0.0 GiB free and the merge needs") for note in final.notes
    )


def test_cuda_asked_without_cuda_fails_in_words(tmp_path: Path, tiny_model_dir: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the refusal is for machines without it")
    paths = make_adapter_run(tmp_path / "run", tiny_model_dir)
    final = merge(paths, {"device": "cuda"})
    assert isinstance(final, ActionFailed) and "PyTorch sees no CUDA GPU" in final.message
    assert final.fixes == ["merge on the CPU with --device cpu (or --device auto)"]
    assert not paths.merged.exists() and leftovers(paths.root) == []
