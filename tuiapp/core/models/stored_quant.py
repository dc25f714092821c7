"""A checkpoint stored already quantized: what config.json's `quantization_config` says about its weights.

bitsandbytes 4-bit (the `unsloth/*-bnb-4bit` mirrors) and 8-bit, GPTQ, AWQ, FP8 and compressed-tensors
checkpoints are read; transformers loads each with the quantizer its config names, so the weights in
memory are the stored ones: the estimate sizes them as stored, full fine-tuning is not possible on them,
and adapters train on top.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tuiapp.core.models.families import UnsupportedModelError

Format = Literal["bnb-4bit", "bnb-8bit", "gptq", "awq", "fp8", "compressed-tensors", "other"]
FORMAT_NAMES = {
    "bnb-4bit": "bitsandbytes 4-bit",
    "bnb-8bit": "bitsandbytes 8-bit",
    "gptq": "GPTQ",
    "awq": "AWQ",
    "fp8": "FP8",
    "compressed-tensors": "compressed-tensors",
    "other": "quantized",
}
_DTYPE_NAMES = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32", "uint8": "uint8", "int8": "int8"}
_FIX = "download config.json again, or check the folder holds the model you meant"


class StoredQuantization(BaseModel):
    """How a pre-quantized checkpoint's linear weights are stored (the rest keeps torch_dtype)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Format
    quant_method: str
    """config.json's own word for it ("bitsandbytes", "gptq", ...)."""
    bits: int | None = Field(default=None, ge=1, le=16)
    """Bits per stored weight value; None when the format is one ftwizard cannot size (then 16 is assumed)."""
    group_size: int | None = Field(default=None, ge=1)
    """Values sharing one scale (GPTQ, AWQ, compressed-tensors); None for one group per row."""
    double_quant: bool = False
    """bitsandbytes 4-bit: the block scales are quantized again (uint8 plus an fp32 scale per 256)."""
    quant_storage: str = "uint8"
    """bitsandbytes 4-bit: the dtype the packed bytes are stored as (bf16 for FSDP-QLoRA checkpoints)."""
    block: tuple[int, int] | None = None
    """FP8: the weight block one fp32 scale covers (rows, columns); None for one scale per row."""
    skip_modules: tuple[str, ...] = ()
    """Modules left unquantized (bitsandbytes' llm_int8_skip_modules, compressed-tensors' ignore)."""

    @property
    def description(self) -> str:
        """'bitsandbytes 4-bit (NF4, double quant)', 'GPTQ 4-bit, groups of 128'."""
        name = FORMAT_NAMES[self.format]
        if self.format == "bnb-4bit":
            return f"{name}{' (double quant)' if self.double_quant else ''}"
        if self.bits is None:
            return f"{name} ({self.quant_method}, size unknown)"
        groups = f", groups of {self.group_size}" if self.group_size else ""
        return f"{name} {self.bits}-bit{groups}" if self.format not in ("bnb-8bit", "fp8") else name

    @property
    def adapter_method(self) -> str:
        """The method name for adapters on these stored weights: QLoRA on 4-bit bitsandbytes, 8-bit LoRA on
        8-bit bitsandbytes, LoRA (on the stored weights) for the other formats."""
        return {"bnb-4bit": "qlora", "bnb-8bit": "lora8"}.get(self.format, "lora")


def read_stored_quantization(config: dict[str, Any]) -> StoredQuantization | None:
    """The checkpoint's stored quantization from config.json, or None for a 16-bit checkpoint."""
    raw = config.get("quantization_config")
    if raw is None or raw == {}:
        return None
    if not isinstance(raw, dict):
        raise UnsupportedModelError(
            f"config.json's quantization_config must be an object, got {type(raw).__name__}: {_FIX}"
        )
    method = str(raw.get("quant_method") or "").lower()[:40]
    if method == "bitsandbytes" or raw.get("load_in_4bit") or raw.get("load_in_8bit"):
        return _bitsandbytes(raw)
    if method in ("gptq", "awq"):
        return StoredQuantization(
            format=method,  # type: ignore[arg-type]
            quant_method=method,
            bits=_int(raw, "bits", 4),
            group_size=_group(raw.get("group_size")),
            skip_modules=_names(raw.get("modules_to_not_convert")),
        )
    if method == "fp8":
        block = raw.get("weight_block_size")
        pair = tuple(int(v) for v in block) if _int_list(block, 2) else None
        return StoredQuantization(
            format="fp8",
            quant_method=method,
            bits=8,
            block=pair,  # type: ignore[arg-type]
            skip_modules=_names(raw.get("modules_to_not_convert")),
        )
    if method == "compressed-tensors":
        return _compressed_tensors(raw)
    return StoredQuantization(format="other", quant_method=method or "unnamed", bits=_int(raw, "bits", None))


