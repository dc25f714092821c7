"""The Unsloth backend, one straight line: import Unsloth → load → adapters → trainer → train → save.

The same config as the transformers backend, through Unsloth's `FastLanguageModel` (which hands
architectures it has no fast path for to `FastModel`) and its `get_peft_model`, then TRL's SFTTrainer
with the same arguments. Unsloth patches transformers, PEFT and TRL when it is imported, so `train`
imports it before any of them; the worker imports no ML library before picking this backend. Without a
GPU, Unsloth 2026.10 trains on its CPU fallback (stock transformers + PEFT + TRL with CPU defaults):
the same code, slower.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tuiapp.core.child_env import allocator_conf
from tuiapp.core.runs.events import (
    LOADING_CHECKPOINT,
    LOADING_LIBRARIES,
    LOADING_MODEL,
    PREPARING_DATASET,
    Completed,
    Event,
    EventWriter,
    Started,
    Stopped,
)
from tuiapp.core.user_error import UserError
from tuiapp.training.backend_hf import _precision, _settle_template, _sft_args, trained_tokens
from tuiapp.training.model_source import check_model_source
from tuiapp.training.phases import PhaseReporter, dataset_progress
from tuiapp.training.run_facts import hardware_facts, library_versions

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig
    from tuiapp.core.runs.layout import RunPaths

PATCHED_BY_UNSLOTH = ("transformers", "trl", "peft")  # what Unsloth must be imported before
INSTALL_HINT = (
    "install it with pip install 'ftwizard[unsloth]' on a GPU machine (scripts/setup-venv.sh dev installs "
    "a CPU-only copy), or set framework: hf"
)


class UnslothMissingError(ModuleNotFoundError):
    """framework is unsloth but Unsloth is not installed; the message says how to install it."""


def import_unsloth(notes: list[str]) -> Any:
    """Import Unsloth, which must come before transformers / TRL / PEFT; a missing one becomes a clear error."""
    late = [name for name in PATCHED_BY_UNSLOTH if name in sys.modules]
    try:
        import unsloth
    except ModuleNotFoundError as exc:
        if exc.name not in ("unsloth", "unsloth_zoo"):
            raise
        missing = f"framework unsloth needs {exc.name}, which is not installed: {INSTALL_HINT}"
        raise UnslothMissingError(missing) from exc
    except (NotImplementedError, RuntimeError) as exc:  # e.g. an NVIDIA driver but a CPU-only torch
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(
            f"Unsloth cannot start on this machine ({first}): install a torch build for its GPU, or set framework: hf"
        ) from exc
    if late:
        notes.append(f"unsloth was imported after {', '.join(late)}: some of its patches may not apply")
    return unsloth


def unsupported_model_error(name: str, exc: BaseException) -> UserError | None:
    """The error to raise when Unsloth cannot load this architecture, or None for any other failure."""
    text = str(exc).strip()
    unsupported = isinstance(exc, NotImplementedError) or any(
        words in text for words in ("is not supported", "not supported yet", "Unrecognized configuration class")
    )
    if not unsupported:
        return None
    first = text.splitlines()[0].rstrip(".") if text else type(exc).__name__
    return UserError(f"Unsloth cannot load {name}: {first}. Set framework: hf to train it with transformers + PEFT")


def _load(config: FTConfig, precision: str, cuda: bool, notes: list[str] | None = None) -> tuple[Any, Any]:
    """The model and tokenizer from `FastLanguageModel`, quantized as the method says; a checkpoint stored
    quantized loads as stored (Unsloth reads its quantization_config), under its own name."""
    import torch
    from unsloth import FastLanguageModel

    from tuiapp.core.models.stored_quant import method_on_stored
    from tuiapp.training.backend_hf import stored_quantization

    compute = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[precision]
    checkpointing = config.training.gradient_checkpointing and cuda
    stored = stored_quantization(config)
    method = config.method
    if stored is not None:
        said = method_on_stored(method, stored)  # full fine-tuning raises
        if said and notes is not None:
            notes.append(said)
        method = stored.adapter_method
    try:
        return FastLanguageModel.from_pretrained(
            model_name=config.model.name_or_path,
            max_seq_length=config.training.max_length,
            # fp16 mixed precision keeps fp32 master weights when every weight trains, as in the hf backend.
            dtype=torch.float32 if method == "full" and precision == "fp16" else compute,
            load_in_4bit=method == "qlora",
            load_in_8bit=method == "lora8",
            load_in_16bit=method == "lora" and stored is None,
            full_finetuning=method == "full",
            # Unsloth maps some names to other repos (a -bnb-4bit mirror, its 16-bit original): not a stored one.
            use_exact_model_name=stored is not None,
            revision=config.model.revision,
            trust_remote_code=config.model.trust_remote_code,
            attn_implementation=config.model.attn_implementation,
            use_gradient_checkpointing="unsloth" if checkpointing else False,
            random_state=config.training.seed,
        )
    except (NotImplementedError, ValueError) as exc:
        error = unsupported_model_error(config.model.name_or_path, exc)
        if error is None:
            raise
        raise error from exc


def _add_adapter(model: Any, config: FTConfig, cuda: bool) -> Any:
    """LoRA through Unsloth's `get_peft_model` ("unsloth" checkpointing offloads activations on a GPU)."""
    from unsloth import FastLanguageModel

    lora = config.lora
    checkpointing = config.training.gradient_checkpointing and cuda
    return FastLanguageModel.get_peft_model(
        model,
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        use_rslora=lora.use_rslora,
        use_dora=lora.use_dora,
        bias="none",
        use_gradient_checkpointing="unsloth" if checkpointing else False,
        random_state=config.training.seed,
    )


