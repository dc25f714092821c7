"""The simulation request, and the model prepared for training as PEFT and transformers prepare it.

`prepare_for_training` is shared by the simulated model (built on the meta device, then given fake
tensors) and the measured one (loaded with `from_pretrained`), so both train the same module tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn
    from torch._subclasses.fake_tensor import FakeTensorMode

METHODS = ("full", "lora", "qlora", "lora8")
OPTIMIZERS = ("adamw_torch", "adamw_8bit", "paged_adamw_8bit", "sgd")
DTYPES = ("bfloat16", "float16", "float32")
ATTENTION = ("sdpa", "eager")
LOSS_PATHS = ("chunked", "full_logits")  # tuiapp.training.sim_loss
DEFAULTS: dict[str, Any] = {
    "lora_r": 16,
    "lora_targets": "all-linear",
    "lora_dropout": 0.05,
    "gradient_checkpointing": True,
    "optimizer": "adamw_torch",
    "dtype": "bfloat16",
    "attn_implementation": "sdpa",
    "double_quant": True,
    "loss_path": "full_logits",
    "kbit_upcast": None,  # None: what the hf backend does (tuiapp.core.estimate.backend_choices)
    "adapter_dtype": None,
}
ADAPTER_DTYPES = ("fp32", "bf16", "fp16")


@dataclass(frozen=True)
class SimRequest:
    """One training setup to simulate; see `parse_request` for the JSON keys."""

    hf_config: dict[str, Any]
    method: str
    seq_len: int
    micro_batch: int
    lora_r: int
    lora_alpha: float
    lora_targets: str | tuple[str, ...]
    lora_dropout: float
    gradient_checkpointing: bool
    optimizer: str
    dtype: str
    attn_implementation: str
    double_quant: bool
    loss_path: str = "full_logits"
    """"chunked": TRL's fused LM head (SFTTrainer); "full_logits": the model's own loss on its logits."""
    kbit_upcast: bool = False
    """Quantized: PEFT's prepare_model_for_kbit_training upcasts everything not quantized to fp32."""
    adapter_dtype: str = "fp32"
    """The LoRA weights' dtype ("fp32", "bf16", "fp16") once the trainer is built."""

    @property
    def quantized(self) -> bool:
        return self.method in ("qlora", "lora8")


def _choice(data: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = data[key]
    if value not in allowed:
        raise ValueError(f"{key} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _positive_int(data: dict[str, Any], key: str) -> int:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{key} must be a positive integer; got {value!r}")
    return value


def parse_request(data: Any) -> SimRequest:
    """Validate a JSON request; a ValueError says which key is wrong and what it should be."""
    if not isinstance(data, dict):
        raise ValueError(f"the request must be a JSON object; got {type(data).__name__}")
    missing = [key for key in ("hf_config", "method", "seq_len", "micro_batch") if key not in data]
    if missing:
        raise ValueError(f"the request lacks {', '.join(missing)}")
    known = {*DEFAULTS, "hf_config", "method", "seq_len", "micro_batch", "lora_alpha"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown request keys: {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    full = {**DEFAULTS, **data}
    if not isinstance(full["hf_config"], dict) or not full["hf_config"].get("model_type"):
        raise ValueError("hf_config must be a config.json object with a model_type")
    targets = full["lora_targets"]
    if not (targets == "all-linear" or (isinstance(targets, list) and all(isinstance(t, str) for t in targets))):
        raise ValueError(f"lora_targets must be 'all-linear' or a list of module names; got {targets!r}")
    dropout = full["lora_dropout"]
    if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"lora_dropout must be a number in [0, 1); got {dropout!r}")
    for key in ("gradient_checkpointing", "double_quant"):
        if not isinstance(full[key], bool):
            raise ValueError(f"{key} must be true or false; got {full[key]!r}")
    lora_r = _positive_int(full, "lora_r")
    alpha = full.get("lora_alpha", 2 * lora_r)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha <= 0:
        raise ValueError(f"lora_alpha must be a positive number; got {alpha!r}")
    return SimRequest(
        hf_config=full["hf_config"],
        method=_choice(full, "method", METHODS),
        seq_len=_positive_int(full, "seq_len"),
        micro_batch=_positive_int(full, "micro_batch"),
        lora_r=lora_r,
        lora_alpha=alpha,
        lora_targets=targets if isinstance(targets, str) else tuple(targets),
        lora_dropout=float(dropout),
        gradient_checkpointing=full["gradient_checkpointing"],
        optimizer=_choice(full, "optimizer", OPTIMIZERS),
        dtype=_choice(full, "dtype", DTYPES),
        attn_implementation=_choice(full, "attn_implementation", ATTENTION),
        double_quant=full["double_quant"],
        loss_path=_choice(full, "loss_path", LOSS_PATHS),
        **_backend_choices(full),
    )


def _backend_choices(full: dict[str, Any]) -> dict[str, Any]:
    """kbit_upcast and adapter_dtype, None filled in with what the hf backend does for this method."""
    from tuiapp.core.estimate.backend_choices import backend_defaults

    precision = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}[full["dtype"]]
    default = backend_defaults("hf", full["method"], precision)
    upcast, adapter = full["kbit_upcast"], full["adapter_dtype"]
    if upcast is not None and not isinstance(upcast, bool):
        raise ValueError(f"kbit_upcast must be true, false or null; got {upcast!r}")
    if adapter is not None and adapter not in ADAPTER_DTYPES:
        raise ValueError(f"adapter_dtype must be one of {', '.join(ADAPTER_DTYPES)} or null; got {adapter!r}")
    return {
        "kbit_upcast": default.kbit_upcast if upcast is None else upcast,
        "adapter_dtype": adapter or default.adapter_dtype,
    }


def torch_dtype(request: SimRequest) -> torch.dtype:
    import torch

    return getattr(torch, request.dtype)


def build_meta_model(request: SimRequest) -> nn.Module:
    """The architecture from its config on the meta device (no weights), quantized layers swapped in."""
    import torch
    import transformers
    from transformers import AutoConfig, AutoModelForCausalLM
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    from tuiapp.training.quant_emulation import quantize_linears

    fields = {k: v for k, v in request.hf_config.items() if k not in ("quantization_config", "auto_map")}
    model_type = fields.pop("model_type")
    if model_type not in CONFIG_MAPPING:
        raise ValueError(
            f"transformers {transformers.__version__} has no architecture for model_type {model_type!r}; "
            "models that need trust_remote_code cannot be simulated"
        )
    try:
        config = AutoConfig.for_model(model_type, **fields)
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(
                config, dtype=torch_dtype(request), attn_implementation=request.attn_implementation
            )
    except Exception as exc:  # config validators raise assorted types; all mean "bad config"
        reason = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())[:400]
        raise ValueError(f"cannot build a causal LM from this {model_type} config: {reason}") from None
    if request.quantized:
        quantize_linears(model, request.method, torch_dtype(request), request.double_quant)
    return model


