"""`ftwizard export CONFIG --to trl`: TRL's own parser reads every key we write, to the value we meant, and
TRL's own CLI trains from the file."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tuiapp.cli import main
from tuiapp.core.config import load_config
from tuiapp.core.export.trl_cli import TRL_CHECKED

SAMPLES = Path(__file__).parents[2] / "tuiapp" / "sample_data"


def job(folder: Path, model: str, *, method: str = "lora", data: str = "messages.jsonl", extra: str = "") -> Path:
    """A config in `folder` training on a copy of a sample file there, 2 steps on the CPU."""
    shutil.copy(SAMPLES / data, folder / data)
    path = folder / "job.yaml"
    path.write_text(
        f"model: {{name_or_path: {model}}}\nmethod: {method}\n"
        f"dataset: {{source: {folder / data}, eval_size: 0.1}}\n"
        "training: {max_steps: 2, micro_batch_size: 2, grad_accum: 1, max_length: 128, precision: fp32, "
        "save_steps: 100}\n" + (extra or "output: {run_name: tiny-trl}\n")
    )
    return path


def exported(path: Path, capsys, *args: str) -> tuple[Path, dict, str]:
    assert main(["export", str(path), "--to", "trl", *args]) == 0
    out = capsys.readouterr().out
    written = Path(out.split("wrote ", 1)[1].split(" (trl)", 1)[0])
    return written, yaml.safe_load(written.read_text()), out


def parsed_by_trl(path: Path) -> dict[str, object]:
    """Every field of TRL's four sft dataclasses after its parser read `path`, refusing unknown keys."""
    from trl.scripts.sft import make_parser

    args = ["--config", str(path), "--use_cpu", "true"]  # SFTConfig refuses bf16 on a machine without a GPU otherwise
    *parsed, remaining = make_parser().parse_args_and_config(args, return_remaining_strings=True)
    assert remaining == [], f"TRL's parser did not know: {remaining}"
    return {key: value for part in parsed for key, value in vars(part).items()}


def test_the_export_names_the_trl_it_was_checked_against() -> None:
    assert importlib.metadata.version("trl") == TRL_CHECKED


@pytest.mark.parametrize("method", ["lora", "qlora", "lora8", "full"])
def test_trl_parses_every_key_to_the_value_written(tmp_path, capsys, method) -> None:
    path = job(tmp_path, "org/model", method=method)
    written, values, _ = exported(path, capsys)
    fields = parsed_by_trl(written)
    for key, value in values.items():
        if key == "datasets":
            assert vars(fields["datasets"][0]).items() >= value[0].items()
        elif key == "lora_target_modules":  # ModelConfig turns a one-item list into the item
            assert fields[key] == value[0]
        elif key == "report_to":  # "none" is how TrainingArguments is told to report nowhere
            assert (value, fields[key]) == ("none", [])
        else:
            assert fields[key] == value, key
    assert fields["use_peft"] is (method != "full")
    assert fields["load_in_4bit"] is (method == "qlora") and fields["load_in_8bit"] is (method == "lora8")


def test_qlora_loads_as_our_backend_loads_it(tmp_path, capsys) -> None:
    """NF4 with double quantization, compute and storage in the compute dtype (tuiapp/training/backend_hf.py)."""
    from trl import ModelConfig, get_quantization_config

    path = job(tmp_path, "org/model", method="qlora")
    path.write_text(path.read_text().replace("precision: fp32", "precision: bf16"))
    written, _, _ = exported(path, capsys)
    fields = parsed_by_trl(written)
    model_args = ModelConfig(**{k: v for k, v in fields.items() if k in ModelConfig.__dataclass_fields__})
    quant = get_quantization_config(model_args)
    assert quant.load_in_4bit and quant.bnb_4bit_quant_type == "nf4" and quant.bnb_4bit_use_double_quant
    assert (
        str(quant.bnb_4bit_compute_dtype) == "torch.bfloat16" and str(quant.bnb_4bit_quant_storage) == "torch.bfloat16"
    )


def test_a_hub_dataset_is_named_with_its_splits(tmp_path, capsys) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(
        "model: {name_or_path: org/model}\n"
        "dataset: {source: trl-lib/Capybara, config_name: default, split: train, eval_split: test}\n"
    )
    written, values, _ = exported(path, capsys)
    assert "datasets" not in values
    fields = parsed_by_trl(written)
    assert (fields["dataset_name"], fields["dataset_config"]) == ("trl-lib/Capybara", "default")
    assert (fields["dataset_train_split"], fields["dataset_test_split"]) == ("train", "test")


