"""What the GPU check measures, and how long each part may take, so the whole stays under 8 minutes.

A case is one real training run of our worker on a random-init model of a catalogue shape. Cases of one model
run in one child process (the libraries load once, the model folder is written once); each case has a time
budget from a cost model below, after which it is asked to stop (its figures so far are kept), and each
group has a hard limit after which its process is killed. Figures for the model are deliberately high: a
budget that is too generous only wastes the slack, one that is too tight loses a case.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from tuiapp.core.estimate.step_time import flops_per_token
from tuiapp.core.models.catalog import find_in_catalog
from tuiapp.core.models.shape import ModelShape

TOTAL_BUDGET_S = 450.0  # under 8 minutes with the wheel install, so a rerun fits in 15 minutes of GPU time
INSTALL_S = 25.0  # pip installing the carried wheels into /tmp/site
CHILD_START_S = 25.0  # a group's process: importing torch, transformers, TRL, PEFT and starting CUDA
BUILD_BYTES_PER_S = 1.0e9  # random init on the GPU, copy to the host, safetensors to the work folder
LOAD_BYTES_PER_S = 1.5e9  # the worker's from_pretrained from that folder (QLoRA also quantizes)
CASE_SETUP_S = 10.0  # tokenizing the rows, building the trainer, PEFT wrapping, the final save of adapters
FIRST_STEP_S = 8.0  # CUDA kernels and TRL's Triton loss kernel compiled in the first step
PLANNED_TFLOPS = 989.0  # H200 dense bf16 (spec sheet)
PLANNED_MFU = 0.2  # low on purpose: short runs, checkpointing, one GPU
GROUP_SLACK_S = 30.0  # a group's process is killed this long after its planned time

Method = Literal["full", "lora", "qlora"]
Kind = Literal["measure", "oom_recovery"]


@dataclass(frozen=True)
class Case:
    """One training run: a model, a method and the batch settings; `kind` "oom_recovery" is the forced OOM."""

    model: str  # a catalogue id
    method: Method
    seq_len: int
    micro_batch: int = 1
    gradient_checkpointing: bool = True
    steps: int = 10
    kind: Kind = "measure"
    framework: Literal["hf", "unsloth"] = "hf"

    @property
    def name(self) -> str:
        ckpt = "ckpt" if self.gradient_checkpointing else "no-ckpt"
        tail = ("-oom" if self.kind == "oom_recovery" else "") + ("-unsloth" if self.framework == "unsloth" else "")
        return f"{self.model.split('/')[-1]}-{self.method}-s{self.seq_len}-mb{self.micro_batch}-{ckpt}{tail}"


def catalog_shape(model: str) -> ModelShape:
    entry = find_in_catalog(model)
    if entry is None:
        raise ValueError(f"{model} is not in the model catalogue (presets/models.yaml)")
    return ModelShape.from_hf_config(entry.config, name=entry.name)


def _weight_bytes(model: str) -> float:
    return catalog_shape(model).total_params * 2.0  # bf16


def build_seconds(model: str) -> float:
    """Writing the model folder once for its group."""
    return 5.0 + _weight_bytes(model) / BUILD_BYTES_PER_S


def case_seconds(case: Case) -> float:
    """The planned wall time of one case, loading and the final save included (its stop time)."""
    shape = catalog_shape(case.model)
    load = _weight_bytes(case.model) / LOAD_BYTES_PER_S * (1.6 if case.method == "qlora" else 1.0)
    save = _weight_bytes(case.model) / BUILD_BYTES_PER_S if case.method == "full" else 0.0
    flops = flops_per_token(
        shape,
        full=case.method == "full",
        seq_len=case.seq_len,
        gradient_checkpointing=case.gradient_checkpointing,
    )
    step = case.seq_len * case.micro_batch * flops / (PLANNED_TFLOPS * 1e12 * PLANNED_MFU)
    attempts = 3 if case.kind == "oom_recovery" else 1  # the OOM case loads and starts again after each OOM
    return CASE_SETUP_S + save + attempts * (load + FIRST_STEP_S) + case.steps * step


def groups(cases: list[Case]) -> list[tuple[str, list[Case]]]:
    """Cases by model, in first-seen order, the OOM case last in its group (it limits the process's memory)."""
    order: dict[str, list[Case]] = {}
    for case in cases:
        order.setdefault(case.model, []).append(case)
    return [(model, sorted(items, key=lambda c: c.kind == "oom_recovery")) for model, items in order.items()]


def group_seconds(model: str, cases: list[Case]) -> float:
    return CHILD_START_S + build_seconds(model) + sum(case_seconds(c) for c in cases)


def planned_seconds(cases: list[Case]) -> float:
    """The whole check's planned time: the install plus every group."""
    return INSTALL_S + sum(group_seconds(model, items) for model, items in groups(cases))


LLAMA_1B, QWEN_7B, LLAMA_8B = (
    "meta-llama/Llama-3.2-1B-Instruct",
    "Qwen/Qwen2.5-7B-Instruct",
    "meta-llama/Llama-3.1-8B-Instruct",
)

DEFAULT_CASES: tuple[Case, ...] = (
    Case(LLAMA_1B, "full", 1024, micro_batch=4),
    Case(LLAMA_1B, "full", 4096),
    Case(LLAMA_1B, "qlora", 4096),
    Case(LLAMA_1B, "lora", 2048, micro_batch=8, gradient_checkpointing=False, steps=4, kind="oom_recovery"),
    Case(LLAMA_8B, "lora", 4096),
    Case(LLAMA_8B, "qlora", 8192),
    Case(QWEN_7B, "lora", 2048, micro_batch=2),
    Case(QWEN_7B, "qlora", 4096),
)
"""Under TOTAL_BUDGET_S: LoRA at 2048 and 4096 tokens, QLoRA at 4096 and 8192, full at 1024 and 4096."""

EXTRA_CASES: tuple[Case, ...] = (
    Case(LLAMA_1B, "lora", 4096, gradient_checkpointing=False),
    Case(LLAMA_8B, "lora", 1024, micro_batch=4),
    Case(LLAMA_8B, "qlora", 4096),
    Case(QWEN_7B, "qlora", 8192, micro_batch=2),
)
"""`--extra`: more lengths and batches, for a second run (the defaults and these do not fit one run together)."""


def select_cases(
    models: list[str] | None = None,
    methods: list[str] | None = None,
    seq_lens: list[int] | None = None,
    steps: int | None = None,
    oom_check: bool = True,
    extra: bool = False,
    framework: Literal["hf", "unsloth"] = "hf",
) -> list[Case]:
    """The default cases (or the extra ones), filtered: a model, method or length list keeps only what it names."""
    chosen = []
    for case in EXTRA_CASES if extra else DEFAULT_CASES:
        if case.kind == "oom_recovery" and not oom_check:
            continue
        if models and not any(_same_model(case.model, m) for m in models):
            continue
        if case.kind == "measure" and methods and case.method not in methods:
            continue
        if case.kind == "measure" and seq_lens and case.seq_len not in seq_lens:
            continue
        if steps and case.kind == "measure":
            case = replace(case, steps=steps)
        chosen.append(replace(case, framework=framework))
    return chosen


def _same_model(model: str, query: str) -> bool:
    entry = find_in_catalog(query)
    return entry is not None and entry.name == model
