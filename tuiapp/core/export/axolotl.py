"""Our config as an Axolotl YAML (`axolotl train FILE`, Axolotl 0.19).

Axolotl names most of what we have (adapter, load_in_4bit, lora_* and lora_target_*, sequence_len,
sample_packing, micro_batch_size, optimizer, lr_scheduler, val_set_size, chat_template, train_on_inputs /
roles_to_train, exact deduplication); each dataset entry says its `type`, and for conversations which fields
hold the turns, so our column renames and formats translate. What it lacks is listed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuiapp.core.export.export_result import Export, relative_to_export

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig

AXOLOTL_CHECKED = "0.19.0"  # the Axolotl whose validate_config read these exports (scripts/make-tool-venvs.sh)
SUFFIX_TYPES = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet", ".txt": "text"}


def axolotl_export(config: FTConfig, source: str, destination: Path, data_format: str | None) -> Export:
    """The Axolotl YAML for `config` (read from `source`), to be written at `destination`."""
    if config.task != "sft":
        from tuiapp.core.user_error import UserError

        raise UserError(
            f"task: the Axolotl export covers sft for now, not {config.task}",
            "export --to ftwizard keeps every task; `ftwizard train` runs it",
        )
    lost: list[str] = []
    values = _model(config, destination) | _dataset(config, destination, data_format, lost) | _training(config, lost)
    command = f"axolotl train {destination.name}"
    header = [
        f"Axolotl config: run `{command}` from this folder.",
        f"Exported by ftwizard from {source}; checked against axolotl {AXOLOTL_CHECKED}.",
    ]
    return Export(values=values, header=header, untranslated=lost, command=command)


def _model(config: FTConfig, destination: Path) -> dict[str, Any]:
    model, lora = config.model, config.lora
    values: dict[str, Any] = {
        "base_model": relative_to_export(model.name_or_path, destination),
        "trust_remote_code": model.trust_remote_code,
        "attn_implementation": model.attn_implementation,
    }
    if model.revision:
        values["revision_of_model"] = model.revision
    if not config.uses_adapter:
        return values
    values |= {
        "adapter": "qlora" if config.method == "qlora" else "lora",
        "load_in_4bit": config.method == "qlora",
        "load_in_8bit": config.method == "lora8",
        "lora_r": lora.r,
        "lora_alpha": lora.alpha,
        "lora_dropout": lora.dropout,
        "peft_use_dora": lora.use_dora,
        "peft_use_rslora": lora.use_rslora,
    }
    if lora.target_modules == "all-linear":
        values["lora_target_linear"] = True
    else:
        targets = lora.target_modules
        values["lora_target_modules"] = [targets] if isinstance(targets, str) else list(targets)
    if config.method == "qlora":  # NF4 with double quantization, as our backend loads it
        values["bnb_config_kwargs"] = {"bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": True}
    return values


def _entry(fmt: str, renamed: dict[str, str]) -> dict[str, Any]:
    """The dataset entry's type and fields for rows of format `fmt` (our column -> the file's column)."""
    column = lambda ours: renamed.get(ours, ours)  # noqa: E731
    if fmt == "messages":
        return {"type": "chat_template", "field_messages": column("messages"), "roles_to_train": ["assistant"]}
    if fmt == "sharegpt":
        mappings = {"role": "from", "content": "value"}
        return {
            "type": "chat_template",
            "field_messages": column("conversations"),
            "message_property_mappings": mappings,
        }
    if fmt == "alpaca":
        if renamed:
            fields = {"field_instruction": column("instruction"), "field_input": column("input")}
            fields |= {"field_output": column("output"), "format": "{instruction}\n{input}"}
            return {"type": fields | {"no_input_format": "{instruction}"}}
        return {"type": "alpaca"}
    if fmt == "prompt_completion":
        fields = {"field_instruction": column("prompt"), "field_output": column("completion")}
        return {"type": fields | {"format": "{instruction}", "no_input_format": "{instruction}"}}
    return {"type": "completion", "field": column("text")}


def _dataset(config: FTConfig, destination: Path, data_format: str | None, lost: list[str]) -> dict[str, Any]:
    from tuiapp.core.data.sources import file_suffix, is_local_source
    from tuiapp.core.user_paths import user_path

    data = config.dataset
    if data is None:
        lost.append("dataset: the config names none; add a `datasets:` entry before training")
        return {}
    fmt = data.format if data.format != "auto" else data_format
    if fmt not in ("messages", "sharegpt", "alpaca", "prompt_completion", "text"):
        lost.append(f"dataset.format {fmt or 'unknown'}: set the entry's type for Axolotl (chat_template is assumed)")
        fmt = "messages"
    renamed = {ours: theirs for theirs, ours in data.columns.items()}
    entry = _entry(fmt, renamed)
    if is_local_source(data.source):
        path = user_path(data.source)
        entry = {
            "path": relative_to_export(str(path), destination),
            "ds_type": SUFFIX_TYPES.get(file_suffix(path)),
        } | entry
        if entry["ds_type"] is None:
            entry.pop("ds_type")
    else:
        entry = (
            {"path": data.source, "split": data.split}
            | ({"name": data.config_name} if data.config_name else {})
            | entry
        )
    values: dict[str, Any] = {"datasets": [entry], "chat_template": "tokenizer_default", "train_on_inputs": False}
    values["dataset_prepared_path"] = "last_run_prepared"
    if data.dedupe:
        values["dataset_exact_deduplication"] = True
    if data.eval_size:
        values["val_set_size"] = data.eval_size if data.eval_size < 1 else int(data.eval_size)
    if data.eval_split is not None:
        lost.append("dataset.eval_split: Axolotl holds out val_set_size rows; name the split in test_datasets instead")
    if data.skip_bad:
        lost.append("dataset.skip_bad: Axolotl stops at a row it cannot read")
    return values


def _training(config: FTConfig, lost: list[str]) -> dict[str, Any]:
    t, out = config.training, config.output
    values: dict[str, Any] = {
        "sequence_len": t.max_length,
        "sample_packing": t.packing,
        "output_dir": out.run_name or "axolotl-run",
        "num_epochs": t.epochs,
        "learning_rate": t.learning_rate,
        "lr_scheduler": t.lr_scheduler,
        "warmup_ratio": t.warmup_ratio,
        "micro_batch_size": t.micro_batch_size,
        "gradient_accumulation_steps": t.grad_accum,
        "optimizer": t.optimizer,
        "weight_decay": t.weight_decay,
        "max_grad_norm": t.max_grad_norm,
        "gradient_checkpointing": t.gradient_checkpointing,
        "bf16": "auto" if t.precision == "auto" else t.precision == "bf16",
        "fp16": t.precision == "fp16",
        "seed": t.seed,
        "logging_steps": t.logging_steps,
        "save_steps": t.save_steps,
    }
    if t.max_steps:
        values["max_steps"] = t.max_steps
    if t.eval_steps:
        values["eval_steps"] = t.eval_steps
    if t.save_total_limit is not None:
        values["save_total_limit"] = t.save_total_limit
    if out.hub_repo is not None:  # the token comes from HF_TOKEN or `hf auth login` on the box, never from here
        values["hub_model_id"] = out.hub_repo
        if out.private:
            lost.append("output.private: Axolotl has no setting for it; create the Hub repo as private first")
    if config.framework == "unsloth":
        lost.append("framework unsloth: Axolotl has its own kernels (lora_mlp_kernel, …), not Unsloth's")
    if t.oom_retries:
        lost.append(f"training.oom_retries {t.oom_retries}: Axolotl stops at an out-of-memory error")
    return values
