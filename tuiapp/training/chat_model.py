"""Load a finished run for chatting: the base with the adapter from final/ (one copy of the weights: the base
answers with the adapter switched off), or a whole model (a full fine-tune's final/, or merged/), or the base
alone. Heavy imports stay inside the functions; this module runs in the chat child only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.user_error import UserError
from tuiapp.training.chat_prompt import prompt_mode
from tuiapp.training.model_source import check_model_source

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig

TOKENIZER_FILES = ("tokenizer_config.json", "tokenizer.json", "tokenizer.model")


@dataclass
class ChatModel:
    """What the chat child answers with: the model, the tokenizer of training, and how the base is had."""

    model: Any
    tokenizer: Any
    sides: tuple[str, ...]  # the sides this child can answer: ("tuned", "base"), or ("base",)
    base_mode: str  # "adapter off", "second model" (loaded on the first base answer) or "base only"
    mode: str  # how prompts are rendered: chat_prompt.CHAT or PLAIN
    facts: dict[str, Any] = field(default_factory=dict)
    load_base: Callable[[], Any] | None = None  # for "second model"
    base_model: Any = None  # the second model, once loaded

    @property
    def has_adapter(self) -> bool:
        return self.base_mode == "adapter off"

    def base(self) -> Any:
        """The model that gives base answers (with an adapter, the same one: switch it off around generate)."""
        if self.base_mode == "second model":
            if self.base_model is None:
                assert self.load_base is not None
                self.base_model = self.load_base()
            return self.base_model
        return self.model


def _has_tokenizer(folder: Path) -> bool:
    return any((folder / name).is_file() for name in TOKENIZER_FILES)


def _device_and_dtype() -> tuple[str, Any]:
    import torch

    if torch.cuda.is_available():
        return "cuda", torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return "cpu", torch.float32


def _load_whole(source: str, config: FTConfig, device: str, dtype: Any, quantize: bool = False) -> Any:
    """A causal LM from a folder or Hub id, on `device`; quantized as it was trained (QLoRA / 8-bit) on CUDA."""
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {
        "dtype": dtype,
        "trust_remote_code": config.model.trust_remote_code,
        "attn_implementation": config.model.attn_implementation,
    }
    if source == config.model.name_or_path:
        kwargs["revision"] = config.model.revision
    if quantize:
        from transformers import BitsAndBytesConfig

        if config.method == "qlora":
            kwargs["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True,
                bnb_4bit_quant_type="nf4",
                bnb_4bit_use_double_quant=True,
                bnb_4bit_compute_dtype=dtype,
            )
        else:
            kwargs["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True)
        kwargs["device_map"] = {"": 0}
    model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    if not quantize:
        model.to(device)
    model.eval()
    return model


def _fit_embeddings(model: Any, tokenizer: Any) -> None:
    """Training may have added special tokens (a standard chat template): grow the embeddings to match."""
    if len(tokenizer) > model.get_input_embeddings().weight.shape[0]:
        model.resize_token_embeddings(len(tokenizer))


def _weight_bytes(model: Any) -> int:
    return sum(p.numel() * p.element_size() for p in model.parameters())


def _tuned_source(paths: RunPaths, choice: str) -> Path:
    if choice == "merged":
        if not (paths.merged / "config.json").is_file():
            raise UserError(
                f"there is no merged model in {paths.merged}",
                fix=f"merge first (ftwizard merge {paths.name}, or the Finish screen), or chat with the adapter",
            )
        return paths.merged
    if not paths.final.is_dir() or not any(paths.final.iterdir()):
        raise UserError(
            f"{paths.final} is empty or missing: the run has not finished",
            fix=f"let it complete (ftwizard attach {paths.name}), or chat with the base model alone",
        )
    return paths.final


def load_chat_model(paths: RunPaths, choice: str) -> ChatModel:
    """Load `choice` ("tuned", "merged" or "base") of the run in `paths`, as the chat will use it."""
    from tuiapp.core.config import load_config

    if not paths.config.is_file():
        raise UserError(f"{paths.root} is not a run directory (no config.yaml)")
    config = load_config(paths.config)
    base_id = config.model.name_or_path
    tuned = None if choice == "base" else _tuned_source(paths, choice)
    check_model_source(base_id, config.model.revision)
    started = time.monotonic()
    from transformers import AutoTokenizer

    device, dtype = _device_and_dtype()
    notes: list[str] = []
    folder = next((f for f in (tuned, paths.final, paths.merged) if f is not None and _has_tokenizer(f)), None)
    tokenizer = AutoTokenizer.from_pretrained(
        str(folder) if folder else base_id, trust_remote_code=config.model.trust_remote_code
    )
    if folder is None:
        notes.append("no tokenizer was saved with the run: using the base model's")
    quantize = device == "cuda" and config.method in ("qlora", "lora8")
    adapter = choice == "tuned" and (paths.final / "adapter_config.json").is_file()
    if config.method in ("qlora", "lora8") and device == "cpu" and choice != "merged":
        notes.append(f"trained on a quantized base ({config.method}); on the CPU the base loads in 32-bit")

    def load_base() -> Any:
        model = _load_whole(base_id, config, device, dtype, quantize)
        _fit_embeddings(model, tokenizer)
        return model

    if choice == "base":
        model, sides, base_mode = load_base(), ("base",), "base only"
    elif adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(load_base(), str(paths.final), is_trainable=False)
        model.eval()
        sides, base_mode = ("tuned", "base"), "adapter off"
    else:  # a full fine-tune's final/, or merged/: a whole model; the base would be a second one
        model = _load_whole(str(tuned), config, device, dtype)
        _fit_embeddings(model, tokenizer)
        sides, base_mode = ("tuned", "base"), "second model"
    weights = _weight_bytes(model)
    mode = prompt_mode(config.dataset.format if config.dataset else None, tokenizer)
    facts = {
        "run": paths.name,
        "model": choice,
        "base_model": base_id,
        "method": config.method,
        "base_mode": base_mode,
        "sides": list(sides),
        "device": device,
        "dtype": str(dtype).removeprefix("torch."),
        "weight_bytes": weights,
        "base_extra_bytes": weights if base_mode == "second model" else 0,
        "prompt": mode,
        "context": context_length(model, tokenizer),
        "load_seconds": round(time.monotonic() - started, 2),
        "notes": notes,
    }
    second = load_base if base_mode == "second model" else None
    return ChatModel(model, tokenizer, sides, base_mode, mode, facts, second)


def context_length(model: Any, tokenizer: Any) -> int:
    """The longest sequence the model takes: its config's positions, else the tokenizer's limit, else 2048."""
    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    positions = getattr(config, "max_position_embeddings", None)
    limit = getattr(tokenizer, "model_max_length", None)
    for value in (positions, limit):
        if isinstance(value, int) and 0 < value < 10_000_000:
            return value
    return 2048
