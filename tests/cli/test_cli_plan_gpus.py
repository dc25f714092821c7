"""`ftwizard plan --gpus N`: per-GPU figures for one job spread over several GPUs with accelerate."""

from __future__ import annotations

import json

import pytest

from tuiapp.cli import main

MODEL = ["plan", "--model", "meta-llama/Llama-3.1-8B", "--gpu", "RTX 4090"]


def plan(capsys, *flags: str) -> dict:
    assert main([*MODEL, "--json", *flags]) == 0
    return json.loads(capsys.readouterr().out)


def test_four_gpus_fit_a_full_fine_tune_one_cannot_and_keep_the_effective_batch(capsys) -> None:
    single = plan(capsys, "--method", "full")
    sharded = plan(capsys, "--method", "full", "--gpus", "4")
    assert not single["methods"]["full"]["fits"] and sharded["methods"]["full"]["fits"]
    row = sharded["methods"]["full"]
    assert row["peak_nvidia_smi_gib"] < single["methods"]["full"]["peak_nvidia_smi_gib"] / 2
    assert row["micro_batch"] * row["grad_accum"] * 4 == 16  # the default effective batch, over 4 GPUs
    assert sharded["sharding"] == {"gpus": 4, "strategy": "fsdp2", "offload": "none", "label": "4 GPUs, fsdp2"}
    assert any(note.startswith("per GPU, with 4 GPUs, fsdp2") for note in row["notes"])
    assert "x 4 GPUs = effective batch 16" in " ".join(sharded["reasons"])


def test_one_gpu_is_the_plan_without_the_flag(capsys) -> None:
    without, with_one = plan(capsys), plan(capsys, "--gpus", "1")
    assert with_one.pop("sharding") is None and without.pop("sharding") is None
    assert with_one == without


def test_the_strategies_order_per_gpu_at_the_same_settings(capsys) -> None:
    fixed = ["--method", "full", "--micro-batch", "1", "--grad-accum", "4", "--grad-ckpt", "--optimizer", "adamw_8bit"]
    smi = {
        name: plan(capsys, *fixed, "--gpus", "4", "--sharding", name)["methods"]["full"]["peak_nvidia_smi_gib"]
        for name in ("ddp", "zero2", "zero3", "fsdp2")
    }
    assert smi["ddp"] > smi["zero2"] > smi["zero3"] == smi["fsdp2"]


def test_unsloth_is_not_offered_over_several_gpus(capsys) -> None:
    report = plan(capsys, "--framework", "unsloth", "--gpus", "2")
    assert report["framework"] == "hf" and "Unsloth trains on one GPU" in report["framework_reason"]


def test_the_table_says_the_figures_are_per_gpu(capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main([*MODEL, "--gpus", "8", "--sharding", "zero3", "--offload", "optimizer"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "Per GPU, 8 GPUs, zero3, optimizer offloaded to CPU: each GPU runs its own micro-batch"


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--sharding", "zero3"], "--sharding only applies to several GPUs. Add --gpus N (2 or more)"),
        (["--offload", "all"], "--offload only applies to several GPUs"),
        (["--gpus", "2", "--sharding", "zero2", "--offload", "all"], "--offload all is not something zero2 does"),
        (["--gpus", "2", "--method", "lora8"], "8-bit weights cannot be split over GPUs"),
    ],
)
def test_flags_that_do_not_go_together_are_refused(flags: list[str], said: str, capsys) -> None:
    assert main([*MODEL, *flags]) == 2
    assert said in capsys.readouterr().err.replace("\n", " ")


@pytest.mark.parametrize("gpus", ["0", "65", "two"])
def test_a_gpu_count_out_of_bounds_is_a_usage_error(gpus: str, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*MODEL, "--gpus", gpus])
    assert exited.value.code == 2 and "--gpus" in capsys.readouterr().err