def _bitsandbytes(raw: dict[str, Any]) -> StoredQuantization:
    skip = _names(raw.get("llm_int8_skip_modules"))
    if raw.get("load_in_8bit") and not raw.get("load_in_4bit"):
        return StoredQuantization(format="bnb-8bit", quant_method="bitsandbytes", bits=8, skip_modules=skip)
    storage = str(raw.get("bnb_4bit_quant_storage") or "uint8")
    return StoredQuantization(
        format="bnb-4bit",
        quant_method="bitsandbytes",
        bits=4,
        double_quant=bool(raw.get("bnb_4bit_use_double_quant", False)),
        quant_storage=_DTYPE_NAMES.get(storage.removeprefix("torch."), "uint8"),
        skip_modules=skip,
    )


def _compressed_tensors(raw: dict[str, Any]) -> StoredQuantization:
    """The first config group's weight scheme (checkpoints use one group for every Linear)."""
    groups = raw.get("config_groups")
    weights: dict[str, Any] = {}
    if isinstance(groups, dict) and groups:
        first = next(iter(groups.values()))
        weights = first.get("weights") or {} if isinstance(first, dict) else {}
    strategy = str(weights.get("strategy") or "")
    return StoredQuantization(
        format="compressed-tensors",
        quant_method="compressed-tensors",
        bits=_int(weights, "num_bits", None),
        group_size=_group(weights.get("group_size")) if strategy == "group" else None,
        skip_modules=_names(raw.get("ignore")),
    )


def _int(data: dict[str, Any], key: str, default: int | None) -> int | None:
    value = data.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 16:
        raise UnsupportedModelError(
            f"config.json's quantization_config {key} must be a whole number of bits from 1 to 16, got "
            f"{str(value)[:20]}: {_FIX}"
        )
    return value


def _group(value: Any) -> int | None:
    """A group size; -1 (GPTQ's 'one group per row') and anything unusable read as None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _int_list(value: Any, length: int) -> bool:
    return isinstance(value, list) and len(value) == length and all(isinstance(v, int) and v > 0 for v in value)


def _names(value: Any) -> tuple[str, ...]:
    """Module names from a list (others, and anything past 4,096 entries, are ignored)."""
    if not isinstance(value, list):
        return ()
    return tuple(str(name)[:200] for name in value[:4096] if isinstance(name, str))


def method_on_stored(method: str, stored: StoredQuantization) -> str | None:
    """What training `method` on this stored checkpoint does, said for the started event (None when it is
    what was asked); a UserError for full fine-tuning, which quantized weights cannot take."""
    from tuiapp.core.user_error import UserError

    if method == "full":
        raise UserError(
            f"method: full fine-tuning needs 16-bit weights, and this checkpoint is stored as {stored.description}",
            f"set method: {stored.adapter_method} to train adapters on the stored weights, or give the 16-bit "
            "original of the model",
        )
    if method == stored.adapter_method:
        return f"the checkpoint is stored as {stored.description}: loaded as stored, with no second quantization"
    if method in ("qlora", "lora8"):
        return (
            f"method {method} would quantize the weights again, but the checkpoint is already stored as "
            f"{stored.description}: loaded as stored, adapters on top"
        )
    return (
        f"method {method} asks for a 16-bit base, but the checkpoint is stored as {stored.description}: loaded as "
        "stored, adapters on top"
    )