def _cpu_notes(config: FTConfig, args: Any, notes: list[str]) -> None:
    """What Unsloth's CPU fallback changed in the training arguments, said in the started event."""
    optim = str(getattr(args.optim, "value", args.optim))
    if optim != config.training.optimizer:
        notes.append(f"optimizer {config.training.optimizer} runs as {optim} on Unsloth's CPU backend")
    if config.method == "lora8":
        notes.append("lora8 trains on a 16-bit base on Unsloth's CPU backend: it has no 8-bit CPU kernels")
    if config.training.packing and not args.packing:
        notes.append("packing is off on Unsloth's CPU backend: it needs FlashAttention to keep rows apart")


def train(config: FTConfig, paths: RunPaths, writer: EventWriter, stop_requested: Callable[[], bool]) -> Event:
    """Train the run in `paths` with Unsloth (continuing from its last checkpoint, if any); the final event."""
    check_model_source(config.model.name_or_path, config.model.revision)  # before the heavy imports
    if config.task != "sft":
        raise UserError(f"the unsloth backend trains task sft only, not {config.task}: set framework: hf")
    notes: list[str] = []
    phases = PhaseReporter(writer)
    phases.show(LOADING_LIBRARIES)
    import_unsloth(notes)  # first: it patches what the imports below bring in
    import torch
    from trl import SFTTrainer  # after Unsloth: its patched trainer (on CPU, its CPU defaults)

    from tuiapp.training.event_callback import make_event_callback
    from tuiapp.training.fault_injection import make_fault_callbacks
    from tuiapp.training.trl_dataset import build_trl_datasets

    cuda = torch.cuda.is_available()
    precision = _precision(config, cuda, notes)
    phases.show(LOADING_MODEL, config.model.name_or_path)
    model, tokenizer = _load(config, precision, cuda, notes)
    phases.show(PREPARING_DATASET, "reading rows")
    with dataset_progress(phases):
        train_rows, eval_rows, dropped = build_trl_datasets(config)
    if dropped.dropped_count:
        first = dropped.dropped[0]
        notes.append(f"{dropped.dropped_count} row(s) dropped (e.g. {first.where}: {first.reason})")
    if dropped.duplicates:
        notes.append(f"{dropped.duplicates} exact duplicate row(s) removed")
    assistant_only = _settle_template(tokenizer, model, train_rows, notes)
    if config.uses_adapter:
        model = _add_adapter(model, config, cuda)
    args = _sft_args(config, paths, precision, cuda, eval_rows is not None, notes)
    args.assistant_only_loss = assistant_only  # SFTTrainer reads it at construction, below
    args.gradient_checkpointing = False  # Unsloth set checkpointing up on the model itself
    if not cuda:
        _cpu_notes(config, args, notes)
    resume_from = paths.last_checkpoint()

    def started(step: int, total: int) -> Started:
        return Started(
            pid=os.getpid(),
            step=step,
            total_steps=total,
            resumed_from=str(resume_from) if resume_from else None,
            versions=library_versions(),
            hardware=hardware_facts(),
            allocator_conf=allocator_conf(),
            notes=[*notes, f"precision {precision}", "framework unsloth"],
        )

    samples_per_step = config.training.micro_batch_size * config.training.grad_accum
    with dataset_progress(phases):  # the trainer tokenizes the rows as it is built
        trainer = SFTTrainer(
            model=model,
            args=args,
            train_dataset=train_rows,
            eval_dataset=eval_rows,
            processing_class=tokenizer,
            callbacks=[
                make_event_callback(writer, started, stop_requested, samples_per_step),
                *make_fault_callbacks(config),
            ],
        )
    if stop_requested():  # asked to stop while loading: nothing trained, nothing to save
        return Stopped(step=0, checkpoint=str(resume_from) if resume_from else None)
    if resume_from:
        phases.show(LOADING_CHECKPOINT, resume_from.name)
    result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    step = trainer.state.global_step
    if stop_requested() and step < trainer.state.max_steps:
        checkpoint = paths.last_checkpoint()
        return Stopped(step=step, checkpoint=str(checkpoint) if checkpoint else None)
    trainer.save_model(str(paths.final))
    tokenizer.save_pretrained(str(paths.final))
    return Completed(
        step=step,
        artifacts=[str(paths.final)],
        train_loss=result.training_loss,
        runtime_s=result.metrics.get("train_runtime"),
        tokens=trained_tokens(trainer.state.log_history),
    )
