"""Our config as a LLaMA-Factory training YAML (`llamafactory-cli train FILE`, LLaMA-Factory 0.9.x), with the
`dataset_info.json` entry that names a local file for it.

LLaMA-Factory reads its own keys (stage, finetuning_type, quantization_bit, lora_rank, cutoff_len, …) and the
transformers training arguments; a local dataset is a named entry in `dataset_info.json` under `dataset_dir`,
whose `formatting` (alpaca or sharegpt) and `columns` say how to read the rows, so our column renames
translate. Conversations go through LLaMA-Factory's own template for the model family, not the tokenizer's.
"""

from __future__ import annotations

import json
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

LLAMAFACTORY_CHECKED = "0.9.5"  # the LLaMA-Factory whose parser read these exports (scripts/make-tool-venvs.sh)
DATASET_INFO = "dataset_info.json"
# A model name's family (lower case, first match) -> LLaMA-Factory's template for it.
TEMPLATES = (
    ("qwen3", "qwen3"),
    ("qwen", "qwen"),
    ("llama-3", "llama3"),
    ("llama3", "llama3"),
    ("llama-2", "llama2"),
    ("mistral-small", "mistral_small"),
    ("ministral", "ministral"),
    ("mistral", "mistral"),
    ("mixtral", "mistral"),
    ("gemma-3", "gemma3"),
    ("gemma-2", "gemma2"),
    ("gemma", "gemma"),
    ("phi-4-mini", "phi4_mini"),
    ("phi-4", "phi4"),
    ("phi-3", "phi"),
    ("smollm2", "smollm2"),
    ("smollm", "smollm"),
    ("deepseek-r1", "deepseekr1"),
    ("deepseek-v3", "deepseek3"),
    ("olmo", "olmo"),
    ("granite-3", "granite3"),
    ("yi-", "yi"),
)
ATTENTION = {"sdpa": "sdpa", "eager": "disabled", "flash_attention_2": "fa2"}
# What each of our formats is in dataset_info.json: LLaMA-Factory's formatting and its column names -> ours.
FORMATTING: dict[str, tuple[str, dict[str, str]]] = {
    "alpaca": ("alpaca", {"prompt": "instruction", "query": "input", "response": "output", "system": "system"}),
    "prompt_completion": ("alpaca", {"prompt": "prompt", "response": "completion"}),
    "text": ("alpaca", {"prompt": "text"}),
    "messages": ("sharegpt", {"messages": "messages", "tools": "tools"}),
    "sharegpt": ("sharegpt", {"messages": "conversations"}),
}
OPTIONAL = frozenset({"system", "tools"})  # columns a file may lack; mapped only when its rows have them
OPENAI_TAGS = {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"}
# The tags of OpenAI-style messages rows (our messages format) in dataset_info.json
MESSAGE_TAGS = OPENAI_TAGS | {"system_tag": "system", "observation_tag": "tool", "function_tag": "tool_call"}


def _attention(flash_attn: object) -> object:
    """flash_attn read back through ATTENTION; `auto` lets LLaMA-Factory pick, as our sdpa default does."""
    ours = {lf: name for name, lf in ATTENTION.items()}
    if flash_attn == "auto":
        return UNSET
    if flash_attn not in ours:
        raise NotCarried(f"ftwizard's attention kernels are {', '.join(ATTENTION)} ({', '.join(ours)} here)")
    return ours[flash_attn]


def _targets(lora_target: object) -> object:
    """lora_target read back: `all`, or module names separated by commas."""
    if lora_target == "all":
        return "all-linear"
    return [name.strip() for name in lora_target.split(",")] if isinstance(lora_target, str) else lora_target


# LLaMA-Factory's keys for our settings, both ways (tuiapp/core/export/key_table.py); the rest is said in code.
LF_MODEL = (
    Key("trust_remote_code", "model.trust_remote_code"),
    Key("flash_attn", "model.attn_implementation", out=lambda name: ATTENTION.get(name, "auto"), back=_attention),
    Key("model_revision", "model.revision", omit=is_none),
    Key(
        "use_unsloth",
        "framework",
        out=lambda _: True,
        omit=lambda f: f != "unsloth",
        back=lambda u: "unsloth" if u else "hf",
    ),
    # LLaMA-Factory's own default finetuning_type is lora
    searched("finetuning_type", "method", lambda method: "full" if method == "full" else "lora", absent="lora"),
)
LF_ADAPTER = (  # written for an adapter only
    Key("lora_rank", "lora.r"),
    Key("lora_alpha", "lora.alpha"),
    Key("lora_dropout", "lora.dropout"),
    Key("lora_target", "lora.target_modules", out=lambda t: "all" if t == "all-linear" else ",".join(t), back=_targets),
    Key("use_dora", "lora.use_dora"),
    Key("use_rslora", "lora.use_rslora"),
    searched("quantization_bit", "method", lambda m: 4 if m == "qlora" else 8, omit=lambda m: m in ("full", "lora")),
    searched("quantization_method", "method", lambda m: "bnb", omit=lambda m: m in ("full", "lora")),
    searched("double_quantization", "method", lambda m: True, omit=lambda m: m != "qlora"),
)
LF_DATA = (  # written when the config names a dataset
    Key("cutoff_len", "training.max_length"),
    Key("packing", "training.packing"),
    Key("val_size", "dataset.eval_size", out=share_or_count, omit=is_falsy),
)
LF_TRAINING = (
    run_name_key("output_dir", "llamafactory-run"),
    Key("num_train_epochs", "training.epochs"),
    Key("learning_rate", "training.learning_rate"),
    Key("lr_scheduler_type", "training.lr_scheduler"),
    Key("warmup_ratio", "training.warmup_ratio"),
    read_only("warmup_steps", "training.warmup_ratio", warmup_share),
    Key("per_device_train_batch_size", "training.micro_batch_size"),
    Key("per_device_eval_batch_size", "training.micro_batch_size"),
    Key("gradient_accumulation_steps", "training.grad_accum"),
    Key("optim", "training.optimizer"),
    Key("weight_decay", "training.weight_decay"),
    Key("max_grad_norm", "training.max_grad_norm"),
    Key(
        "disable_gradient_checkpointing",
        "training.gradient_checkpointing",
        out=lambda on: not on,
        back=lambda off: not off,
    ),
    *precision_flags(auto_as="bf16"),
    Key("seed", "training.seed"),
    Key("logging_steps", "training.logging_steps"),
    Key("save_steps", "training.save_steps"),
    Key("max_steps", "training.max_steps", omit=is_falsy),
    Key("eval_steps", "training.eval_steps", omit=is_falsy),  # written when rows are held out
    Key("save_total_limit", "training.save_total_limit", omit=is_none, absent=None),  # none: every one is kept
)
LF_HUB = (  # written when the config names a Hub repo
    Key("hub_model_id", "output.hub_repo"),
    Key("hub_private_repo", "output.private"),
)
LF_KEYS = LF_MODEL + LF_ADAPTER + LF_DATA + LF_TRAINING + LF_HUB


def template_for(model: str) -> str | None:
    """LLaMA-Factory's template for a model name's family, or None when we know none."""
    name = model.lower()
    return next((template for family, template in TEMPLATES if family in name), None)


def dataset_name(destination: Path) -> str:
    """The dataset_info.json entry an export names: `ftwizard_job` for `job.llamafactory.yaml`."""
    return "ftwizard_" + destination.name.split(".", 1)[0].replace("-", "_")


def llamafactory_export(
    config: FTConfig,
    source: str,
    destination: Path,
    data_format: str | None,
    columns: set[str] | frozenset[str] = frozenset(),
) -> tuple[Export, dict[str, Any] | None]:
    """(the YAML, the dataset_info.json entry to add beside it, or None for a Hub dataset). `columns`: those the
    local rows have (after renames); optional ones (system, tools) are mapped only when there."""
    if config.task != "sft":
        from tuiapp.core.user_error import UserError

        raise UserError(
            f"task: the LLaMA-Factory export covers sft for now, not {config.task}",
            "export --to ftwizard keeps every task; `ftwizard train` runs it",
        )
    lost: list[str] = []
    values: dict[str, Any] = _model(config, destination, lost)
    data, entry = _dataset(config, destination, data_format, columns, lost)
    values |= data | _training(config, lost)
    values["template"] = template_for(config.model.name_or_path) or "default"
    if template_for(config.model.name_or_path) is None:
        lost.append(
            f"template: ftwizard uses the tokenizer's chat template; LLaMA-Factory formats rows with its own, and "
            f"none is known here for {config.model.name_or_path}: set template to the model's family"
        )
    command = f"llamafactory-cli train {destination.name}"
    header = [
        f"LLaMA-Factory config: run `{command}` from this folder.",
        f"Exported by ftwizard from {source}; checked against llamafactory {LLAMAFACTORY_CHECKED}.",
    ]
    return Export(values=values, header=header, untranslated=lost, command=command), entry


def _model(config: FTConfig, destination: Path, lost: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "model_name_or_path": relative_to_export(config.model.name_or_path, destination),
        "stage": "sft",
        "do_train": True,
    }
    values |= written(config, LF_MODEL)
    if config.uses_adapter:
        values |= written(config, LF_ADAPTER)
    return values


def _dataset(
    config: FTConfig, destination: Path, data_format: str | None, present: set[str] | frozenset[str], lost: list[str]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    from tuiapp.core.data.sources import file_suffix, is_local_source
    from tuiapp.core.user_paths import user_path

    data = config.dataset
    if data is None:
        lost.append("dataset: the config names none; add one to dataset_info.json and name it here")
        return {}, None
    values = written(config, LF_DATA)
    if data.skip_bad:
        lost.append("dataset.skip_bad: LLaMA-Factory stops at a row it cannot read")
    if data.dedupe:
        lost.append("dataset.dedupe: LLaMA-Factory keeps repeated rows")
    if not is_local_source(data.source):
        lost.append(
            f"dataset.source {data.source} is a Hub dataset: add an entry with hf_hub_url, formatting and columns "
            f"to LLaMA-Factory's own dataset_info.json and name it in `dataset:`"
        )
        return values | {"dataset": data.source}, None
    fmt = data.format if data.format != "auto" else data_format
    if fmt not in FORMATTING:
        lost.append(f"dataset.format {fmt or 'unknown'}: LLaMA-Factory's SFT reads alpaca and sharegpt-style rows")
        fmt = "messages"
    if fmt == "text":
        values["stage"] = "pt"  # plain text trains as LLaMA-Factory's pre-training stage (every token learned)
    formatting, columns = FORMATTING[fmt]
    renamed = {ours: theirs for theirs, ours in data.columns.items()}  # our column <- the file's column
    entry: dict[str, Any] = {
        "file_name": relative_to_export(str(user_path(data.source)), destination),
        "formatting": formatting,
        "columns": {
            lf: renamed.get(ours, ours) for lf, ours in columns.items() if ours not in OPTIONAL or ours in present
        },
    }
    if file_suffix(user_path(data.source)) == ".txt":
        entry["columns"] = {"prompt": "text"}
    if fmt == "messages":
        entry["tags"] = MESSAGE_TAGS
    if data.eval_split is not None:
        lost.append("dataset.eval_split: a local file has one split; LLaMA-Factory holds out val_size rows")
    return values | {"dataset": dataset_name(destination), "dataset_dir": "."}, entry


def _training(config: FTConfig, lost: list[str]) -> dict[str, Any]:
    t, out = config.training, config.output
    has_eval = bool(config.dataset and config.dataset.eval_size)
    values = written(config, LF_TRAINING, leave_out=() if has_eval else ("eval_steps",))
    values |= {"eval_strategy": ("steps" if t.eval_steps else "epoch") if has_eval else "no", "report_to": "none"}
    if t.precision == "auto":
        lost.append(
            "training.precision auto: the export says bf16; on a GPU older than Ampere set bf16: false, fp16: true"
        )
    if out.hub_repo is not None:  # the token comes from HF_TOKEN or `hf auth login` on the box, never from here
        values |= {"push_to_hub": True} | written(config, LF_HUB)
    if t.oom_retries:
        lost.append(f"training.oom_retries {t.oom_retries}: LLaMA-Factory stops at an out-of-memory error")
    return values


def dataset_info_text(existing: str | None, name: str, entry: dict[str, Any]) -> str:
    """dataset_info.json with our entry added (or replaced), every other entry kept as it was."""
    from tuiapp.core.user_error import UserError

    info: dict[str, Any] = {}
    if existing:
        try:
            info = json.loads(existing)
        except json.JSONDecodeError as exc:
            raise UserError(
                f"{DATASET_INFO} beside the export is not JSON (line {exc.lineno}: {exc.msg})",
                "fix it, or export into another folder",
            ) from None
        if not isinstance(info, dict):
            raise UserError(f"{DATASET_INFO} beside the export is not a JSON object", "export into another folder")
    return json.dumps(info | {name: entry}, indent=2, ensure_ascii=False) + "\n"
