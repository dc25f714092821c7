"""`ftwizard merge RUN`: the merged folder printed on stdout, the action's events in the run's events.jsonl, and
the messages (with exit 2) for a full fine-tune, an unknown run and a bad flag."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tuiapp.cli import main
from tuiapp.core.runs.follow import read_events
from tuiapp.core.runs.layout import RunPaths

ROOT = Path(__file__).resolve().parents[2]


def adapter_run(runs: Path, model_dir: Path, name: str = "r1") -> RunPaths:
    """A run folder as LoRA training leaves it: config.yaml and final/ (adapter + tokenizer), built with PEFT."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tuiapp.core.config import save_config
    from tuiapp.core.demo import demo_config

    paths = RunPaths(runs / name)
    save_config(demo_config(model_dir), paths.config)
    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    get_peft_model(base, LoraConfig(r=4, target_modules="all-linear", init_lora_weights=False)).save_pretrained(
        paths.final
    )
    AutoTokenizer.from_pretrained(model_dir).save_pretrained(paths.final)
    return paths


def test_merge_prints_the_folder_and_logs_the_action(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = adapter_run(tmp_path / "runs", tiny_model_dir)
    assert main(["merge", "r1", "--runs-dir", str(tmp_path / "runs"), "--device", "cpu"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0].startswith("merged the adapter into ") and f"  {paths.merged}" in out.splitlines()
    assert "merge: loading the base model" in err and "merge: writing shards" in err
    kinds = [event.kind for event in read_events(paths.events)]
    assert kinds[0] == "action_started" and kinds[-1] == "action_done" and "action_progress" in kinds
    started = read_events(paths.events)[0]
    assert started.detail == f"bf16 on cpu into {paths.merged}"
    assert (paths.merged / "model.safetensors").is_file() and (paths.merged / "tokenizer.json").is_file()


def test_merge_out_folder_and_fp16(tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = adapter_run(tmp_path / "runs", tiny_model_dir)
    out_dir = tmp_path / "export"
    assert main(["merge", str(paths.root), "--dtype", "fp16", "-o", str(out_dir)]) == 0
    assert f"  {out_dir}" in capsys.readouterr().out.splitlines()
    assert '"dtype": "float16"' in (out_dir / "config.json").read_text()
    done = read_events(paths.events)[-1]
    assert done.kind == "action_done" and done.facts["dtype"] == "fp16" and done.outputs == [str(out_dir)]


def test_full_fine_tune_run_says_final_is_the_model(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tuiapp.core.config import save_config, with_changes
    from tuiapp.core.demo import demo_config

    paths = RunPaths(tmp_path / "runs" / "full")
    shutil.copytree(tiny_model_dir, paths.final)
    save_config(with_changes(demo_config(tiny_model_dir), {"method": "full"}), paths.config)
    assert main(["merge", "full", "--runs-dir", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert f"ftwizard: merge failed: run full is a full fine-tune: {paths.final} is already the whole model" in err
    assert f"  Fix: use {paths.final} as it is" in err
    assert read_events(paths.events)[-1].kind == "action_failed" and not paths.merged.exists()


def test_unknown_run_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["merge", "nope", "--runs-dir", str(tmp_path)]) == 2
    assert "no run named nope" in capsys.readouterr().err


def test_bad_dtype_is_refused_by_the_parser() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tuiapp", "merge", "r1", "--dtype", "int4"],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "invalid choice: 'int4'" in done.stderr


def test_merge_is_listed_in_the_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tuiapp", "merge", "--help"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0
    for flag in ("--dtype", "--device", "-o DIR, --out DIR", "--runs-dir"):
        assert flag in done.stdout
