"""The merge action: the run's adapter folded into its base model, saved as a plain 16-bit model.

Straight line: check memory and disk, load the base in bf16/fp16 (never 4/8-bit: a QLoRA or 8-bit adapter
merges onto the 16-bit base), load the adapter, `merge_and_unload`, write safetensors shards plus the
tokenizer (with its chat template) and generation config into a hidden sibling folder, rename it into place.
Heavy libraries are imported inside the functions: this runs in an action's own process.
"""

from __future__ import annotations

import gc
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuiapp.core.merge_preflight import (
    SHARD_SIZE,
    Device,
    check_destination,
    check_merge_fits,
    choose_device,
    read_free_resources,
)
from tuiapp.core.models.stored_size import WeightsSize, model_folder, weights_size
from tuiapp.core.units import GIB
from tuiapp.core.user_error import UserError
from tuiapp.core.user_paths import user_path
from tuiapp.training.action_runner import ActionOutcome, action_output_dir
from tuiapp.training.merge_output import (
    copy_tokenizer_files,
    folder_bytes,
    install_folder,
    partial_sibling,
    removed_unless_installed,
    shard_progress,
)
from tuiapp.training.model_source import check_model_source

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig
    from tuiapp.core.runs.layout import RunPaths
    from tuiapp.training.action_runner import ActionReport

DTYPES = ("bf16", "fp16")
DEVICES = ("auto", "cpu", "cuda")
SENTENCEPIECE_FILE = "tokenizer.model"
QUANTIZED_BASES = {"qlora": "4-bit (QLoRA, NF4)", "lora8": "8-bit"}


def run(paths: RunPaths, options: dict[str, Any], report: ActionReport) -> ActionOutcome:
    """The action body: options {"dtype": "bf16"|"fp16", "device": "auto"|"cpu"|"cuda", "out": str|None}."""
    dtype = _choice(options, "dtype", DTYPES, "bf16")
    device = _choice(options, "device", DEVICES, "auto")
    out = options.get("out")
    if out is not None and (not isinstance(out, str) or not out.strip() or len(out) > 4096):
        raise UserError(f"merge option out must be a folder path, not {str(out)[:80]!r}", fix="give -o DIR")
    return merge_to_folder(paths, action_output_dir(paths.merged, out), dtype, device, report)


