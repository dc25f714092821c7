"""`ftwizard plan` on the names people type, offline and with an empty Hugging Face cache: a base id (it
said "Did you mean ...-Instruct" before), an unsloth bnb-4bit mirror, and an MoE model's notes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def plan(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "empty-cache"), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "tuiapp", "plan", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_a_base_id_plans_offline(tmp_path: Path) -> None:
    done = plan(tmp_path, "--model", "meta-llama/Llama-3.1-8B", "--gpu", "24GB", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["model"]["name"] == "meta-llama/Llama-3.1-8B" and report["model"]["source"] == "catalogue"
    assert report["recommended"] is not None
    assert "Did you mean" not in done.stdout + done.stderr


@pytest.mark.parametrize("mirror", ["unsloth/Llama-3.1-8B-Instruct-bnb-4bit", "unsloth/Qwen2.5-7B-unsloth-bnb-4bit"])
def test_an_unsloth_4bit_mirror_plans_offline_as_stored_4bit(tmp_path: Path, mirror: str) -> None:
    done = plan(tmp_path, "--model", mirror, "--gpu", "24GB", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["model"]["name"] == mirror and report["model"]["source"] == "catalogue"
    assert list(report["methods"]) == ["qlora"]  # LoRA on the stored 4-bit weights; full is not offered
    weights = report["methods"]["qlora"]["breakdown_gib"]["weights"]
    assert weights < 7.0  # stored 4-bit: about 5 GiB for a 7-8B model, where 16-bit would be 14-15 GiB


def test_mixtral_says_its_experts_stay_16bit(tmp_path: Path) -> None:
    done = plan(tmp_path, "--model", "mistralai/Mixtral-8x7B-v0.1", "--gpu", "80GB")
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())
    assert "Note: experts stay in 16-bit with this transformers: QLoRA saves only the attention weights" in out
    assert "ways out: Unsloth" in out and "GH200 (96 GiB) or larger" in out
