"""Our config as a standalone training script: transformers + PEFT + TRL (or Unsloth when that is the
framework), readable top to bottom, that runs without ftwizard.

The values follow what our backends pass (tuiapp/training/backend_hf.py, backend_unsloth.py). A local
dataset is converted once, at export, into the rows the run would train on (renames, format conversion,
bad rows and repeats as configured), written beside the script as JSON lines; a Hub dataset is named and
loaded by the script. What the script cannot do is listed, never dropped in silence.
"""

from __future__ import annotations

import json
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any

from tuiapp.core.export.export_result import relative_to_export

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig

TEMPLATE = Path(__file__).with_name("sft_script.py.tmpl")
# The libraries the script trained with in our tests (tests/cli/test_cli_export_script.py)
CHECKED = {"transformers": "5.17.0", "peft": "0.21.2", "trl": "1.16.0", "datasets": "4.8.5"}
UNSLOTH_CHECKED = "2026.10.9"

HF_IMPORTS = """import json
import os

import torch
from datasets import Features, Json, List, Value, load_dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig
from transformers.trainer_utils import get_last_checkpoint
from trl import SFTConfig, SFTTrainer
from trl.chat_template_utils import get_training_chat_template, has_generation_markers

HERE = os.path.dirname(os.path.abspath(__file__))  # paths below are relative to this script's folder"""

UNSLOTH_IMPORTS = """import json
import os

from unsloth import FastLanguageModel  # first: Unsloth patches transformers, PEFT and TRL as it is imported

# isort: split
import torch
from datasets import Features, Json, List, Value, load_dataset
from transformers.trainer_utils import get_last_checkpoint
from trl import SFTConfig, SFTTrainer
from trl.chat_template_utils import get_training_chat_template, has_generation_markers

HERE = os.path.dirname(os.path.abspath(__file__))  # paths below are relative to this script's folder"""

PEFT_ARGUMENT = 'peft_config=LoraConfig(**LORA, task_type="CAUSAL_LM"),'  # Unsloth's model has its adapters
HF_LOAD = '''def load_model(mode: str, cuda: bool):
    """The base model in the dtype it trains in (4-bit NF4 for qlora, 8-bit for lora8) and its tokenizer."""
    compute = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[mode]
    # fp16 mixed precision keeps fp32 master weights when every weight trains; bf16 trains in place
    kwargs = dict(MODEL, dtype=torch.float32 if METHOD == "full" and mode == "fp16" else compute)
    if METHOD == "qlora":
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute,
            bnb_4bit_quant_storage=compute,
        )
    elif METHOD == "lora8":
        kwargs["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True)
    # A quantized base loads onto this process's GPU (one per process under accelerate launch); sharded by
    # FSDP or ZeRO-3 it loads without a device map, and accelerate places each shard.
    fsdp = os.environ.get("ACCELERATE_USE_FSDP") == "true"
    sharded = fsdp or os.environ.get("ACCELERATE_DEEPSPEED_ZERO_STAGE") == "3"
    if METHOD in ("qlora", "lora8") and not sharded:
        kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", "0")) if cuda else "cpu"}
    model = AutoModelForCausalLM.from_pretrained(**kwargs)
    tokenizer = AutoTokenizer.from_pretrained(
        MODEL["pretrained_model_name_or_path"], revision=MODEL["revision"], trust_remote_code=MODEL["trust_remote_code"]
    )
    return model, tokenizer'''

UNSLOTH_LOAD = '''def load_model(mode: str, cuda: bool):
    """Unsloth's FastLanguageModel: the base (4-bit for qlora, 8-bit for lora8) with its adapters, and its
    tokenizer ("unsloth" checkpointing offloads activations on a GPU)."""
    compute = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[mode]
    checkpointing = TRAINING["gradient_checkpointing"] and cuda
    model, tokenizer = FastLanguageModel.from_pretrained(
        model_name=MODEL["pretrained_model_name_or_path"],
        max_seq_length=TRAINING["max_length"],
        dtype=torch.float32 if METHOD == "full" and mode == "fp16" else compute,
        load_in_4bit=METHOD == "qlora",
        load_in_8bit=METHOD == "lora8",
        load_in_16bit=METHOD == "lora",
        full_finetuning=METHOD == "full",
        revision=MODEL["revision"],
        trust_remote_code=MODEL["trust_remote_code"],
        attn_implementation=MODEL["attn_implementation"],
        use_gradient_checkpointing="unsloth" if checkpointing else False,
        random_state=TRAINING["seed"],
    )
    if LORA is not None:
        model = FastLanguageModel.get_peft_model(
            model,
            **LORA,
            bias="none",
            use_gradient_checkpointing="unsloth" if checkpointing else False,
            random_state=TRAINING["seed"],
        )
    return model, tokenizer'''


def rows_file_for(destination: Path) -> Path:
    """`job.script.rows.jsonl` beside `job.script.py`: the converted rows the script trains on."""
    return destination.with_name(f"{destination.stem}.rows.jsonl")