def test_what_trl_cannot_say_is_listed_on_screen_and_in_the_file(tmp_path, capsys) -> None:
    path = job(tmp_path, "org/model", data="alpaca.json")
    path.write_text(
        path.read_text().replace(
            "eval_size: 0.1}", "eval_size: 0.1, columns: {instruction: instruction}, dedupe: true, skip_bad: true}"
        )
        + "framework: unsloth\n"
    )
    written, _, out = exported(path, capsys)
    text = written.read_text()
    for said in (
        "dataset.format alpaca",
        "dataset.columns",
        "dataset.dedupe",
        "dataset.skip_bad",
        "training.oom_retries 2",
        "framework unsloth",
    ):
        assert said in out and said in text, said
    assert "assistant's turns" not in out  # alpaca trains on the answers: the format line says what to do


def test_ftwizard_export_reads_back_as_the_same_config(tmp_path, capsys) -> None:
    path = job(tmp_path, "org/model")
    (tmp_path / "out").mkdir()
    assert main(["export", str(path), "--to", "ftwizard", "-o", str(tmp_path / "out")]) == 0
    assert "ftwizard train job.ftwizard.yaml" in capsys.readouterr().out
    assert load_config(tmp_path / "out" / "job.ftwizard.yaml") == load_config(path)


def test_no_token_reaches_the_export(tmp_path, capsys, monkeypatch) -> None:
    token = "hf_" + "x" * 34
    monkeypatch.setenv("HF_TOKEN", token)
    path = job(tmp_path, "org/model", extra="output: {run_name: tiny-trl, hub_repo: someone/tiny}\n")
    written, values, _ = exported(path, capsys)
    assert values["push_to_hub"] is True and values["hub_model_id"] == "someone/tiny"
    assert token not in written.read_text() and "hub_token" not in values


@pytest.mark.parametrize(
    ("args", "said"),
    [(["-o", "/dev/null"], "/dev/null is a character device"), (["-o", "job.yaml"], "is the config being exported")],
)
def test_a_bad_destination_is_refused_with_the_fix(tmp_path, capsys, monkeypatch, args, said) -> None:
    path = job(tmp_path, "org/model")
    monkeypatch.chdir(tmp_path)
    assert main(["export", str(path), "--to", "trl", *args]) == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err


def test_a_task_the_trl_export_does_not_cover_yet_is_refused(tmp_path, capsys) -> None:
    path = tmp_path / "job.yaml"
    path.write_text("model: {name_or_path: org/model}\ntask: dpo\n")
    assert main(["export", str(path), "--to", "trl"]) == 2
    assert "the TRL export covers sft for now, not dpo" in capsys.readouterr().err


def test_trl_cli_trains_two_steps_from_the_export(tmp_path, capsys, tiny_model_dir) -> None:
    """The file goes to TRL's own `trl sft --config`, run from the export's folder as its header says."""
    model = tmp_path / "tiny"
    shutil.copytree(tiny_model_dir, model)
    written, values, _ = exported(job(tmp_path, str(model)), capsys)
    assert values["model_name_or_path"] == "tiny" and values["datasets"][0]["data_files"] == "messages.jsonl"
    trl = Path(sys.executable).with_name("trl")
    result = subprocess.run(
        [str(trl), "sft", "--config", written.name],
        cwd=written.parent,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    said = result.stdout + result.stderr
    assert "Training completed" in said and "'eval_loss'" in said  # the held-out tenth was evaluated
    run = tmp_path / "tiny-trl"
    assert (run / "adapter_model.safetensors").is_file() and (run / "checkpoint-2").is_dir()


def test_an_eval_split_a_local_file_lacks_turns_eval_off_and_says_so(tmp_path, capsys) -> None:
    """TRL evaluates on the dataset's "test" split, which one local file has only when rows are held out."""
    path = job(tmp_path, "org/model")
    path.write_text(path.read_text().replace("eval_size: 0.1}", "eval_split: validation}"))
    written, values, out = exported(path, capsys)
    assert values["eval_strategy"] == "no" and "test_split_size" not in values
    assert "dataset.eval_split: a local source has one split" in out
    assert parsed_by_trl(written)["eval_strategy"] == "no"
