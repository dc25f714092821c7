"""`ftwizard import FILE`: our exports for Axolotl, LLaMA-Factory and TRL's CLI read back into the config they
came from (every field the format can carry equal; the others said in the report), configs written the way
each tool's own examples are read with their unknown keys listed, and hostile files refused with exit 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tuiapp.cli import main
from tuiapp.core.config import load_config

SAMPLES = Path(__file__).parents[2] / "tuiapp" / "sample_data"
TOOLS = ("axolotl", "llamafactory", "trl")
# Our fields each format cannot carry: an import leaves them at our default (or, for dataset.format auto and
# precision auto, at what the export wrote: the detected format, bf16), and its report names each one.
CANNOT_CARRY = {
    "axolotl": {
        "framework",
        "dataset.skip_bad",
        "dataset.eval_split",
        "dataset.format",
        "training.oom_retries",
        "output.private",
    },
    "llamafactory": {
        "dataset.skip_bad",
        "dataset.dedupe",
        "dataset.eval_split",
        "dataset.format",
        "dataset.config_name",
        "training.precision",
        "training.oom_retries",
    },
    "trl": {
        "framework",
        "dataset.skip_bad",
        "dataset.dedupe",
        "dataset.eval_split",
        "dataset.eval_size",
        "dataset.format",
        "dataset.columns",
        "training.precision",
        "training.oom_retries",
    },
}
TRAINING = (
    "max_steps: 30, eval_steps: 10, learning_rate: 1.0e-4, lr_scheduler: linear, warmup_ratio: 0.1, "
    "micro_batch_size: 4, grad_accum: 2, max_length: 512, packing: true, gradient_checkpointing: false, "
    "optimizer: adamw_8bit, weight_decay: 0.01, max_grad_norm: 0.5, seed: 7, logging_steps: 5, save_steps: 10, "
    "save_total_limit: 2, oom_retries: 0"
)
# (name, config text with DATA for the data folder): every method, the sft formats, renames, a Hub dataset,
# and non-default values on every field
CONFIGS = [
    (
        "messages-lora",
        "model: {name_or_path: Qwen/Qwen2.5-0.5B-Instruct}\nmethod: lora\n"
        "lora: {r: 8, alpha: 16, dropout: 0.1, target_modules: [q_proj, v_proj], use_rslora: true}\n"
        "dataset: {source: DATA/messages.jsonl, format: messages, eval_size: 0.1, dedupe: true}\n"
        f"training: {{{TRAINING}, precision: bf16}}\noutput: {{run_name: rt-lora, hub_repo: me/rt-lora}}\n",
    ),
    (
        "alpaca-renamed-qlora",
        "model: {name_or_path: meta-llama/Llama-3.2-1B-Instruct}\nmethod: qlora\n"
        "lora: {r: 32, alpha: 64, use_dora: true}\n"
        "dataset: {source: DATA/qa.json, format: alpaca, columns: {question: instruction, answer: output}, "
        "eval_size: 20, skip_bad: true}\n"
        "training: {epochs: 2.0, precision: fp16, save_total_limit: null, micro_batch_size: 1, grad_accum: 16}\n",
    ),
    (
        "text-full",
        "model: {name_or_path: org/base, revision: v1, trust_remote_code: true, attn_implementation: eager}\n"
        "method: full\ndataset: {source: DATA/text.txt, format: text, skip_bad: true}\n"
        "training: {precision: fp32, max_length: 256, learning_rate: 1.0e-5, oom_retries: 1}\n",
    ),
    (
        "sharegpt-lora8-auto",
        "model: {name_or_path: mistralai/Mistral-7B-Instruct-v0.3}\nmethod: lora8\nframework: unsloth\n"
        "dataset: {source: DATA/sharegpt.json, eval_size: 0.05}\ntraining: {max_steps: 50}\n",
    ),
    (
        "prompt-completion-lora",
        "model: {name_or_path: google/gemma-2-2b}\nlora: {target_modules: [q_proj]}\n"
        "dataset: {source: DATA/prompt_completion.jsonl, format: prompt_completion}\n"
        "output: {hub_repo: me/pc, private: false}\n",
    ),
    (
        "hub-dataset",
        "model: {name_or_path: Qwen/Qwen2.5-0.5B}\n"
        "dataset: {source: trl-lib/Capybara, config_name: default, eval_split: test, format: messages}\n",
    ),
]


def flat(data: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in data.items():
        if isinstance(value, dict) and key != "columns":
            out |= flat(value, f"{prefix}{key}.")
        else:
            out[prefix + key] = value
    return out


def folder_with_data(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for sample in ("messages.jsonl", "sharegpt.json", "prompt_completion.jsonl", "text.txt"):
        shutil.copy(SAMPLES / sample, folder / sample)
    rows = json.loads((SAMPLES / "alpaca.json").read_text())
    renamed = [{"question": r["instruction"], "input": r["input"], "answer": r["output"]} for r in rows]
    (folder / "qa.json").write_text(json.dumps(renamed))
    return folder


def run_import(capsys, *args: object) -> tuple[int, str, str]:
    code = main(["import", *map(str, args)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.mark.parametrize("to", TOOLS)
@pytest.mark.parametrize(("name", "text"), CONFIGS, ids=[name for name, _ in CONFIGS])
def test_an_export_imports_back_to_the_config_it_came_from(tmp_path, capsys, to, name, text) -> None:
    folder = folder_with_data(tmp_path, name)
    source = folder / "job.yaml"
    source.write_text(text.replace("DATA", str(folder)))
    assert main(["export", str(source), "--to", to]) == 0
    capsys.readouterr()
    code, out, _ = run_import(capsys, folder / f"job.{to}.yaml")
    assert code == 0
    assert "not mapped" not in out  # every key our exporter writes is read back or is what ftwizard does anyway
    original = flat(load_config(source).model_dump())
    imported = flat(load_config(folder / f"job.{to}.ftwizard.yaml").model_dump())
    differ = {key for key in original if original[key] != imported[key]}
    assert differ <= CANNOT_CARRY[to], {key: (original[key], imported[key]) for key in differ - CANNOT_CARRY[to]}
    for key in differ:  # never silently: the report names each field that came back otherwise
        assert key in out, key


def test_a_config_in_axolotls_example_style_maps_and_lists_the_rest(tmp_path, capsys) -> None:
    path = tmp_path / "lora-1b.yml"
    path.write_text(
        "base_model: someone/Llama-3.2-1B\nload_in_8bit: false\nload_in_4bit: false\nstrict: false\n"
        "datasets:\n  - path: someone/alpaca-cleaned\n    type: alpaca\n"
        "dataset_prepared_path: last_run_prepared\nval_set_size: 0.05\noutput_dir: ./outputs/lora-out\n"
        "adapter: lora\nlora_model_dir:\nsequence_len: 4096\nsample_packing: true\neval_sample_packing: false\n"
        "lora_r: 32\nlora_alpha: 16\nlora_dropout: 0.05\nlora_fan_in_fan_out:\n"
        "lora_target_modules:\n  - q_proj\n  - k_proj\n  - v_proj\n  - o_proj\n"
        "wandb_project:\ngradient_accumulation_steps: 4\nmicro_batch_size: 2\nnum_epochs: 4\n"
        "optimizer: adamw_8bit\nlr_scheduler: cosine\nlearning_rate: 0.0002\ntrain_on_inputs: false\n"
        "bf16: auto\ntf32: false\ngradient_checkpointing: true\nlogging_steps: 1\nflash_attention: true\n"
        "warmup_steps: 10\nevals_per_epoch: 4\nsaves_per_epoch: 1\nweight_decay: 0.0\n"
        "special_tokens:\n  pad_token: <|end_of_text|>\n"
    )
    code, out, _ = run_import(capsys, path)
    assert code == 0 and "read as a config for Axolotl" in out
    config = load_config(tmp_path / "lora-1b.ftwizard.yaml")
    lora = config.lora
    assert (config.method, lora.r, lora.alpha, lora.target_modules[-1]) == ("lora", 32, 16, "o_proj")
    assert (config.training.precision, config.training.max_length, config.training.packing) == ("auto", 4096, True)
    assert (config.training.epochs, config.training.grad_accum, config.training.optimizer) == (4.0, 4, "adamw_8bit")
    assert config.dataset.source == "someone/alpaca-cleaned" and config.dataset.format == "alpaca"
    assert (config.dataset.eval_size, config.output.run_name) == (0.05, "lora-out")
    unmapped = out.split("not mapped, left out", 1)[1].split("left at ftwizard's defaults", 1)[0]
    for key in ("strict", "flash_attention", "tf32", "evals_per_epoch", "special_tokens", "wandb_project"):
        assert f"  - {key} = " in unmapped, key
    assert "warmup_steps = 10: ftwizard sets warmup as a share of the steps" in unmapped
    assert "train_on_inputs = false" in out.split("as ftwizard does it already", 1)[1]
    header = (tmp_path / "lora-1b.ftwizard.yaml").read_text()
    assert "#  - flash_attention = true: ftwizard has no such setting" in header  # the file keeps the list too


def test_a_config_in_llamafactorys_example_style_reads_its_dataset_info(tmp_path, capsys) -> None:
    rows = [{"instruction": "2+2?", "input": "", "output": "4"}]
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "support.json").write_text(json.dumps(rows))
    chat = {"formatting": "sharegpt", "columns": {"messages": "conversation"}, "tags": {"role_tag": "role"}}
    info = {"support": {"file_name": "support.json"}, "chat": {"file_name": "chat.jsonl"} | chat}
    (tmp_path / "data" / "dataset_info.json").write_text(json.dumps(info))
    path = tmp_path / "llama3_lora_sft.yaml"
    text = (
        "### model\nmodel_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct\ntrust_remote_code: true\n"
        "### method\nstage: sft\ndo_train: true\nfinetuning_type: lora\nlora_rank: 8\nlora_target: all\n"
        "### dataset\ndataset: support,identity\ntemplate: llama3\ncutoff_len: 1024\nmax_samples: 1000\n"
        "overwrite_cache: true\npreprocessing_num_workers: 16\n"
        "### output\noutput_dir: saves/llama3-8b/lora/sft\nlogging_steps: 10\nsave_steps: 500\nplot_loss: true\n"
        "overwrite_output_dir: true\nreport_to: none\n"
        "### train\nper_device_train_batch_size: 1\ngradient_accumulation_steps: 8\nlearning_rate: 1.0e-4\n"
        "num_train_epochs: 3.0\nlr_scheduler_type: cosine\nwarmup_ratio: 0.1\nbf16: true\nddp_timeout: 180000000\n"
    )
    path.write_text(text)
    code, out, _ = run_import(capsys, path)
    assert code == 0 and "read as a config for LLaMA-Factory" in out
    config = load_config(tmp_path / "llama3_lora_sft.ftwizard.yaml")
    assert config.dataset.source == str(tmp_path / "data" / "support.json") and config.dataset.format == "alpaca"
    assert (config.method, config.lora.r, config.lora.target_modules) == ("lora", 8, "all-linear")
    assert (config.training.max_length, config.training.epochs, config.training.precision) == (1024, 3.0, "bf16")
    assert (config.training.grad_accum, config.output.run_name, config.model.trust_remote_code) == (8, "sft", True)
    for said in ("dataset = identity: ftwizard trains on one dataset", "max_samples = 1000", "plot_loss = true"):
        assert said in out, said
    assert "template = llama3" in out.split("as ftwizard does it already", 1)[1]  # the family's own template
    path.write_text(text.replace("dataset: support,identity", "dataset: chat\ndataset_dir: data"))
    code, _, err = run_import(capsys, path, "--force")
    config = load_config(tmp_path / "llama3_lora_sft.ftwizard.yaml")
    assert code == 0 and (config.dataset.format, config.dataset.columns) == ("messages", {"conversation": "messages"})
    assert "note: dataset_info.json: chat.jsonl is not found in" in err  # a config for another box: said, kept


def test_configs_in_trls_example_style_map_with_trls_own_defaults(tmp_path, capsys) -> None:
    path = tmp_path / "example_config.yaml"
    path.write_text(
        "model_name_or_path: Qwen/Qwen2.5-0.5B\ndataset_name: stanfordnlp/imdb\nreport_to: none\n"
        "learning_rate: 0.0001\nlr_scheduler_type: cosine\ndataset_text_field: text\ntorch_dtype: bfloat16\n"
    )
    code, out, _ = run_import(capsys, path)
    assert code == 0 and "read as a config for TRL's CLI" in out
    config = load_config(tmp_path / "example_config.ftwizard.yaml")
    assert (config.method, config.dataset.source, config.training.learning_rate) == ("full", "stanfordnlp/imdb", 1e-4)
    assert "use_peft not set (TRL's CLI defaults it to false) -> method = full" in out
    assert "dataset_text_field = text: ftwizard has no such setting" in out and "torch_dtype = bfloat16" in out
    path.write_text(
        "model_name_or_path: Qwen/Qwen2.5-0.5B\nuse_peft: true\nlora_target_modules: all-linear\nlora_r: 16\n"
        "load_in_4bit: true\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 4\nmax_length: 1024\n"
        "warmup_ratio: 0.05\nmax_steps: -1\nbf16: true\n"
        "datasets:\n  - path: json\n    data_files: rows.jsonl\n    split: train\n  - path: other/data\n"
    )
    shutil.copy(SAMPLES / "messages.jsonl", tmp_path / "rows.jsonl")
    code, out, _ = run_import(capsys, path, "--force")
    config = load_config(tmp_path / "example_config.ftwizard.yaml")
    assert (config.method, config.lora.target_modules, config.training.micro_batch_size) == ("qlora", "all-linear", 4)
    assert (config.training.max_steps, config.training.warmup_ratio, config.training.precision) == (None, 0.05, "bf16")
    assert config.dataset.source == str(tmp_path / "rows.jsonl") and config.dataset.format == "auto"
    assert "datasets[1] = " in out and "ftwizard trains on one dataset" in out


def test_from_names_the_tool_when_the_keys_do_not(tmp_path, capsys) -> None:
    path = tmp_path / "sparse.yaml"
    path.write_text("model_name_or_path: org/model\nnum_train_epochs: 2\n")
    assert run_import(capsys, path)[0] == 2
    assert run_import(capsys, path, "--from", "trl")[0] == 0
    assert load_config(tmp_path / "sparse.ftwizard.yaml").training.epochs == 2.0


HOSTILE = [
    ("notyaml.yaml", "base_model: [org/model\n", "notyaml.yaml:2:1: not valid YAML"),
    ("list.yaml", "- base_model: org/model\n", "list.yaml: the file holds a list, not a mapping"),
    ("empty.yaml", "", "empty.yaml: the file is empty"),
    ("unknown.yaml", "model: org/model\nepochs: 3\n", "unknown.yaml: not a config of a tool ftwizard imports"),
    ("ours.yaml", "model: {name_or_path: org/model}\n", "ours.yaml is an ftwizard config already"),
    ("bad.yaml", "base_model: org/m\nadapter: lora\nlora_r: -3\n", "bad.yaml:3: lora_r: lora.r must be a positive"),
    ("rl.yaml", "base_model: org/m\nsequence_len: 512\nrl: dpo\n", "rl.yaml:3: rl = dpo: ftwizard imports sup"),
    ("stage.yaml", "model_name_or_path: org/m\nstage: ppo\n", "stage.yaml:2: stage = ppo: ftwizard imports sup"),
    ("alias.yaml", "base_model: &m org/m\nsequence_len: *m\n", "alias.yaml:1: anchors (&m) are not read"),
    ("big.yaml", "base_model: org/m\n" + "# padding\n" * 120_000, "far larger than a config"),
]


@pytest.mark.parametrize(("name", "text", "said"), HOSTILE, ids=[name for name, _, _ in HOSTILE])
def test_a_hostile_file_exits_2_naming_file_and_key_and_writes_nothing(tmp_path, capsys, name, text, said) -> None:
    path = tmp_path / name
    path.write_text(text)
    code, _, err = run_import(capsys, path)
    assert code == 2 and said in err, err
    assert list(tmp_path.iterdir()) == [path]


def test_a_dataset_info_that_is_not_json_exits_2(tmp_path, capsys) -> None:
    (tmp_path / "dataset_info.json").write_text("{broken")
    path = tmp_path / "lf.yaml"
    path.write_text("model_name_or_path: org/m\nstage: sft\ndataset: mine\n")
    code, _, err = run_import(capsys, path)
    assert code == 2 and "dataset_info.json: not JSON (line 1" in err
    assert not (tmp_path / "lf.ftwizard.yaml").exists()


def test_an_existing_output_is_kept_without_force(tmp_path, capsys) -> None:
    path = tmp_path / "job.yaml"
    path.write_text("base_model: org/m\nsequence_len: 512\nhub_token: hf_" + "a" * 34 + "\n")
    existing = tmp_path / "job.ftwizard.yaml"
    existing.write_text("mine\n")
    code, _, err = run_import(capsys, path)
    assert code == 2 and "job.ftwizard.yaml exists. Pass --force to replace it" in err
    assert existing.read_text() == "mine\n"
    code, _, err = run_import(capsys, path, "-o", path, "--force")
    assert code == 2 and "is the file being imported" in err
    code, out, _ = run_import(capsys, path, "--force")
    assert code == 0 and load_config(existing).training.max_length == 512
    assert "hub_token = hf_…: ftwizard never keeps a token" in out
    assert "hf_aaa" not in out + existing.read_text()
    (tmp_path / "out").mkdir()
    assert run_import(capsys, path, "-o", tmp_path / "out")[0] == 0
    assert (tmp_path / "out" / "job.ftwizard.yaml").is_file()
