"""Our config as a config for TRL's own command line, `trl sft --config FILE` (TRL 1.x).

TRL's CLI reads one flat YAML whose keys are the fields of four dataclasses: ScriptArguments (the dataset by
name), SFTConfig (the training arguments), ModelConfig (the model, PEFT and bitsandbytes) and
DatasetMixtureConfig (`datasets:`, a list of load_dataset arguments, which is how a local file is given).
The values follow what our hf backend passes to the same classes (tuiapp/training/backend_hf.py), so a run
from the export trains the same model on the same rows with the same settings; what TRL's CLI cannot do is
listed, never dropped in silence.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuiapp.core.export.export_result import Export, relative_to_export

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig

TRL_CHECKED = "1.16.0"  # the TRL whose CLI trained from this export in our tests (tests/cli/test_cli_export_trl.py)
# load_dataset's builder for each local suffix TRL's `datasets:` entries can name without extra arguments.
BUILDERS = {
    ".jsonl": "json",
    ".jsonl.gz": "json",
    ".json": "json",
    ".csv": "csv",
    ".parquet": "parquet",
    ".txt": "text",
}
NATIVE_SFT_FORMATS = ("messages", "prompt_completion", "text")  # rows TRL's SFTTrainer reads as they are
DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}


def trl_export(config: FTConfig, source: str, destination: Path, data_format: str | None) -> Export:
    """The TRL CLI YAML for `config` (read from `source`), to be written at `destination`. `data_format` is the
    dataset's format as detected from its rows (None when it could not be looked at, as for a Hub id)."""
    if config.task != "sft":
        from tuiapp.core.user_error import UserError

        raise UserError(
            f"task: the TRL export covers sft for now, not {config.task}",
            "export --to ftwizard keeps every task; `ftwizard train` runs it",
        )
    lost: list[str] = []
    values: dict[str, Any] = {}
    values.update(_model(config, destination, lost))
    values.update(_dataset(config, destination, data_format, lost))
    has_eval = "test_split_size" in values or "dataset_test_split" in values  # TRL evaluates on its "test" split
    values.update(_training(config, has_eval, lost))
    command = f"trl sft --config {destination.name}"
    header = [
        f"TRL CLI config: run `{command}` from this folder.",
        f"Exported by ftwizard from {source}; checked against trl {TRL_CHECKED}.",
    ]
    return Export(values=values, header=header, untranslated=lost, command=command)


def _model(config: FTConfig, destination: Path, lost: list[str]) -> dict[str, Any]:
    model, lora, precision = config.model, config.lora, config.training.precision
    compute = DTYPES.get(precision, "bfloat16")
    values: dict[str, Any] = {
        "model_name_or_path": relative_to_export(model.name_or_path, destination),
        "model_revision": model.revision or "main",
        "trust_remote_code": model.trust_remote_code,
        "attn_implementation": model.attn_implementation,
        # fp16 mixed precision keeps fp32 master weights when every weight trains, as our backend loads them
        "dtype": "float32" if config.method == "full" and precision == "fp16" else compute,
    }
    if precision == "auto":
        lost.append(
            "training.precision auto: ftwizard picks bf16 where the GPU has it, else fp16 (fp32 on a CPU); the "
            "export says bf16: on a GPU older than Ampere set dtype: float16, bf16: false and fp16: true"
        )
    if config.framework == "unsloth":
        lost.append("framework unsloth: TRL's CLI trains with transformers + PEFT, without Unsloth's kernels")
    if not config.uses_adapter:
        return values | {"use_peft": False}
    values |= {
        "use_peft": True,
        "lora_r": lora.r,
        "lora_alpha": lora.alpha,
        "lora_dropout": lora.dropout,
        "lora_target_modules": [lora.target_modules] if isinstance(lora.target_modules, str) else lora.target_modules,
        "use_dora": lora.use_dora,
        "use_rslora": lora.use_rslora,
    }
    if config.method == "qlora":
        values |= {
            "load_in_4bit": True,
            "bnb_4bit_quant_type": "nf4",
            "use_bnb_nested_quant": True,
            "bnb_4bit_quant_storage": compute,
        }
    elif config.method == "lora8":
        values["load_in_8bit"] = True
    return values


