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
from tuiapp.core.export.key_table import (
    Key,
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


def _steps(max_steps: object) -> object:
    """max_steps read back: -1 (or any count below 1) means train for the epochs, as TrainingArguments reads it."""
    return None if isinstance(max_steps, int) and not isinstance(max_steps, bool) and max_steps < 1 else max_steps


def _targets(modules: object) -> object:
    """lora_target_modules read back: ["all-linear"] (or the bare name) is all-linear, one name a list of it."""
    if modules == ["all-linear"] or modules == "all-linear":
        return "all-linear"
    return [modules] if isinstance(modules, str) else modules


# TRL's CLI keys for our settings, both ways (tuiapp/core/export/key_table.py); the rest is said in code below.
TRL_MODEL = (
    Key(
        "model_revision",
        "model.revision",
        out=lambda rev: rev or "main",
        back=lambda rev: None if rev == "main" else rev,
    ),
    Key("trust_remote_code", "model.trust_remote_code"),
    Key("attn_implementation", "model.attn_implementation"),
    searched("use_peft", "method", lambda method: method != "full", absent=False),  # ModelConfig's own default
    searched("load_in_4bit", "method", lambda method: True, omit=lambda method: method != "qlora"),
    searched("load_in_8bit", "method", lambda method: True, omit=lambda method: method != "lora8"),
)
TRL_ADAPTER = (  # written for an adapter only
    Key("lora_r", "lora.r"),
    Key("lora_alpha", "lora.alpha"),
    Key("lora_dropout", "lora.dropout"),
    Key("lora_target_modules", "lora.target_modules", out=lambda t: [t] if isinstance(t, str) else t, back=_targets),
    Key("use_dora", "lora.use_dora"),
    Key("use_rslora", "lora.use_rslora"),
)
TRL_LOCAL_DATA = (Key("test_split_size", "dataset.eval_size", out=share_or_count, omit=is_falsy),)  # train_test_split
TRL_HUB_DATA = (
    Key("dataset_name", "dataset.source"),
    Key("dataset_train_split", "dataset.split"),
    Key("dataset_config", "dataset.config_name", omit=is_none),
    Key("dataset_test_split", "dataset.eval_split", omit=is_none),
)
TRL_TRAINING = (
    run_name_key("output_dir", "trl-run"),
    Key("num_train_epochs", "training.epochs"),
    Key("max_steps", "training.max_steps", out=lambda steps: steps or -1, back=_steps),
    Key("learning_rate", "training.learning_rate"),
    Key("lr_scheduler_type", "training.lr_scheduler"),
    # a float below 1 is a share of the total steps, as our backend passes it
    Key("warmup_steps", "training.warmup_ratio", back=warmup_share),
    read_only("warmup_ratio", "training.warmup_ratio", lambda share: share),  # TRL before 1.x
    Key("per_device_train_batch_size", "training.micro_batch_size"),
    Key("per_device_eval_batch_size", "training.micro_batch_size"),
    Key("gradient_accumulation_steps", "training.grad_accum"),
    Key("max_length", "training.max_length"),
    Key("packing", "training.packing"),
    Key("gradient_checkpointing", "training.gradient_checkpointing"),
    Key("optim", "training.optimizer"),
    Key("weight_decay", "training.weight_decay"),
    Key("max_grad_norm", "training.max_grad_norm"),
    *precision_flags(auto_as="bf16"),
    Key("seed", "training.seed"),
    Key("logging_steps", "training.logging_steps"),
    Key("save_steps", "training.save_steps"),
    Key("eval_steps", "training.eval_steps", omit=is_falsy),  # written when there is an eval split
    Key("save_total_limit", "training.save_total_limit", omit=is_none, absent=None),  # none: every one is kept
)
TRL_HUB = (  # written when the config names a Hub repo
    Key("hub_model_id", "output.hub_repo"),
    Key("hub_private_repo", "output.private"),
)
TRL_KEYS = TRL_MODEL + TRL_ADAPTER + TRL_LOCAL_DATA + TRL_HUB_DATA + TRL_TRAINING + TRL_HUB


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
    precision = config.training.precision
    compute = DTYPES.get(precision, "bfloat16")
    values: dict[str, Any] = {
        "model_name_or_path": relative_to_export(config.model.name_or_path, destination),
        # fp16 mixed precision keeps fp32 master weights when every weight trains, as our backend loads them
        "dtype": "float32" if config.method == "full" and precision == "fp16" else compute,
    }
    values |= written(config, TRL_MODEL)
    if precision == "auto":
        lost.append(
            "training.precision auto: ftwizard picks bf16 where the GPU has it, else fp16 (fp32 on a CPU); the "
            "export says bf16: on a GPU older than Ampere set dtype: float16, bf16: false and fp16: true"
        )
    if config.framework == "unsloth":
        lost.append("framework unsloth: TRL's CLI trains with transformers + PEFT, without Unsloth's kernels")
    if not config.uses_adapter:
        return values
    values |= written(config, TRL_ADAPTER)
    if config.method == "qlora":
        values |= {"bnb_4bit_quant_type": "nf4", "use_bnb_nested_quant": True, "bnb_4bit_quant_storage": compute}
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
        values |= written(config, TRL_LOCAL_DATA)
        if data.eval_split is not None:
            lost.append(
                "dataset.eval_split: a local source has one split; TRL evaluates only on rows held out by eval_size"
            )
    else:
        values |= written(config, TRL_HUB_DATA)
        if data.eval_split is None and data.eval_size:
            lost.append("dataset.eval_size on a Hub dataset: TRL's CLI holds out rows only from `datasets:` entries")
    return values


def _training(config: FTConfig, has_eval: bool, lost: list[str]) -> dict[str, Any]:
    t, out = config.training, config.output
    values = written(config, TRL_TRAINING, leave_out=() if has_eval else ("eval_steps",))
    values |= {
        "eval_strategy": ("steps" if t.eval_steps else "epoch") if has_eval else "no",
        "save_strategy": "steps",
        "report_to": "none",
    }
    if t.gradient_checkpointing:
        values["gradient_checkpointing_kwargs"] = {"use_reentrant": False}
    if out.hub_repo is not None:  # the token comes from HF_TOKEN or `hf auth login` on the box, never from here
        values |= {"push_to_hub": True} | written(config, TRL_HUB)
    if t.oom_retries:
        lost.append(
            f"training.oom_retries {t.oom_retries}: TRL's CLI stops at an out-of-memory error; ftwizard restarts "
            "from the last checkpoint with half the micro-batch"
        )
    return values
