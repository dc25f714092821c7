"""Every parameter group's dtype and storage for one setup, as the backend holds it once loaded and wrapped.

One function, `param_ledger`, says what the quantized linears, their quantization state, the rest of the
model (embeddings, norms, LM head, biases, unquantized experts), the rotary buffers and the adapters are
stored as, and which of them train. The closed form's weights, adapter and cast terms are its sums, the
simulation builds its model by the same decisions (tuiapp/core/estimate/backend_choices.py), and
tests/training/test_param_ledger.py compares it, dtype by dtype, with models loaded through the backends'
own loading code.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from tuiapp.core.estimate.backend_choices import full_weights_dtype, resolve

if TYPE_CHECKING:
    from tuiapp.core.estimate.closed_form import TrainingSetup
    from tuiapp.core.models.shape import LinearSpec, ModelShape
    from tuiapp.core.models.stored_quant import StoredQuantization

DTYPE_BYTES = {"bf16": 2, "fp16": 2, "fp32": 4, "uint8": 1, "int8": 1, "int32": 4, "fp8": 1}
BLOCK_4BIT = 64  # values per absmax block in bitsandbytes' 4-bit quantization
DOUBLE_QUANT_BLOCK = 256  # absmax values per second-level fp32 scale with double quantization
NF4_CODE_VALUES = 16  # each 4-bit quant state carries its own fp32 lookup table
NESTED_CODE_VALUES = 256  # and, double-quantized, the 8-bit dynamic map of its nested state
Storage = Literal["parameter", "buffer", "quant_state"]


@dataclass(frozen=True)
class ParamGroup:
    """One kind of tensor the model holds, in one dtype."""

    name: str
    values: int
    """Weight values it stands for (a packed 4-bit weight stores two per byte)."""
    dtype: str
    """The storage dtype, as DTYPE_BYTES names it."""
    nbytes: int
    trainable: bool
    storage: Storage
    """parameter / buffer: in model.parameters() / model.buffers(); quant_state: bitsandbytes' scales and
    tables, hung on the quantized weights outside both."""


@dataclass(frozen=True)
class ParamLedger:
    """The groups, and the dtypes the rest of the estimate needs."""

    groups: tuple[ParamGroup, ...]
    quantized: str | None
    """The linears' storage format ("nf4", "int8", or a stored checkpoint's format); None for 16-bit."""
    rest_dtype: str
    """The dtype of what is not quantized (it sets the residual stream's dtype)."""
    trained_dtype: str
    """The dtype of the trainable parameters: the adapters', or the full model's weights."""

    def bytes_by_dtype(self, storages: tuple[Storage, ...] = ("parameter", "buffer")) -> dict[str, int]:
        found: Counter[str] = Counter()
        for group in self.groups:
            if group.storage in storages:
                found[group.dtype] += group.nbytes
        return dict(found)

    @property
    def weights_bytes(self) -> int:
        """The base model: everything but the adapters, quantization state included."""
        return sum(group.nbytes for group in self.groups if group.name != "adapters")

    @property
    def adapter_bytes(self) -> int:
        return sum(group.nbytes for group in self.groups if group.name == "adapters")

    @property
    def trainable_params(self) -> int:
        return sum(group.values for group in self.groups if group.trainable)

    @property
    def trainable_bytes(self) -> int:
        return sum(group.nbytes for group in self.groups if group.trainable)


def lora_targets(shape: ModelShape, setup: TrainingSetup) -> list[LinearSpec]:
    """The matrices LoRA wraps: nn.Linear only (fused experts need target_parameters), by name."""
    layers = [spec for spec in shape.linear_layers() if spec.kind == "linear"]
    if setup.lora_targets == "all-linear":
        return layers
    wanted = set(setup.lora_targets)
    return [spec for spec in layers if spec.name in wanted]


def on_stored_weights(shape: ModelShape, setup: TrainingSetup) -> TrainingSetup:
    """`setup` as it runs on a checkpoint stored quantized: adapters on the stored weights (QLoRA on
    bitsandbytes 4-bit, 8-bit LoRA on 8-bit, LoRA on the others), whatever method was asked; unchanged
    for a 16-bit checkpoint."""
    stored = shape.stored_quantization
    if stored is None or setup.method == stored.adapter_method:
        return setup
    return replace(setup, method=stored.adapter_method)  # type: ignore[arg-type]


def param_ledger(shape: ModelShape, setup: TrainingSetup) -> ParamLedger:
    """What `shape` holds under `setup` on our backend (or the stack the setup's choices describe)."""
    setup = on_stored_weights(shape, setup)  # a stored-quantized checkpoint trains adapters on its weights
    chosen, stored = resolve(setup), shape.stored_quantization
    fmt = _format(setup, stored)
    full = setup.method == "full" and fmt is None
    groups: list[ParamGroup] = []
    quantized_values = 0
    if fmt is not None:
        copies = _quantized_copies(shape, stored)
        quantized_values = sum(spec.in_features * spec.out_features * n for spec, n in copies)
        groups += _quantized_groups(copies, fmt, stored, setup)
    rest = shape.total_params - quantized_values
    if full:
        trained, fp32_norms = full_weights_dtype(setup.framework, setup.precision)
        norms = shape.norm_params if fp32_norms else 0
        groups.append(_group("weights", rest - norms, trained, True))
        if norms:
            groups.append(_group("norm weights", norms, "fp32", True))
        rest_dtype = trained
    else:
        upcast = fmt is not None and chosen.kbit_upcast
        rest_dtype = "fp32" if upcast else setup.precision
        trained = chosen.adapter_dtype
        groups.append(_group("not quantized" if fmt else "weights", rest, rest_dtype, False))
    rotary = 2 * (shape.head_dim // 2)  # inv_freq and original_inv_freq (transformers' RotaryEmbedding)
    groups.append(ParamGroup("rotary frequencies", rotary, "fp32", 4 * rotary, False, "buffer"))
    if not full:
        adapters = sum(
            setup.lora_r * (spec.in_features + spec.out_features) * spec.count for spec in lora_targets(shape, setup)
        )
        groups.append(_group("adapters", adapters, trained, True))
    return ParamLedger(groups=tuple(groups), quantized=fmt, rest_dtype=rest_dtype, trained_dtype=trained)


def _group(name: str, values: int, dtype: str, trainable: bool) -> ParamGroup:
    return ParamGroup(name, values, dtype, values * DTYPE_BYTES[dtype], trainable, "parameter")


def _format(setup: TrainingSetup, stored: StoredQuantization | None) -> str | None:
    """How the linears are stored: as the checkpoint stores them, else as the method quantizes them."""
    if stored is not None:
        return {"bnb-4bit": "nf4", "bnb-8bit": "int8"}.get(stored.format, stored.format)
    return {"qlora": "nf4", "lora8": "int8"}.get(setup.method)


def _quantized_copies(shape: ModelShape, stored: StoredQuantization | None) -> list[tuple[LinearSpec, int]]:
    """(matrix, how many are quantized): every nn.Linear in the layers (never the LM head, and never fused
    experts: bitsandbytes and transformers' quantizers replace nn.Linear only), less the skipped ones."""
    skip = stored.skip_modules if stored else ()
    copies = []
    for spec in shape.linear_layers():
        if spec.kind != "linear":
            continue
        kept = _skipped_copies(spec, skip, shape.num_layers)
        if spec.count > kept:
            copies.append((spec, spec.count - kept))
    return copies


def _skipped_copies(spec: LinearSpec, skip: tuple[str, ...], layers: int) -> int:
    """How many copies of `spec` a skip list keeps unquantized, by transformers' rule
    (quantizers_utils.should_convert_module: an entry matches a module name's start, as a regex, or its end)
    applied to each layer's module name."""
    if not skip:
        return 0
    return min(spec.count, _skipped_layers(spec.name, skip, layers) * spec.count // layers)


@functools.lru_cache(maxsize=256)
def _skipped_layers(name: str, skip: tuple[str, ...], layers: int) -> int:
    """In how many layers the skip list matches this matrix (cached: the planner asks for many setups)."""
    block = "self_attn" if name in ("q_proj", "k_proj", "v_proj", "o_proj", "qkv_proj") else "mlp"
    return sum(any(_matches(entry, f"model.layers.{i}.{block}.{name}") for entry in skip) for i in range(layers))


def _matches(entry: str, name: str) -> bool:
    try:
        return bool(re.match(entry, name)) or name.endswith(entry)
    except re.error:  # a skip entry that is no regex: compared as text
        return name.startswith(entry) or name.endswith(entry)


def _quantized_groups(
    copies: list[tuple[LinearSpec, int]], fmt: str, stored: StoredQuantization | None, setup: TrainingSetup
) -> list[ParamGroup]:
    """The stored weights and their scales, matrix by matrix (each rounds its own blocks up)."""
    weight = scales = fp32_state = uint8_state = 0
    values = sum(spec.in_features * spec.out_features * n for spec, n in copies)
    matrices = sum(n for _, n in copies)
    if fmt == "nf4":
        double = stored.double_quant if stored else setup.double_quant
        for spec, n in copies:
            blocks = -(-spec.in_features * spec.out_features // BLOCK_4BIT)
            weight += n * (spec.in_features * spec.out_features // 2)
            if double:  # uint8 absmax, fp32 absmax per 256 blocks, the offset and both code tables
                uint8_state += n * blocks
                fp32_state += n * 4 * (-(-blocks // DOUBLE_QUANT_BLOCK) + 1 + NF4_CODE_VALUES + NESTED_CODE_VALUES)
            else:
                fp32_state += n * 4 * (blocks + NF4_CODE_VALUES)
        # hf packs into the compute dtype (backend_hf._load_model's bnb_4bit_quant_storage), Unsloth and
        # stored checkpoints into uint8 unless their config says otherwise.
        storage = stored.quant_storage if stored else ("uint8" if setup.framework == "unsloth" else setup.precision)
        return [
            ParamGroup("quantized linears", values, storage, weight, False, "parameter"),
            ParamGroup("quantization state", 0, "fp32", fp32_state, False, "quant_state"),
            ParamGroup("quantization state", 0, "uint8", uint8_state, False, "quant_state"),
        ]
    if fmt == "int8":  # LLM.int8(): int8 rows, one fp32 scale per output row
        scales = sum(4 * spec.out_features * n for spec, n in copies)
        return [
            ParamGroup("quantized linears", values, "int8", values, False, "parameter"),
            ParamGroup("quantization state", 0, "fp32", scales, False, "quant_state"),
        ]
    return _stored_format_groups(copies, values, matrices, stored, setup)


def _stored_format_groups(
    copies: list[tuple[LinearSpec, int]],
    values: int,
    matrices: int,
    stored: StoredQuantization | None,
    setup: TrainingSetup,
) -> list[ParamGroup]:
    """GPTQ / AWQ (int32-packed values, 16-bit scales and packed zeros per group), FP8 (a byte a value, fp32
    block scales), compressed-tensors (packed values, 16-bit group scales); unknown: 16-bit, to be safe."""
    assert stored is not None
    bits = stored.bits
    if bits is None:
        return [ParamGroup("quantized linears", values, setup.precision, 2 * values, False, "parameter")]
    packed = sum(-(-spec.in_features * spec.out_features * bits // 8) * n for spec, n in copies)
    scale_bytes = 0
    for spec, n in copies:
        if stored.format == "fp8":
            rows, cols = stored.block or (1, spec.in_features)
            scale_bytes += n * 4 * -(-spec.out_features // rows) * -(-spec.in_features // cols)
            continue
        groups = -(-spec.in_features // (stored.group_size or spec.in_features))
        per_group = 2 + (bits / 8 if stored.format in ("gptq", "awq") else 0)  # fp16 scale, packed zero
        scale_bytes += int(n * groups * spec.out_features * per_group)
        if stored.format == "gptq":
            scale_bytes += n * 4 * spec.in_features  # g_idx
    dtype = "fp8" if stored.format == "fp8" else "int32"
    return [
        ParamGroup("quantized linears", values, dtype, packed, False, "parameter"),
        ParamGroup(
            "quantization scales", matrices, "fp32" if stored.format == "fp8" else "fp16", scale_bytes, False, "buffer"
        ),
    ]