def use_native_dropout(model: nn.Module) -> None:
    """Make dropout modules (LoRA's among them) save a 1-byte mask, as CUDA's fused dropout does; on
    CPU, dropout saves a full-width noise tensor in the input's dtype instead."""
    import torch
    from torch import nn

    class MaskDropout(nn.Dropout):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if not self.training or self.p == 0:
                return x
            return torch.native_dropout(x, self.p, True)[0]

    for module in model.modules():
        if type(module) is nn.Dropout and module.p > 0:
            module.__class__ = MaskDropout


def prepare_for_training(model: nn.Module, request: SimRequest) -> nn.Module:
    """Parameter dtypes as the backend leaves them (tuiapp.core.estimate.param_ledger says which), LoRA
    (PEFT), gradient checkpointing, train mode: as for training."""
    import torch
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if request.quantized and request.kbit_upcast:
        # Freezes everything and upcasts the non-quantized parameters (embeddings, norms, LM head) to fp32;
        # TRL's SFTTrainer never does this, another stack may (the request says).
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    if request.method == "full" and request.dtype == "float16":
        model = model.to(torch.float32)  # fp16 mixed precision keeps fp32 master weights (backend_hf)
    if request.method != "full":
        targets = request.lora_targets if isinstance(request.lora_targets, str) else list(request.lora_targets)
        lora = LoraConfig(
            r=request.lora_r,
            lora_alpha=request.lora_alpha,
            lora_dropout=request.lora_dropout,
            target_modules=targets,
            task_type="CAUSAL_LM",
        )
        model = get_peft_model(model, lora)  # adapters in fp32 (PEFT's autocast_adapter_dtype)
        cast_adapters(model, request.adapter_dtype)
    use_native_dropout(model)
    if request.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        if request.method != "full":
            model.enable_input_require_grads()
    model.config.use_cache = False
    model.train()
    return model


def cast_adapters(model: nn.Module, adapter_dtype: str) -> None:
    """Every trainable parameter but DoRA's magnitude to `adapter_dtype`, as TRL's SFTTrainer casts a
    quantized model's adapters to bf16 (trl/trainer/sft_trainer.py)."""
    import torch

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[adapter_dtype]
    for name, param in model.named_parameters():
        if param.requires_grad and "lora_magnitude_vector" not in name and param.dtype != dtype:
            param.data = param.data.to(dtype)


def to_fake(model: nn.Module, fake_mode: FakeTensorMode) -> None:
    """Replace every meta parameter and buffer with a fake CPU tensor of the same shape and dtype
    (tied parameters stay tied; attributes bitsandbytes/PEFT hang on parameters are kept)."""
    import torch
    from torch import nn

    replaced: dict[int, torch.Tensor] = {}

    def fake(tensor: torch.Tensor, parameter: bool) -> torch.Tensor:
        if id(tensor) not in replaced:
            new = torch.empty(tensor.shape, dtype=tensor.dtype, device="cpu")
            if parameter:
                new = nn.Parameter(new, requires_grad=tensor.requires_grad)
                new.__dict__.update(tensor.__dict__)
            replaced[id(tensor)] = new
        return replaced[id(tensor)]

    with fake_mode:
        for module in model.modules():
            for name, param in module._parameters.items():
                if param is not None:
                    module._parameters[name] = fake(param, parameter=True)
            for name, buffer in module._buffers.items():
                if buffer is not None:
                    module._buffers[name] = fake(buffer, parameter=False)
            for name, value in list(vars(module).items()):
                if isinstance(value, torch.Tensor) and value.is_meta:
                    setattr(module, name, fake(value, parameter=False))