def script_export(config: FTConfig, source: str, destination: Path) -> tuple[str, list[str], Path | None]:
    """(the script's text, what it cannot do, the rows file to write beside it or None for a Hub dataset)."""
    if config.task != "sft":
        from tuiapp.core.user_error import UserError

        raise UserError(
            f"task: the script export covers sft for now, not {config.task}",
            "export --to ftwizard keeps every task; `ftwizard train` runs it",
        )
    lost: list[str] = []
    rows_file = _rows_file(config, destination)
    unsloth = config.framework == "unsloth"
    name = config.model.name_or_path.rstrip("/").rsplit("/", 1)[-1]
    needs = "torch, transformers, peft, trl, datasets" + (
        ", bitsandbytes" if config.method in ("qlora", "lora8") else ""
    )
    versions = ", ".join(f"{lib} {version}" for lib, version in CHECKED.items())
    if unsloth:
        needs, versions = f"unsloth (a GPU), {needs}", f"unsloth {UNSLOTH_CHECKED}, {versions}"
    values = {
        "TITLE": f"Fine-tune {name} ({config.method}) with {'Unsloth + ' if unsloth else ''}TRL's SFTTrainer.",
        "ORIGIN": f"Exported by ftwizard from {source}.\nChecked against {versions}.",
        "NEEDS": needs,
        "FILE": destination.name,
        "IMPORTS": UNSLOTH_IMPORTS if unsloth else _hf_imports(config.uses_adapter),
        "MODEL": _model(config, destination),
        "METHOD": _literal(config.method),
        "LORA": _literal(_lora(config)),
        "DATA": _data(config, destination, rows_file, lost),
        "EVAL_SIZE": _literal(_eval_size(config, rows_file, lost)),
        "TRAINING": _literal(_training(config, lost)),
        "PRECISION": _literal(config.training.precision),
        "CHAT_TEMPLATE": _literal(_chat_template()),
        "FINAL_DIR": _literal(_here(f"{_run_name(config)}/final")),
        "LOAD_MODEL": UNSLOTH_LOAD if unsloth else HF_LOAD,
        "PEFT_ARGUMENT": "" if unsloth or not config.uses_adapter else PEFT_ARGUMENT,
    }
    if config.training.oom_retries:
        lost.append(
            f"training.oom_retries {config.training.oom_retries}: the script stops at an out-of-memory error; "
            "ftwizard restarts from the last checkpoint with half the micro-batch"
        )
    text = Template(TEMPLATE.read_text(encoding="utf-8")).substitute(values)
    return text.replace("        \n    )", "    )"), lost, rows_file  # no blank line where no peft_config goes


class Code(str):
    """A Python expression written into the script as it is (a path joined onto HERE), not as a string."""


def _hf_imports(adapters: bool) -> str:
    """The hf script's imports: PEFT only where adapters train."""
    return HF_IMPORTS if adapters else HF_IMPORTS.replace("from peft import LoraConfig\n", "")


def _literal(value: Any, indent: str = "") -> str:
    """A value as Python source, as a person would write it: a dict one key per line, double quotes, a long
    text with line breaks as one string per line."""
    inner = indent + "    "
    if isinstance(value, Code):
        return str(value)
    if isinstance(value, dict):
        lines = [f"{inner}{_literal(key)}: {_literal(item, inner)}," for key, item in value.items()]
        return "{\n" + "\n".join(lines) + f"\n{indent}}}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(item, indent) for item in value) + "]"
    if isinstance(value, str):
        parts = value.splitlines(keepends=True)
        if len(value) <= 80 or len(parts) < 2:
            return json.dumps(value, ensure_ascii=False)  # a JSON string is a Python string literal
        return "(\n" + "".join(f"{inner}{json.dumps(part, ensure_ascii=False)}\n" for part in parts) + f"{indent})"
    return repr(value)


def _run_name(config: FTConfig) -> str:
    return config.output.run_name or "script-run"


def _model(config: FTConfig, destination: Path) -> str:
    """MODEL's text: a local folder inside the export's folder is named relative to the script."""
    model = config.model
    where = relative_to_export(model.name_or_path, destination)
    inside = not Path(where).is_absolute() and (where != model.name_or_path or _is_local(model.name_or_path))
    values = {
        "pretrained_model_name_or_path": _here(where) if inside else where,
        "revision": model.revision,
        "trust_remote_code": model.trust_remote_code,
        "attn_implementation": model.attn_implementation,
    }
    return _literal(values)


def _here(relative: str) -> Code:
    return Code(f"os.path.join(HERE, {_literal(relative)})")


def _is_local(reference: str) -> bool:
    from tuiapp.core.user_error import UserError
    from tuiapp.core.user_paths import user_path

    try:
        return user_path(reference).exists()
    except UserError:
        return False


