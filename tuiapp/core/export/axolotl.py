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
from tuiapp.core.export.key_table import (
    UNSET,
    Key,
    NotCarried,
    is_falsy,
    is_none,
    precision_flags,
    read_only,
    run_name_key,
    searched,
    share_or_count,
    warmup_share,
    written,
)

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig

AXOLOTL_CHECKED = "0.19.0"  # the Axolotl whose validate_config read these exports (scripts/make-tool-venvs.sh)
SUFFIX_TYPES = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet", ".txt": "text"}


def _is_full(method: str) -> bool:
    return method == "full"


def _modules(targets: object) -> object:
    """lora_target_modules read back: a list of names; a string is a regular expression to PEFT."""
    if isinstance(targets, str):
        raise NotCarried("a regular expression over module names; ftwizard takes a list of names or all-linear")
    return targets


# Axolotl's keys for our settings, both ways (tuiapp/core/export/key_table.py); the rest is said in code below.
AXOLOTL_MODEL = (
    Key("trust_remote_code", "model.trust_remote_code"),
    Key("attn_implementation", "model.attn_implementation"),
    Key("revision_of_model", "model.revision", omit=is_none),
)
AXOLOTL_ADAPTER = (  # written for an adapter only
    # no adapter is a full fine-tune
    searched("adapter", "method", lambda m: "qlora" if m == "qlora" else "lora", omit=_is_full, absent=None),
    searched("load_in_4bit", "method", lambda method: method == "qlora", omit=_is_full),
    searched("load_in_8bit", "method", lambda method: method == "lora8", omit=_is_full),
    Key("lora_r", "lora.r"),
    Key("lora_alpha", "lora.alpha"),
    Key("lora_dropout", "lora.dropout"),
    Key("peft_use_dora", "lora.use_dora"),
    Key("peft_use_rslora", "lora.use_rslora"),
    Key(
        "lora_target_linear",
        "lora.target_modules",
        out=lambda targets: True,
        omit=lambda targets: targets != "all-linear",
        back=lambda linear: "all-linear" if linear is True else UNSET,
    ),
    Key("lora_target_modules", "lora.target_modules", out=list, omit=lambda t: t == "all-linear", back=_modules),
)
AXOLOTL_DATA = (
    Key("dataset_exact_deduplication", "dataset.dedupe", omit=is_falsy),
    Key("val_set_size", "dataset.eval_size", out=share_or_count, omit=is_falsy),
)
AXOLOTL_TRAINING = (
    Key("sequence_len", "training.max_length"),
    Key("sample_packing", "training.packing"),
    run_name_key("output_dir", "axolotl-run"),
    Key("num_epochs", "training.epochs"),
    Key("learning_rate", "training.learning_rate"),
    Key("lr_scheduler", "training.lr_scheduler"),
    Key("warmup_ratio", "training.warmup_ratio"),
    read_only("warmup_steps", "training.warmup_ratio", warmup_share),
    Key("micro_batch_size", "training.micro_batch_size"),
    Key("gradient_accumulation_steps", "training.grad_accum"),
    Key("optimizer", "training.optimizer"),
    Key("weight_decay", "training.weight_decay"),
    Key("max_grad_norm", "training.max_grad_norm"),
    Key("gradient_checkpointing", "training.gradient_checkpointing"),
    *precision_flags(auto_as=None),  # Axolotl's bf16: auto is ours
    Key("seed", "training.seed"),
    Key("logging_steps", "training.logging_steps"),
    Key("save_steps", "training.save_steps"),
    Key("max_steps", "training.max_steps", omit=is_falsy),
    Key("eval_steps", "training.eval_steps", omit=is_falsy),
    Key("save_total_limit", "training.save_total_limit", omit=is_none, absent=None),  # none: every one is kept
    Key("hub_model_id", "output.hub_repo", omit=is_none),
)
AXOLOTL_KEYS = AXOLOTL_MODEL + AXOLOTL_ADAPTER + AXOLOTL_DATA + AXOLOTL_TRAINING


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
    values = {"base_model": relative_to_export(config.model.name_or_path, destination)}
    values |= written(config, AXOLOTL_MODEL)
    if not config.uses_adapter:
        return values
    values |= written(config, AXOLOTL_ADAPTER)
    if config.method == "qlora":  # NF4 with double quantization, as our backend loads it
        values["bnb_config_kwargs"] = {"bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": True}
    return values


def dataset_entry(fmt: str, renamed: dict[str, str]) -> dict[str, Any]:
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
    entry = dataset_entry(fmt, renamed)
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
    values |= written(config, AXOLOTL_DATA)
    if data.eval_split is not None:
        lost.append("dataset.eval_split: Axolotl holds out val_set_size rows; name the split in test_datasets instead")
    if data.skip_bad:
        lost.append("dataset.skip_bad: Axolotl stops at a row it cannot read")
    return values


def _training(config: FTConfig, lost: list[str]) -> dict[str, Any]:
    t, out = config.training, config.output
    values = written(config, AXOLOTL_TRAINING)
    if out.hub_repo is not None and out.private:  # the token comes from HF_TOKEN or `hf auth login`, never here
        lost.append("output.private: Axolotl has no setting for it; create the Hub repo as private first")
    if config.framework == "unsloth":
        lost.append("framework unsloth: Axolotl has its own kernels (lora_mlp_kernel, …), not Unsloth's")
    if t.oom_retries:
        lost.append(f"training.oom_retries {t.oom_retries}: Axolotl stops at an out-of-memory error")
    return values
