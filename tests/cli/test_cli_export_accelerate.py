"""`ftwizard export --to accelerate`: an accelerate config that accelerate's own launcher reads into the
environment and plugin we meant (FSDP2, ZeRO-2/3, DDP; offload), beside the script it launches; and a real
two-process `accelerate launch` of that script on the tiny model (on a CPU the Trainer runs it as DDP over gloo:
FSDP and DeepSpeed themselves need the GPUs)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tuiapp.cli import main
from tuiapp.core.export.accelerate_config import ACCELERATE_CHECKED

SAMPLES = Path(__file__).parents[2] / "tuiapp" / "sample_data"
_spec = importlib.util.spec_from_file_location(
    "accelerate_probe", Path(__file__).with_name("tool_probes") / "accelerate_launch_env.py"
)
probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe)


def job(folder: Path, model: str, *, method: str = "lora", training: str = "") -> Path:
    shutil.copy(SAMPLES / "messages.jsonl", folder / "messages.jsonl")
    path = folder / "job.yaml"
    path.write_text(
        f"model: {{name_or_path: {model}}}\nmethod: {method}\n"
        f"dataset: {{source: {folder / 'messages.jsonl'}, eval_size: 0}}\n"
        "training: {max_steps: 2, micro_batch_size: 2, grad_accum: 8, max_length: 128, save_steps: 100"
        f"{training}}}\n"
        "output: {run_name: tiny-accelerate}\n"
    )
    return path


def export(path: Path, capsys, *flags: str) -> tuple[Path, str, str]:
    assert main(["export", str(path), "--to", "accelerate", *flags]) == 0
    said = capsys.readouterr()
    return path.with_name("job.accelerate.yaml"), said.out, said.err


def test_the_config_names_the_accelerate_it_was_checked_against() -> None:
    assert importlib.metadata.version("accelerate") == ACCELERATE_CHECKED


@pytest.mark.parametrize(
    ("flags", "launcher", "checks"),
    [
        ([], "fsdp", {"FSDP_VERSION": "2", "FSDP_RESHARD_AFTER_FORWARD": "true", "FSDP_OFFLOAD_PARAMS": "false"}),
        (["--offload", "all"], "fsdp", {"FSDP_OFFLOAD_PARAMS": "true"}),
        (["--sharding", "zero2"], "deepspeed", {"ACCELERATE_DEEPSPEED_ZERO_STAGE": "2"}),
        (
            ["--sharding", "zero2", "--offload", "optimizer"],
            "deepspeed",
            {
                "ACCELERATE_DEEPSPEED_OFFLOAD_OPTIMIZER_DEVICE": "cpu",
                "ACCELERATE_DEEPSPEED_OFFLOAD_PARAM_DEVICE": "none",
            },
        ),
        (
            ["--sharding", "zero3", "--offload", "all"],
            "deepspeed",
            {"ACCELERATE_DEEPSPEED_ZERO_STAGE": "3", "ACCELERATE_DEEPSPEED_OFFLOAD_PARAM_DEVICE": "cpu"},
        ),
        (["--sharding", "ddp"], "multi_gpu", {}),
    ],
)
def test_accelerates_launcher_reads_what_we_meant(
    flags: list[str], launcher: str, checks: dict[str, str], tmp_path, capsys, tiny_model_dir
) -> None:
    written, out, _ = export(job(tmp_path, str(tiny_model_dir)), capsys, "--gpus", "4", *flags)
    view = probe.launch_view(str(written))
    assert view["launcher"] == launcher and view["num_processes"] == 4
    assert {key: view["env"].get(key) for key in checks} == checks
    assert "accelerate launch --config_file job.accelerate.yaml job.accelerate.py" in out
    if launcher == "fsdp":
        policy = "CPUOffloadPolicy" if "all" in flags else "OffloadPolicy"
        assert view["plugin"]["fsdp_version"] == 2 and view["plugin"]["cpu_offload"] == policy
    if launcher == "deepspeed":
        stage = 3 if "zero3" in flags else 2
        assert view["plugin"]["zero_stage"] == stage
        saved_whole = view["plugin"]["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"]
        assert saved_whole is (stage == 3)  # final/ holds one 16-bit model, not ZeRO shards
        assert "pip install deepspeed" in written.read_text()


def test_the_precision_and_checkpointing_follow_the_config(tmp_path, capsys, tiny_model_dir) -> None:
    config = job(tmp_path, str(tiny_model_dir), training=", precision: bf16, gradient_checkpointing: true")
    written, _, _ = export(config, capsys)
    view = probe.launch_view(str(written))
    assert view["mixed_precision"] == "bf16" and view["plugin"]["activation_checkpointing"] is True
    assert view["num_processes"] == 2  # the default


def test_the_effective_batch_is_kept_over_the_gpus_and_said(tmp_path, capsys, tiny_model_dir) -> None:
    written, _, err = export(job(tmp_path, str(tiny_model_dir)), capsys, "--gpus", "4")
    script = written.with_suffix(".py").read_text()
    assert '"gradient_accumulation_steps": 2,' in script  # 8 over 4 GPUs: 2 x 2 x 4 = 16 as configured
    assert "grad_accum 8 → 2 per GPU over 4 GPUs: the effective batch kept" in err
    _, _, err = export(job(tmp_path, str(tiny_model_dir)), capsys, "--gpus", "3", "-o", str(written))
    assert "the effective batch 16 → 18 (the accumulation rounds up)" in err


def test_the_per_gpu_estimate_is_in_the_file_and_on_screen(tmp_path, capsys) -> None:
    config = job(tmp_path, "meta-llama/Llama-3.1-8B", method="full", training=", gradient_checkpointing: true")
    written, _, err = export(config, capsys, "--gpus", "8", "--sharding", "zero3")
    header = [line for line in written.read_text().splitlines() if line.startswith("# ftwizard expects per GPU: ~")]
    assert len(header) == 1 and "full, micro-batch 2, checkpointing on" in header[0]
    assert "per GPU: ~" in err


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--to", "trl", "--gpus", "2"], "--gpus go with --to accelerate, not --to trl"),
        (["--to", "accelerate", "--gpus", "1"], "the accelerate export is for 2 GPUs or more"),
        (["--to", "accelerate", "--sharding", "ddp", "--offload", "all"], "--offload all is not something ddp does"),
    ],
)
def test_flags_that_do_not_fit_are_refused_and_nothing_is_written(flags, said, tmp_path, capsys) -> None:
    config = job(tmp_path, "Qwen/Qwen2.5-0.5B-Instruct")
    assert main(["export", str(config), *flags]) == 2
    assert said in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.yaml", "messages.jsonl"]


def test_lora8_cannot_be_split(tmp_path, capsys) -> None:
    assert main(["export", str(job(tmp_path, "Qwen/Qwen2.5-0.5B-Instruct", method="lora8")), "--to", "accelerate"]) == 2
    assert "8-bit weights cannot be split over GPUs" in capsys.readouterr().err


@pytest.mark.slow
def test_accelerate_launch_trains_the_script_in_two_processes(tmp_path, capsys, tiny_model_dir) -> None:
    written, _, _ = export(job(tmp_path, str(tiny_model_dir)), capsys)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    accelerate = Path(sys.executable).with_name("accelerate")
    done = subprocess.run(
        [accelerate, "launch", "--config_file", written.name, written.with_suffix(".py").name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    said = done.stdout + done.stderr
    assert done.returncode == 0, said[-3000:]
    assert said.count("loss on the assistant's turns only") == 2  # two processes trained
    assert said.count("saved to ") == 1  # and one wrote the result
    final = tmp_path / "tiny-accelerate" / "final"
    assert (final / "adapter_model.safetensors").is_file() and (final / "tokenizer.json").is_file()