def _dataset(config: FTConfig, destination: Path, data_format: str | None, lost: list[str]) -> dict[str, Any]:
    from tuiapp.core.data.sources import file_suffix, is_local_source
    from tuiapp.core.user_paths import user_path

    data = config.dataset
    if data is None:
        lost.append("dataset: the config names none; add a `datasets:` entry before training")
        return {}
    fmt = data.format if data.format != "auto" else data_format
    if fmt is not None and fmt not in NATIVE_SFT_FORMATS:
        lost.append(
            f"dataset.format {fmt}: TRL's SFT reads messages, prompt/completion or text rows as they are; ftwizard "
            "converts the rest while it trains, TRL's CLI does not (convert the file first, or train with ftwizard)"
        )
    if fmt in ("messages", "sharegpt", None):
        lost.append(
            "loss on the assistant's turns only: ftwizard adds generation marks to known chat templates; TRL's "
            "CLI trains on whole conversations unless assistant_only_loss: true is set on a template that has them"
        )
    if data.columns:
        renames = ", ".join(f"{old} -> {new}" for old, new in data.columns.items())
        lost.append(f"dataset.columns ({renames}): TRL's CLI renames no columns; rename them in the file")
    if data.skip_bad:
        lost.append("dataset.skip_bad: TRL's CLI stops at a row it cannot parse")
    if data.dedupe:
        lost.append("dataset.dedupe: TRL's CLI keeps repeated rows")
    values: dict[str, Any] = {}
    if is_local_source(data.source):
        path = user_path(data.source)
        builder = BUILDERS.get(file_suffix(path))
        where = relative_to_export(str(path), destination)
        if path.is_dir():
            entry: dict[str, Any] = {"path": where}
        elif builder is None:
            lost.append(f"dataset.source {path.name}: load_dataset has no reader for this suffix; use jsonl or csv")
            entry = {"path": where}
        else:
            entry = {"path": builder, "data_files": where}
            if builder == "text":
                lost.append("blank lines of a .txt source: ftwizard drops them, load_dataset keeps them as empty rows")
        values["datasets"] = [entry | {"split": "train"}]
        if data.eval_size:  # train_test_split reads a share below 1 or a row count
            values["test_split_size"] = data.eval_size if data.eval_size < 1 else int(data.eval_size)
        if data.eval_split is not None:
            lost.append(
                "dataset.eval_split: a local source has one split; TRL evaluates only on rows held out by eval_size"
            )
    else:
        values |= {"dataset_name": data.source, "dataset_train_split": data.split}
        if data.config_name is not None:
            values["dataset_config"] = data.config_name
        if data.eval_split is not None:
            values["dataset_test_split"] = data.eval_split
        elif data.eval_size:
            lost.append("dataset.eval_size on a Hub dataset: TRL's CLI holds out rows only from `datasets:` entries")
    return values


def _training(config: FTConfig, has_eval: bool, lost: list[str]) -> dict[str, Any]:
    t, out = config.training, config.output
    precision = "bf16" if t.precision == "auto" else t.precision
    values: dict[str, Any] = {
        "output_dir": f"{out.run_name or 'trl-run'}",
        "num_train_epochs": t.epochs,
        "max_steps": t.max_steps or -1,
        "learning_rate": t.learning_rate,
        "lr_scheduler_type": t.lr_scheduler,
        "warmup_steps": t.warmup_ratio,  # a float below 1 is a share of the total steps, as our backend passes it
        "per_device_train_batch_size": t.micro_batch_size,
        "per_device_eval_batch_size": t.micro_batch_size,
        "gradient_accumulation_steps": t.grad_accum,
        "max_length": t.max_length,
        "packing": t.packing,
        "gradient_checkpointing": t.gradient_checkpointing,
        "optim": t.optimizer,
        "weight_decay": t.weight_decay,
        "max_grad_norm": t.max_grad_norm,
        "bf16": precision == "bf16",
        "fp16": precision == "fp16",
        "seed": t.seed,
        "logging_steps": t.logging_steps,
        "eval_strategy": ("steps" if t.eval_steps else "epoch") if has_eval else "no",
        "save_strategy": "steps",
        "save_steps": t.save_steps,
        "report_to": "none",
    }
    if t.gradient_checkpointing:
        values["gradient_checkpointing_kwargs"] = {"use_reentrant": False}
    if has_eval and t.eval_steps:
        values["eval_steps"] = t.eval_steps
    if t.save_total_limit is not None:
        values["save_total_limit"] = t.save_total_limit
    if out.hub_repo is not None:  # the token comes from HF_TOKEN or `hf auth login` on the box, never from here
        values |= {"push_to_hub": True, "hub_model_id": out.hub_repo, "hub_private_repo": out.private}
    if t.oom_retries:
        lost.append(
            f"training.oom_retries {t.oom_retries}: TRL's CLI stops at an out-of-memory error; ftwizard restarts "
            "from the last checkpoint with half the micro-batch"
        )
    return values
