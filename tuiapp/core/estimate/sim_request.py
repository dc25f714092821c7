"""The plain-data request for the exact check (tuiapp.training.memory_sim) from a planned setup."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tuiapp.core.estimate.backend_choices import resolve
from tuiapp.core.estimate.closed_form import TrainingSetup
from tuiapp.core.models.stored_quant import read_stored_quantization

TORCH_DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}


def simulation_request(hf_config: dict[str, Any], setup: TrainingSetup) -> dict[str, Any]:
    """JSON-able request for one simulated training step of `setup`."""
    targets = setup.lora_targets
    stored = read_stored_quantization(hf_config)
    if stored is not None:  # a checkpoint stored quantized trains adapters on its stored weights
        setup = replace(setup, method=stored.adapter_method)  # type: ignore[arg-type]
    return {
        "hf_config": hf_config,
        "method": setup.method,
        "lora_r": setup.lora_r,
        "lora_alpha": 2 * setup.lora_r,
        "lora_targets": targets if isinstance(targets, str) else list(targets),
        "lora_dropout": setup.lora_dropout,
        "seq_len": setup.seq_len,
        "micro_batch": setup.micro_batch,
        "gradient_checkpointing": setup.gradient_checkpointing,
        "optimizer": setup.optimizer,
        "dtype": TORCH_DTYPES[setup.precision],
        "attn_implementation": "eager" if setup.attn_implementation == "eager" else "sdpa",
        "double_quant": setup.double_quant,
        "loss_path": resolve(setup).loss_path,
        # The parameter dtypes the backend leaves (param_ledger reads the same two choices).
        "kbit_upcast": resolve(setup).kbit_upcast,
        "adapter_dtype": resolve(setup).adapter_dtype,
    }


def setup_from_request(request: dict[str, Any]) -> TrainingSetup:
    """The TrainingSetup a request was made from (as far as the simulation needs it); KeyError/ValueError
    for a request that does not hold one."""
    precision = {name: short for short, name in TORCH_DTYPES.items()}[request["dtype"]]
    targets = request["lora_targets"]
    return TrainingSetup(
        method=request["method"],
        seq_len=int(request["seq_len"]),
        micro_batch=int(request["micro_batch"]),
        gradient_checkpointing=bool(request["gradient_checkpointing"]),
        optimizer=str(request["optimizer"]),
        precision=precision,  # type: ignore[arg-type]
        lora_r=int(request["lora_r"]),
        lora_targets=targets if isinstance(targets, str) else tuple(targets),
        lora_dropout=float(request["lora_dropout"]),
        attn_implementation=str(request["attn_implementation"]),
        double_quant=bool(request["double_quant"]),
        loss_path=request.get("loss_path", "full_logits"),
        kbit_upcast=request.get("kbit_upcast"),
        adapter_dtype=request.get("adapter_dtype"),
    )
