"""The transformers + PEFT + TRL backend, one straight line: load → trainer → train → save.

Full fine-tune, LoRA (with DoRA / rsLoRA), QLoRA (bitsandbytes NF4, double quant) and LoRA on an 8-bit
base, with the settings a CPU needs when there is no CUDA (fp32, no checkpointing). Heavy imports live
inside `train`, which runs in the worker process only.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tuiapp.core.child_env import allocator_conf
from tuiapp.core.models.stored_quant import StoredQuantization, method_on_stored, read_stored_quantization
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
from tuiapp.training.model_source import check_model_source
from tuiapp.training.phases import PhaseReporter, dataset_progress
from tuiapp.training.run_facts import hardware_facts, library_versions

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig
    from tuiapp.core.runs.layout import RunPaths


def _precision(config: FTConfig, cuda: bool, notes: list[str]) -> str:
    """The mixed-precision mode: "bf16", "fp16" or "fp32", decided by the rule `ftwizard check` applies
    (bf16 by compute capability 8.0, as the hardware profile has it, not torch's emulated bf16)."""
    import torch

    from tuiapp.core.preflight import resolve_precision
    from tuiapp.core.user_error import UserError

    gpu_bf16 = torch.cuda.get_device_capability()[0] >= 8 if cuda else None
    where = f"this GPU ({torch.cuda.get_device_name()})" if cuda else "this machine"
    precision, finding = resolve_precision(config.training.precision, gpu_bf16, where)
    if finding is not None and finding.level == "error":
        raise UserError(f"{finding.field}: {finding.message}")
    if finding is not None:
        notes.append(finding.message)
    return precision


def stored_quantization(config: FTConfig) -> StoredQuantization | None:
    """How the checkpoint's config.json says its weights are stored (None for a 16-bit checkpoint)."""
    from transformers import PretrainedConfig

    raw, _ = PretrainedConfig.get_config_dict(config.model.name_or_path, revision=config.model.revision)
    return read_stored_quantization(raw)


def _load_model(config: FTConfig, precision: str, cuda: bool, notes: list[str] | None = None) -> Any:
    """The base model, its parameters in the dtypes tuiapp.core.estimate.param_ledger lists for the hf rows.

    A checkpoint stored quantized loads with its own quantization_config (no second BitsAndBytesConfig);
    `notes` gets a sentence saying so.
    """
    import torch
    from transformers import AutoModelForCausalLM

    compute = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[precision]
    # fp16 mixed precision keeps fp32 master weights when every weight trains; bf16 trains in place.
    dtype = torch.float32 if config.method == "full" and precision == "fp16" else compute
    kwargs: dict[str, Any] = {
        "revision": config.model.revision,
        "trust_remote_code": config.model.trust_remote_code,
        "attn_implementation": config.model.attn_implementation,
        "dtype": dtype,
    }
    stored = stored_quantization(config)
    if stored is not None:
        said = method_on_stored(config.method, stored)  # full fine-tuning raises
        if said and notes is not None:
            notes.append(said)
    elif config.method in ("qlora", "lora8"):
        from transformers import BitsAndBytesConfig

        if config.method == "qlora":
            kwargs["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True,
                bnb_4bit_quant_type="nf4",
                bnb_4bit_use_double_quant=True,
                bnb_4bit_compute_dtype=compute,
                bnb_4bit_quant_storage=compute,
            )
        else:
            kwargs["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True)
    if stored is not None or config.method in ("qlora", "lora8"):
        kwargs["device_map"] = {"": torch.cuda.current_device()} if cuda else {"": "cpu"}
    try:
        return AutoModelForCausalLM.from_pretrained(config.model.name_or_path, **kwargs)
    except ImportError as exc:
        if stored is None:
            raise
        raise UserError(
            f"model: loading a checkpoint stored as {stored.description} needs a package that is not installed "
            f"({str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__})",
            "install it, or give the 16-bit original of the model",
        ) from exc


def _lora_config(config: FTConfig) -> Any:
    from peft import LoraConfig

    lora = config.lora
    return LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        use_dora=lora.use_dora,
        use_rslora=lora.use_rslora,
        task_type="CAUSAL_LM",
    )


def _sft_args(config: FTConfig, paths: RunPaths, precision: str, cuda: bool, has_eval: bool, notes: list[str]) -> Any:
    from trl import SFTConfig

    t = config.training
    checkpointing = t.gradient_checkpointing and cuda
    if t.gradient_checkpointing and not cuda:
        notes.append("gradient checkpointing is off on the CPU: memory is not the limit there, time is")
    eval_strategy = ("steps" if t.eval_steps else "epoch") if has_eval else "no"
    return SFTConfig(
        output_dir=str(paths.checkpoints),
        num_train_epochs=t.epochs,
        max_steps=t.max_steps or -1,
        learning_rate=t.learning_rate,
        lr_scheduler_type=t.lr_scheduler,
        warmup_steps=t.warmup_ratio,  # a float below 1 is a share of the total steps
        per_device_train_batch_size=t.micro_batch_size,
        per_device_eval_batch_size=t.micro_batch_size,
        gradient_accumulation_steps=t.grad_accum,
        max_length=t.max_length,
        packing=t.packing,
        gradient_checkpointing=checkpointing,
        gradient_checkpointing_kwargs={"use_reentrant": False} if checkpointing else None,
        optim=t.optimizer,
        weight_decay=t.weight_decay,
        max_grad_norm=t.max_grad_norm,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=not cuda,
        seed=t.seed,
        logging_steps=t.logging_steps,
        eval_strategy=eval_strategy,
        eval_steps=t.eval_steps,
        save_strategy="steps",
        save_steps=t.save_steps,
        save_total_limit=t.save_total_limit,
        report_to=[],
        disable_tqdm=True,
        dataloader_num_workers=0,
    )


def _settle_template(tokenizer: Any, model: Any, dataset: Any, notes: list[str]) -> bool:
    """Prepare the chat template as the dataset doctor showed it; True when only assistant turns carry loss."""
    conversational = "messages" in dataset.column_names or isinstance(dataset[0].get("prompt"), list)
    if not conversational:
        return False
    from tuiapp.training.chat_render import prepare_template

    report = prepare_template(tokenizer)
    notes.extend(report.notes)
    if len(tokenizer) > model.get_input_embeddings().weight.shape[0]:
        model.resize_token_embeddings(len(tokenizer))
    return report.assistant_only and "messages" in dataset.column_names


def make_trainer(
    config: FTConfig, model: Any, tokenizer: Any, args: Any, train_rows: Any, eval_rows: Any, callbacks: list[Any]
) -> Any:
    """TRL's SFTTrainer, which wraps the adapters (PEFT, fp32) and, on a quantized base, casts them to bf16:
    the model it holds is what param_ledger's hf rows describe."""
    from trl import SFTTrainer

    return SFTTrainer(
        model=model,
        args=args,
        train_dataset=train_rows,
        eval_dataset=eval_rows,
        processing_class=tokenizer,
        peft_config=_lora_config(config) if config.uses_adapter else None,
        callbacks=callbacks,
    )


def trained_tokens(log_history: list[dict[str, Any]]) -> int | None:
    """The last `num_tokens` TRL logged: the tokens this launch trained on (TRL counts from 0 at each launch)."""
    counts = [entry["num_tokens"] for entry in log_history if "num_tokens" in entry]
    return int(counts[-1]) if counts else None


def train(config: FTConfig, paths: RunPaths, writer: EventWriter, stop_requested: Callable[[], bool]) -> Event:
    """Train the run in `paths` (continuing from its last checkpoint, if any); the final event to write."""
    check_model_source(config.model.name_or_path, config.model.revision)  # before the heavy imports
    phases = PhaseReporter(writer)
    phases.show(LOADING_LIBRARIES)
    import torch
    from transformers import AutoTokenizer

    from tuiapp.training.event_callback import make_event_callback
    from tuiapp.training.fault_injection import make_fault_callbacks
    from tuiapp.training.resume_at_end import checkpoint_is_the_end, save_result_from
    from tuiapp.training.trl_dataset import build_trl_datasets

    cuda = torch.cuda.is_available()
    notes: list[str] = []
    precision = _precision(config, cuda, notes)
    phases.show(LOADING_MODEL, config.model.name_or_path)
    tokenizer = AutoTokenizer.from_pretrained(
        config.model.name_or_path, revision=config.model.revision, trust_remote_code=config.model.trust_remote_code
    )
    model = _load_model(config, precision, cuda, notes)
    phases.show(PREPARING_DATASET, "reading rows")
    with dataset_progress(phases):
        train_rows, eval_rows, dropped = build_trl_datasets(config)
    if dropped.dropped_count:
        first = dropped.dropped[0]
        notes.append(f"{dropped.dropped_count} row(s) dropped (e.g. {first.where}: {first.reason})")
    if dropped.duplicates:
        notes.append(f"{dropped.duplicates} exact duplicate row(s) removed")
    assistant_only = _settle_template(tokenizer, model, train_rows, notes)
    args = _sft_args(config, paths, precision, cuda, eval_rows is not None, notes)
    args.assistant_only_loss = assistant_only  # SFTTrainer reads it at construction, below
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
            notes=[*notes, f"precision {precision}"],
        )

    samples_per_step = config.training.micro_batch_size * config.training.grad_accum
    callbacks = [make_event_callback(writer, started, stop_requested, samples_per_step), *make_fault_callbacks(config)]
    with dataset_progress(phases):  # the trainer tokenizes the rows as it is built
        trainer = make_trainer(config, model, tokenizer, args, train_rows, eval_rows, callbacks)
    if stop_requested():  # asked to stop while loading: nothing trained, nothing to save
        return Stopped(step=0, checkpoint=str(resume_from) if resume_from else None)
    if resume_from:
        phases.show(LOADING_CHECKPOINT, resume_from.name)
    if checkpoint_is_the_end(resume_from):  # killed while saving the result: train no step past the last
        return save_result_from(trainer, tokenizer, resume_from, paths)
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
