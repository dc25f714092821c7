"""Stand-ins for bitsandbytes' 4-bit and 8-bit linear layers that work on meta and fake tensors.

bitsandbytes cannot build its `Params4bit` under FakeTensorMode, so the simulation swaps each quantized
`nn.Linear` for a module holding the same storages (packed NF4 bytes, block scales and their second-level
scales, or int8 rows and their scales) whose forward and backward allocate what bitsandbytes allocates
on a CUDA GPU for a training-sized batch: the weight dequantized to the compute dtype in the forward and
again in the backward (4-bit), or the activations quantized to int8 and an int32 product (8-bit).
The classes subclass bitsandbytes' own, so PEFT wraps them with its bitsandbytes LoRA layers as it does
for a real quantized model.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn

BLOCK_4BIT = 64  # values per absmax block (bitsandbytes' default blocksize for 4-bit weights)
BLOCK_NESTED = 256  # absmax values per second-level fp32 scale with double quantization
NF4_CODE_VALUES = 16  # the NF4 lookup table each quant state carries (fp32)
NESTED_CODE_VALUES = 256  # the 8-bit dynamic map each nested quant state carries (fp32)


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@functools.cache
def _classes() -> tuple[type, type]:
    """Build the emulated layer classes (bitsandbytes and torch are imported only here)."""
    import bitsandbytes as bnb
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Dequant4bitMatmul(torch.autograd.Function):
        """bitsandbytes' MatMul4Bit on the dequantize-then-matmul path (CUDA, more than 1536 rows)."""

        @staticmethod
        def forward(ctx: Any, x: torch.Tensor, bias: torch.Tensor | None, layer: Any) -> torch.Tensor:
            ctx.layer = layer
            ctx.bias_dtype = None if bias is None else bias.dtype
            return F.linear(x, layer.dequantized(x.dtype, in_place_offset=False), bias)

        @staticmethod
        def backward(ctx: Any, grad: torch.Tensor) -> tuple[Any, ...]:
            grad_x = grad_bias = None
            if ctx.needs_input_grad[1]:
                grad_bias = grad.sum(0, dtype=ctx.bias_dtype)
            if ctx.needs_input_grad[0]:
                weight = ctx.layer.dequantized(ctx.layer.quant_dtype, in_place_offset=True).to(grad.dtype)
                grad_x = torch.matmul(grad, weight)
            return grad_x, grad_bias, None

    class EmulatedLinear4bit(bnb.nn.Linear4bit):
        """NF4 weight: packed bytes, per-64-value absmax (uint8 plus fp32 second level if nested)."""

        def __init__(self, linear: nn.Linear, compute_dtype: torch.dtype, double_quant: bool) -> None:
            nn.Module.__init__(self)
            self.in_features, self.out_features = linear.in_features, linear.out_features
            self.compute_dtype, self.quant_dtype = compute_dtype, linear.weight.dtype
            self.compute_type_is_set, self.quant_type, self.quant_storage = True, "nf4", torch.uint8
            self.double_quant = double_quant
            device, values = linear.weight.device, self.in_features * self.out_features
            weight = nn.Parameter(torch.empty((ceil_div(values, 2), 1), dtype=torch.uint8, device=device), False)
            weight.quant_type, weight.compress_statistics = "nf4", double_quant
            self.weight, self.bias = weight, linear.bias
            blocks = ceil_div(values, BLOCK_4BIT)
            f32 = torch.float32
            buffers = {"code": (NF4_CODE_VALUES, f32)}
            if double_quant:
                buffers |= {"absmax": (blocks, torch.uint8), "offset": ((), f32)}
                buffers |= {
                    "absmax2": (ceil_div(blocks, BLOCK_NESTED), f32),
                    "code2": (NESTED_CODE_VALUES, f32),
                }
            else:
                buffers["absmax"] = (blocks, f32)
            for name, (shape, dtype) in buffers.items():
                self.register_buffer(name, torch.empty(shape, dtype=dtype, device=device), persistent=False)

        def dequantized(self, dtype: torch.dtype, in_place_offset: bool) -> torch.Tensor:
            """Allocate what bitsandbytes' dequantize allocates: fp32 block scales, then the weight."""
            if self.double_quant:
                absmax = torch.empty(self.absmax.shape, dtype=torch.float32, device=self.absmax.device)
                absmax = absmax.add_(self.offset) if in_place_offset else absmax + self.offset
            return torch.empty((self.out_features, self.in_features), dtype=dtype, device=self.weight.device)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            inp_dtype = x.dtype
            x = x.to(self.compute_dtype)
            bias = self.bias
            if bias is not None:
                if bias.dtype != x.dtype:
                    bias.data = bias.data.to(x.dtype)
                bias = bias.to(self.compute_dtype)
            return Dequant4bitMatmul.apply(x, bias, self).to(inp_dtype)

    class Int8Matmul(torch.autograd.Function):
        """bitsandbytes' MatMul8bitLt for a frozen weight: fp16 → int8 activations, int32 product."""

        @staticmethod
        def forward(ctx: Any, x: torch.Tensor, bias: torch.Tensor | None, layer: Any) -> torch.Tensor:
            ctx.layer, ctx.shape, ctx.dtype = layer, x.shape, x.dtype
            rows = x.reshape(-1, x.shape[-1])
            half = rows.to(torch.float16)  # bitsandbytes quantizes activations from fp16
            quantized = torch.empty(rows.shape, dtype=torch.int8, device=x.device)
            row_scale = torch.empty(rows.shape[0], dtype=torch.float32, device=x.device)
            del half
            product = torch.empty((rows.shape[0], layer.out_features), dtype=torch.int32, device=x.device)
            out = torch.empty((rows.shape[0], layer.out_features), dtype=x.dtype, device=x.device)
            del product, quantized, row_scale
            if bias is not None:
                out = out + bias
            return out.reshape(*x.shape[:-1], layer.out_features)

        @staticmethod
        def backward(ctx: Any, grad: torch.Tensor) -> tuple[Any, ...]:
            grad_x = None
            if ctx.needs_input_grad[0]:
                grad = grad.reshape(-1, grad.shape[-1]).contiguous()
                layer = ctx.layer
                weight = layer.weight.to(ctx.dtype, copy=True).mul_(layer.SCB.unsqueeze(1).mul(1.0 / 127.0))
                grad_x = torch.matmul(grad.to(ctx.dtype), weight).view(ctx.shape)
            return grad_x, None, None

    class EmulatedLinear8bitLt(bnb.nn.Linear8bitLt):
        """LLM.int8() weight: int8 rows plus one fp32 scale per output row (outliers assumed rare)."""

        def __init__(self, linear: nn.Linear) -> None:
            nn.Module.__init__(self)
            self.in_features, self.out_features = linear.in_features, linear.out_features
            device = linear.weight.device
            weight = torch.empty((self.out_features, self.in_features), dtype=torch.int8, device=device)
            self.weight, self.bias = nn.Parameter(weight, requires_grad=False), linear.bias
            self.register_buffer("SCB", torch.empty(self.out_features, device=device), persistent=False)
            self.state = bnb.MatmulLtState()
            self.state.threshold, self.state.has_fp16_weights = 6.0, False
            self.index = None

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if self.bias is not None and self.bias.dtype != x.dtype:
                self.bias.data = self.bias.data.to(x.dtype)
            return Int8Matmul.apply(x, self.bias, self)

    return EmulatedLinear4bit, EmulatedLinear8bitLt


def quantize_linears(model: nn.Module, method: str, compute_dtype: torch.dtype, double_quant: bool) -> None:
    """Swap every linear layer but the LM head for its emulated quantized form, as transformers'
    bitsandbytes loader does, and mark the model quantized so PEFT treats it as such."""
    from torch import nn

    linear4, linear8 = _classes()
    head = model.get_output_embeddings()
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is not nn.Linear or child is head:
                continue
            new = linear8(child) if method == "lora8" else linear4(child, compute_dtype, double_quant)
            setattr(parent, name, new)
    model.is_loaded_in_4bit = method == "qlora"
    model.is_loaded_in_8bit = method == "lora8"


def quant_state_tensors(model: nn.Module) -> list[torch.Tensor]:
    """Tensors a real bitsandbytes-quantized model holds outside its parameters and buffers."""
    import torch

    found: list[torch.Tensor] = []
    for module in model.modules():
        weight = getattr(module, "weight", None)
        state = getattr(weight, "quant_state", None)
        for holder in (state, getattr(state, "state2", None)):
            found += [v for v in vars(holder).values() if isinstance(v, torch.Tensor)] if holder else []
        scale = getattr(weight, "SCB", None)
        if isinstance(scale, torch.Tensor):
            found.append(scale)
    return found
