"""`ftwizard export CONFIG --to script`: a standalone script that trains without ftwizard (run here in an
environment where our package cannot be imported), on the very rows our worker would train on."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tuiapp.cli import main
from tuiapp.core.config import load_config
from tuiapp.core.export.script import CHECKED, UNSLOTH_CHECKED

SAMPLES = Path(__file__).parents[2] / "tuiapp" / "sample_data"
RUFF = Path(sys.executable).with_name("ruff")


def job(folder: Path, model: str, data: str, *, method: str = "lora", dataset: str = "", extra: str = "") -> Path:
    """A config in `folder` training 2 steps on the CPU on a copy of a sample file there."""
    shutil.copy(SAMPLES / data, folder / data)
    path = folder / "job.yaml"
    path.write_text(
        f"model: {{name_or_path: {model}}}\nmethod: {method}\n{extra}"
        f"dataset: {{source: {folder / data}, eval_size: 0.1{dataset}}}\n"
        "training: {max_steps: 2, micro_batch_size: 2, grad_accum: 1, max_length: 128, save_steps: 100}\n"
        "output: {run_name: tiny-script}\n"
    )
    return path


def exported(path: Path, capsys) -> tuple[Path, str]:
    assert main(["export", str(path), "--to", "script"]) == 0
    out = capsys.readouterr().out
    return Path(out.split("wrote ", 1)[1].split(" (script)", 1)[0]), out


@pytest.fixture(scope="module")
def clean_python(tmp_path_factory) -> Path:
    """A Python that sees the ML libraries installed here but not ftwizard: a new virtual environment whose
    one .pth names this environment's site-packages (a .pth in a named folder is not run, so our editable
    install's finder is not either)."""
    root = tmp_path_factory.mktemp("clean-venv")
    venv.EnvBuilder(with_pip=False).create(root)
    site = next((root / "lib").glob("python3*/site-packages"))
    here = next(p for p in sys.path if p.endswith("site-packages") and Path(p, "trl").is_dir())
    (site / "libraries.pth").write_text(here + "\n")
    python = root / "bin" / "python"
    probe = "import importlib.util as u; print(u.find_spec('trl') is not None, u.find_spec('tuiapp.cli') is None)"
    said = subprocess.run([python, "-I", "-c", probe], capture_output=True, text=True, check=True, cwd=root).stdout
    assert said.split() == ["True", "True"], f"the clean environment is not clean: {said}"
    return python


