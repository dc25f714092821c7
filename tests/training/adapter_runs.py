"""Run-shaped folders holding an adapter built directly with PEFT (no training), for the merge tests; the
merge run as the CLI runs it; the logits that tell whether a merged model computes what base + adapter compute."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tuiapp.core.runs.layout import RunPaths
from tuiapp.training import merge_action
from tuiapp.training.action_runner import ActionReport, Cancelled, run_action

PROMPT = "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"


def make_adapter_run(
    root: Path, model_dir: Path, method: str = "lora", use_dora: bool = False, seed: int = 1
) -> RunPaths:
    """RUN/config.yaml (the demo config with `method` and `use_dora`) and RUN/final/ (an adapter whose
    weights are all random, so it changes the logits a lot, plus the tokenizer), as training leaves them."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

    from tuiapp.core.config import save_config, with_changes
    from tuiapp.core.demo import demo_config

    paths = RunPaths(root)
    root.mkdir(parents=True, exist_ok=True)
    save_config(with_changes(demo_config(model_dir), {"method": method, "lora.use_dora": use_dora}), paths.config)
    kwargs: dict[str, Any] = {"dtype": torch.float32}
    if method == "qlora":  # as the backend loads it, on the CPU
        kwargs = {
            "dtype": torch.bfloat16,
            "device_map": {"": "cpu"},
            "quantization_config": BitsAndBytesConfig(
                load_in_4bit=True,
                bnb_4bit_quant_type="nf4",
                bnb_4bit_use_double_quant=True,
                bnb_4bit_compute_dtype=torch.bfloat16,
                bnb_4bit_quant_storage=torch.bfloat16,
            ),
        }
    base = AutoModelForCausalLM.from_pretrained(model_dir, **kwargs)
    torch.manual_seed(seed)
    lora = LoraConfig(
        r=8,
        lora_alpha=16,
        target_modules="all-linear",
        use_dora=use_dora,
        init_lora_weights=False,
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(base, lora)
    model.save_pretrained(paths.final)
    AutoTokenizer.from_pretrained(model_dir).save_pretrained(paths.final)
    return paths


def logits_of(model: Any, model_dir: Path) -> Any:
    """The model's float32 logits for PROMPT (tokenized by `model_dir`'s tokenizer)."""
    import torch
    from transformers import AutoTokenizer

    ids = AutoTokenizer.from_pretrained(model_dir)(PROMPT, return_tensors="pt").input_ids
    with torch.no_grad():
        return model(ids).logits.float()


def base_plus_adapter_logits(model_dir: Path, adapter: Path, dtype: Any) -> Any:
    """Logits of the unmerged base (loaded in `dtype`) with the adapter applied on the side."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype)
    return logits_of(PeftModel.from_pretrained(base, str(adapter)), model_dir)


def model_logits(folder: Path, dtype: Any) -> Any:
    """Logits of the model saved in `folder`, loaded in `dtype`."""
    from transformers import AutoModelForCausalLM

    return logits_of(AutoModelForCausalLM.from_pretrained(folder, dtype=dtype), folder)


def merge(paths: RunPaths, options: dict[str, Any] | None = None, stop_at: str | None = None) -> Any:
    """Run the merge action as the CLI does (events in the run's log); with `stop_at`, a cancel arrives when
    that phase begins. The final event."""

    def body(report: ActionReport) -> Any:
        if stop_at is not None:
            phase = report.phase

            def stopping(name: str, done: int | None = None, total: int | None = None) -> None:
                if name == stop_at:
                    raise Cancelled
                phase(name, done, total)

            report.phase = stopping  # type: ignore[method-assign]
        return merge_action.run(paths, options or {}, report)

    return run_action(paths, "merge", body)[1]


def leftovers(folder: Path) -> list[str]:
    """Partial or set-aside folders a merge left in `folder` (there should be none)."""
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name or ".old-" in p.name)