def _choice(options: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = options.get(name) or default
    if value not in allowed:
        raise UserError(f"merge option {name} is {str(value)[:40]!r}", fix=f"use one of {', '.join(allowed)}")
    return str(value)


def merge_to_folder(
    paths: RunPaths, out_dir: Path, dtype: str, device: str, report: ActionReport, *, final_output: bool = True
) -> ActionOutcome:
    """Merge the run's adapter into its 16-bit base and save the whole model into `out_dir` (replaced only
    once the new one is complete). Raises UserError for a full fine-tune, a missing adapter, no room.
    `final_output`: the merge is the action's result, so a stop once it is being put in place no longer
    cancels (False when another action, the GGUF, goes on from it)."""
    from tuiapp.core.config import load_config

    started = time.monotonic()
    report.phase("checking memory and disk")
    config = load_config(paths.config)
    adapter = adapter_folder(paths, config)
    base = config.model.name_or_path
    check_model_source(base, config.model.revision)
    size = weights_size(base, config.model.revision)
    if size is not None and size.quantized:
        raise UserError(
            f"the base model {base} is stored quantized (its config.json has a quantization_config): "
            "a merge needs the 16-bit weights the adapter was trained on top of",
            fix=f"set model.name_or_path in {paths.config} to its 16-bit original "
            "(often the same name without -bnb-4bit), then merge again",
        )
    base_folder = user_path(base)
    check_destination(out_dir, [paths.root, paths.final, *([base_folder] if base_folder.is_dir() else [])])
    notes: list[str] = []
    chosen = _settle_device(device, size, out_dir, notes)
    quantized_base = QUANTIZED_BASES.get(config.method)
    if quantized_base:
        notes.append(
            f"the adapter was trained on a {quantized_base} copy of {_public_name(base)} and is merged onto its 16-bit "
            f"weights ({dtype}): the merged model is the unquantized base plus the adapter, so its outputs "
            "differ slightly from those of the quantized model it was trained with"
        )
    if size is None:
        notes.append("the base model's size could not be read before loading: memory and disk were not checked")
    replaced = _merge_and_save(config, adapter, out_dir, dtype, chosen, size, report, notes, final_output)
    if replaced:
        notes.append("replaced the earlier merge that was in the output folder")
    written = folder_bytes(out_dir)
    adapter_config = _adapter_config(adapter)
    return ActionOutcome(
        summary=f"merged the adapter into {Path(base).name} ({dtype}, {_size_text(written)}) in {out_dir}",
        outputs=[str(out_dir)],
        facts={
            "method": config.method,
            "dora": bool(adapter_config.get("use_dora")),
            "dtype": dtype,
            "bytes": written,
            "shards": len(list(out_dir.glob("*.safetensors"))),
            "base_model": base,
            **({"base_revision": config.model.revision} if config.model.revision else {}),
            "adapter": _run_relative(adapter, paths),
            "device": chosen,
            "seconds": round(time.monotonic() - started, 2),
        },
        notes=notes,
    )


def _public_name(name_or_path: str) -> str:
    """A Hub id as it is, a local folder by its name: notes reach model cards, local paths must not."""
    looks_local = name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") != 1
    return Path(name_or_path).name if looks_local or user_path(name_or_path).is_dir() else name_or_path


def _run_relative(path: Path, paths: RunPaths) -> str:
    """`path` relative to the run ("final"), as the facts may be published; absolute when outside it."""
    return str(path.relative_to(paths.root)) if path.is_relative_to(paths.root) else str(path)


def _size_text(num_bytes: int) -> str:
    return f"{num_bytes / GIB:.2f} GiB" if num_bytes >= GIB / 10 else f"{num_bytes / 1024**2:.1f} MiB"


def adapter_folder(paths: RunPaths, config: FTConfig) -> Path:
    """The run's trained adapter (final/); a UserError for a full fine-tune or a run without one."""
    final = paths.final
    whole_model = (final / "config.json").is_file() and not (final / "adapter_config.json").is_file()
    if config.method == "full" or whole_model:
        where = f"{final} is already the whole model" if whole_model else f"{final} will be the whole model"
        raise UserError(
            f"run {paths.name} is a full fine-tune: {where}, there is no adapter to merge",
            fix=f"use {final} as it is (load it with from_pretrained, push it, or convert it to GGUF)",
        )
    if not (final / "adapter_config.json").is_file():
        raise UserError(
            f"run {paths.name} has no trained adapter yet ({final}/adapter_config.json is missing): "
            "it has not finished",
            fix=f"let it finish, or continue it with `ftwizard resume {paths.name}`",
        )
    return final


def _adapter_config(adapter: Path) -> dict[str, Any]:
    try:
        data = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{adapter}/adapter_config.json cannot be read ({exc})") from exc
    return data if isinstance(data, dict) else {}


def cuda_available() -> bool:
    """Whether PyTorch can use a CUDA GPU here."""
    import torch

    return torch.cuda.is_available()


def _settle_device(device: str, size: WeightsSize | None, out_dir: Path, notes: list[str]) -> Device:
    """Where to merge (auto: CUDA when there is one and the model fits), after checking there is room."""
    import torch

    cuda = cuda_available()
    free = read_free_resources(out_dir, with_gpu=cuda and device != "cpu")
    if cuda and device != "cpu" and free.vram_bytes is None:  # NVML unreadable: ask the CUDA runtime
        from dataclasses import replace

        free = replace(free, vram_bytes=torch.cuda.mem_get_info()[0], gpu_name=torch.cuda.get_device_name())
    bytes_16bit = size.bytes_16bit if size else None
    chosen, why = choose_device(device, cuda, bytes_16bit, free)
    if why:
        notes.append(why)
    if bytes_16bit is not None:
        check_merge_fits(bytes_16bit, chosen, free, out_dir)
    return chosen


def _merge_and_save(
    config: FTConfig,
    adapter: Path,
    out_dir: Path,
    dtype: str,
    device: Device,
    size: WeightsSize | None,
    report: ActionReport,
    notes: list[str],
    final_output: bool,
) -> bool:
    """Load, merge and write into a partial sibling of `out_dir`, then install it; True when one was replaced."""
    report.phase("loading the base model")  # transformers and PEFT take seconds to import: part of loading
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    torch_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[dtype]
    with removed_unless_installed(partial_sibling(out_dir)) as partial:
        model = AutoModelForCausalLM.from_pretrained(
            config.model.name_or_path,
            revision=config.model.revision,
            trust_remote_code=config.model.trust_remote_code,
            dtype=torch_dtype,
            device_map={"": torch.cuda.current_device()} if device == "cuda" else None,
        )
        tokenizer = _tokenizer(adapter, config, notes)
        rows = model.get_input_embeddings().weight.shape[0]
        if len(tokenizer) > rows:  # training added tokens (a chat template's) and grew the embeddings to match
            model.resize_token_embeddings(len(tokenizer))
        report.phase("loading the adapter")
        model = PeftModel.from_pretrained(model, str(adapter), is_trainable=False)
        report.phase("merging")
        try:
            model = model.merge_and_unload(safe_merge=True).to(torch_dtype)
        except ValueError as exc:
            if "nan" not in str(exc).lower():
                raise
            raise UserError(
                f"the adapter in {adapter} holds NaN or infinite values: merging it would break the model",
                fix="train again with a lower learning rate (or bf16 instead of fp16)",
            ) from exc
        _settle_generation_config(model, adapter, tokenizer, notes)
        expected = size.bytes_16bit if size else None
        with shard_progress(partial, expected, report):
            model.save_pretrained(str(partial), max_shard_size=SHARD_SIZE)
        del model
        report.phase("copying the tokenizer")
        if (adapter / "tokenizer_config.json").is_file():
            copy_tokenizer_files(adapter, partial)  # as training saved it
        else:
            tokenizer.save_pretrained(str(partial))
        _add_sentencepiece_model(config, partial)
        if final_output:
            report.commit()  # a Ctrl+C now would leave the model in place while saying "cancelled"
        replaced = install_folder(partial, out_dir)
    gc.collect()
    return replaced


def _tokenizer(adapter: Path, config: FTConfig, notes: list[str]) -> Any:
    """The tokenizer saved with the adapter (its chat template and added tokens), else the base's."""
    from transformers import AutoTokenizer

    trust = config.model.trust_remote_code
    if (adapter / "tokenizer_config.json").is_file():
        return AutoTokenizer.from_pretrained(str(adapter), trust_remote_code=trust)
    notes.append(f"{adapter.name}/ holds no tokenizer: the base model's was saved with the merged model")
    return AutoTokenizer.from_pretrained(
        config.model.name_or_path, revision=config.model.revision, trust_remote_code=trust
    )


def _add_sentencepiece_model(config: FTConfig, out: Path) -> None:
    """The base's SentencePiece `tokenizer.model` when the saved tokenizer has none: transformers 5 saves only
    tokenizer.json, and llama.cpp's GGUF converter reads the SentencePiece model (training adds tokens to
    tokenizer.json only; the model itself never changes)."""
    import shutil

    base = model_folder(config.model.name_or_path, config.model.revision)
    if base is not None and (base / SENTENCEPIECE_FILE).is_file() and not (out / SENTENCEPIECE_FILE).exists():
        shutil.copy2(base / SENTENCEPIECE_FILE, out / SENTENCEPIECE_FILE)


def _settle_generation_config(model: Any, adapter: Path, tokenizer: Any, notes: list[str]) -> None:
    """The adapter folder's generation config when training saved one, else the base's; either way it stops
    at the tokenizer's end-of-turn token (training may have changed the EOS to the chat template's)."""
    from transformers import GenerationConfig

    if (adapter / "generation_config.json").is_file():
        model.generation_config = GenerationConfig.from_pretrained(str(adapter))
    eos = tokenizer.eos_token_id
    if eos is None or model.generation_config is None:
        return
    current = model.generation_config.eos_token_id
    ids = [] if current is None else list(current) if isinstance(current, list | tuple) else [current]
    if eos not in ids:
        model.generation_config.eos_token_id = [*ids, eos] if ids else eos
        notes.append(f"generation also stops at {tokenizer.eos_token} (the tokenizer's end of turn)")