def run_script(python: Path, script: Path) -> str:
    """Run the script from another folder, isolated (-I: no PYTHONPATH, no user site, not the cwd)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [python, "-I", str(script)], cwd=script.parent.parent, capture_output=True, text=True, timeout=300, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr


def test_the_script_names_the_libraries_it_was_checked_against() -> None:
    assert {name: importlib.metadata.version(name) for name in CHECKED} == CHECKED
    if importlib.util.find_spec("unsloth") is not None:
        assert importlib.metadata.version("unsloth") == UNSLOTH_CHECKED


@pytest.mark.parametrize(
    ("data", "method", "expected"),
    [
        ("messages.jsonl", "lora", "loss on the assistant's turns only"),  # tool calls and system turns as JSON
        ("alpaca.json", "full", "'eval_loss'"),  # alpaca rows converted at export into prompt/completion
    ],
)
def test_the_script_trains_two_steps_without_ftwizard(
    tmp_path, capsys, tiny_model_dir, clean_python, data, method, expected
) -> None:
    shutil.copytree(tiny_model_dir, tmp_path / "tiny")
    script, out = exported(job(tmp_path, str(tmp_path / "tiny"), data, method=method), capsys)
    assert "rows)" in out and f"python {script.name}" in out
    said = run_script(clean_python, script)
    assert expected in said and "'eval_loss'" in said and "saved to" in said
    final = tmp_path / "tiny-script" / "final"
    weights = "adapter_model.safetensors" if method == "lora" else "model.safetensors"
    assert (final / weights).is_file() and (final / "tokenizer_config.json").is_file()


def test_the_rows_are_the_ones_the_worker_trains_on(tmp_path, capsys) -> None:
    """Renames, conversion, bad rows skipped and repeats dropped happen at export, as in the worker."""
    from tuiapp.core.data.training_rows import DropCount
    from tuiapp.training.trl_dataset import _rows

    lines = (SAMPLES / "prompt_completion.jsonl").read_text().splitlines()
    renamed = [json.dumps({"question": r["prompt"], "answer": r["completion"]}) for r in map(json.loads, lines)]
    (tmp_path / "data.jsonl").write_text("\n".join([*renamed, renamed[0], "{not json", *renamed[:2]]) + "\n")
    shutil.copy(SAMPLES / "messages.jsonl", tmp_path / "messages.jsonl")
    path = tmp_path / "job.yaml"
    path.write_text(
        "model: {name_or_path: org/model}\n"
        f"dataset: {{source: {tmp_path / 'data.jsonl'}, skip_bad: true, dedupe: true,"
        " columns: {question: prompt, answer: completion}}\n"
    )
    script, _ = exported(path, capsys)
    written = [json.loads(line) for line in script.with_name("job.script.rows.jsonl").read_text().splitlines()]
    assert written == list(_rows(load_config(path), None, DropCount()))
    assert len(written) == len(lines) and set(written[0]) == {"prompt", "completion"}


def test_bad_rows_fail_the_export_with_their_place_and_leave_no_file(tmp_path, capsys) -> None:
    (tmp_path / "data.jsonl").write_text('{"text": "fine"}\n{"text": 3}\n')
    path = tmp_path / "job.yaml"
    path.write_text(f"model: {{name_or_path: org/model}}\ndataset: {{source: {tmp_path / 'data.jsonl'}}}\n")
    assert main(["export", str(path), "--to", "script"]) == 2
    err = capsys.readouterr().err
    assert "data.jsonl:2" in err and "skip_bad" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.jsonl", "job.yaml"]


def test_a_hub_dataset_is_loaded_by_name_and_its_limits_listed(tmp_path, capsys) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(
        "model: {name_or_path: org/model}\n"
        "dataset: {source: org/chats, split: train_sft, format: sharegpt, eval_split: test, dedupe: true}\n"
    )
    script, out = exported(path, capsys)
    text = script.read_text()
    assert '"path": "org/chats"' in text and '"split": "train_sft"' in text
    assert not list(tmp_path.glob("*.rows.jsonl"))
    for lost in ("dataset.format sharegpt on a Hub dataset", "dedupe / skip_bad", "dataset.eval_split test"):
        assert lost in out and lost in text.split('"""', 1)[0] + out  # said on screen


@pytest.mark.parametrize("framework", ["hf", "unsloth"])
@pytest.mark.parametrize("method", ["full", "lora", "qlora", "lora8"])
def test_every_script_is_ruff_clean_and_formatted(tmp_path, capsys, framework, method) -> None:
    """Readable as TRL's own scripts are: lint-clean, formatted, and compiling."""
    path = job(tmp_path, "org/model", "messages.jsonl", method=method, extra=f"framework: {framework}\n")
    script, _ = exported(path, capsys)
    compile(script.read_text(), str(script), "exec")
    for command in (["check", "--select", "E,F,W,I,B"], ["format", "--check"]):
        done = subprocess.run([RUFF, *command, "--line-length", "120", "--isolated", str(script)], capture_output=True)
        assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
    text = script.read_text()
    assert ("from unsloth import FastLanguageModel" in text) is (framework == "unsloth")
    assert ("peft_config=LoraConfig" in text) is (framework == "hf" and method != "full")
    assert f'METHOD = "{method}"' in text


@pytest.mark.skipif(importlib.util.find_spec("unsloth") is None, reason="Unsloth is not installed here")
def test_the_unsloth_script_trains_on_unsloths_cpu_fallback(tmp_path, capsys, tiny_model_dir, clean_python) -> None:
    """Without a GPU Unsloth 2026.10 trains through stock transformers + PEFT + TRL: the script's straight line
    (import Unsloth first, FastLanguageModel, get_peft_model, SFTTrainer) still runs end to end."""
    shutil.copytree(tiny_model_dir, tmp_path / "tiny")
    path = job(tmp_path, str(tmp_path / "tiny"), "messages.jsonl", extra="framework: unsloth\n")
    script, _ = exported(path, capsys)
    said = run_script(clean_python, script)
    assert "saved to" in said and (tmp_path / "tiny-script" / "final" / "adapter_model.safetensors").is_file()