def _lora(config: FTConfig) -> dict[str, Any] | None:
    if not config.uses_adapter:
        return None
    lora = config.lora
    return {
        "r": lora.r,
        "lora_alpha": lora.alpha,
        "lora_dropout": lora.dropout,
        "target_modules": lora.target_modules,
        "use_dora": lora.use_dora,
        "use_rslora": lora.use_rslora,
    }


def _rows_file(config: FTConfig, destination: Path) -> Path | None:
    from tuiapp.core.data.sources import is_local_source

    if config.dataset is None or not is_local_source(config.dataset.source):
        return None
    return rows_file_for(destination)


def _data(config: FTConfig, destination: Path, rows_file: Path | None, lost: list[str]) -> str:
    data = config.dataset
    if data is None:
        lost.append("dataset: the config names none; set DATA in the script before running it")
        return "None"
    if rows_file is not None:
        return _literal({"path": "json", "data_files": _here(rows_file.name), "split": "train"})
    if data.format not in ("auto", "messages", "prompt_completion", "text"):
        lost.append(
            f"dataset.format {data.format} on a Hub dataset: TRL reads messages, prompt/completion or text rows "
            "as they are; ftwizard converts the rest while it trains, the script does not"
        )
    if data.columns or data.dedupe or data.skip_bad:
        lost.append("dataset.columns / dedupe / skip_bad on a Hub dataset: the script loads its rows as they are")
    hub = {"path": data.source, "name": data.config_name, "split": data.split}
    return _literal(hub)


def _eval_size(config: FTConfig, rows_file: Path | None, lost: list[str]) -> float:
    data = config.dataset
    if data is None:
        return 0
    if data.eval_split is not None:
        lost.append(
            f"dataset.eval_split {data.eval_split}: the script evaluates on rows held out by EVAL_SIZE; to use the "
            "Hub split, load it in load_rows"
        )
    return data.eval_size if data.eval_size < 1 else int(data.eval_size)


def _training(config: FTConfig, lost: list[str]) -> dict[str, Any]:
    t, out = config.training, config.output
    values: dict[str, Any] = {
        "output_dir": _here(f"{_run_name(config)}/checkpoints"),
        "num_train_epochs": t.epochs,
        "max_steps": t.max_steps or -1,
        "learning_rate": t.learning_rate,
        "lr_scheduler_type": t.lr_scheduler,
        "warmup_steps": t.warmup_ratio,  # a float below 1 is a share of the total steps
        "per_device_train_batch_size": t.micro_batch_size,
        "per_device_eval_batch_size": t.micro_batch_size,
        "gradient_accumulation_steps": t.grad_accum,
        "max_length": t.max_length,
        "packing": t.packing,
        "gradient_checkpointing": t.gradient_checkpointing,
        "optim": t.optimizer,
        "weight_decay": t.weight_decay,
        "max_grad_norm": t.max_grad_norm,
        "seed": t.seed,
        "logging_steps": t.logging_steps,
        "eval_strategy": "steps" if t.eval_steps else "epoch",
        "eval_steps": t.eval_steps,
        "save_strategy": "steps",
        "save_steps": t.save_steps,
        "save_total_limit": t.save_total_limit,
        "report_to": "none",
    }
    if out.hub_repo is not None:  # the token comes from HF_TOKEN or `hf auth login` on the box, never from here
        values |= {"push_to_hub": True, "hub_model_id": out.hub_repo, "hub_private_repo": out.private}
    return values


def _chat_template() -> dict[str, Any]:
    """The standard template ftwizard gives a tokenizer without one (ChatML)."""
    from tuiapp.core.data.chat_templates import standard_template

    chatml = standard_template("chatml")
    return {
        "template": chatml.template,
        "end_of_turn": chatml.end_of_turn,
        "special_tokens": list(chatml.special_tokens),
    }


def write_rows(config: FTConfig, path: Path) -> int:
    """The rows the run would train on, as JSON lines at `path` (written whole or not at all); their count.
    Bad rows fail as training fails (unless dataset.skip_bad), and no rows at all is an error."""
    import os
    import tempfile

    from tuiapp.core.data.records import DataError, ReadReport
    from tuiapp.core.data.sources import read_records
    from tuiapp.core.data.training_rows import DropCount, training_rows

    assert config.dataset is not None
    report, counts = ReadReport(), DropCount()
    records = read_records(config.dataset.source, skip_bad=config.dataset.skip_bad, report=report)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    written = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for row in training_rows(config, records, counts):
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
                written += 1
        if counts.dropped_count and not config.dataset.skip_bad:
            first = counts.dropped[0]
            raise DataError(
                f"{counts.dropped_count} row(s) of {config.dataset.source} cannot train (e.g. {first.where}: "
                f"{first.reason}); fix them, or set dataset.skip_bad: true to leave them out"
            )
        if not written:
            raise DataError(f"{config.dataset.source} has no rows to train on")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return written
