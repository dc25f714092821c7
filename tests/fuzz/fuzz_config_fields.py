"""Every config field with values that must be accepted, values that must be refused, and values in between.

"good" values are ones a person really writes (the trainers take them); "bad" ones no trainer can run
(negative counts, NaN, infinity, 1e20 micro-batches, seeds past 2^32-1, a 300-character run name, wrong
types); "gray" ones may go either way, but an accepted one must round-trip. The rules over two keys that
FTConfig checks are kept out of generated configs here (see CROSS_FIELD_RULES for cases that break them).
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

from tuiapp.core.config.choices import (
    AttnImplementation,
    DatasetFormat,
    Framework,
    Method,
    Optimizer,
    Precision,
    Scheduler,
    Task,
    choices,
)

NAN, INF = math.nan, math.inf
WRONG_TYPES = st.sampled_from([[1], {"a": 1}, [], {}])
WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=12).filter(
    lambda s: s[0].isalnum()
)
HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["\ud800", "a\x00b", "x\n", " ", "\u202e", "é", "日本語", "a" * 5000, "\x1b[31m", "..", "~"]),
)


def whole(low: int, high: int) -> st.SearchStrategy[int]:
    return st.integers(low, high)


def bad_whole(low: int, high: int | None) -> st.SearchStrategy[Any]:
    """Values a whole-number field in [low, high] must refuse."""
    options = [st.integers(max_value=low - 1), st.sampled_from([NAN, INF, -INF, 1.5, "many", None]), WRONG_TYPES]
    if high is not None:
        options += [st.integers(min_value=high + 1, max_value=2**80), st.sampled_from([1e20, 1e300])]
    return st.one_of(*options)


def bad_number(low: float | None, high: float | None, low_open: bool, high_open: bool) -> st.SearchStrategy[Any]:
    """Values a real-number field must refuse: outside its range, NaN, infinities, words, lists."""
    options: list[st.SearchStrategy[Any]] = [st.sampled_from([NAN, INF, -INF, "fast", None]), WRONG_TYPES]
    if low is not None:
        edge = st.just(low) if low_open else st.nothing()
        options += [st.floats(max_value=low, exclude_max=True, allow_nan=False, allow_infinity=False), edge]
    if high is not None:
        edge = st.just(high) if high_open else st.nothing()
        options += [st.floats(min_value=high, exclude_min=True, allow_nan=False, allow_infinity=False), edge]
    return st.one_of(*options)


def choice(literal: object) -> tuple[st.SearchStrategy[Any], st.SearchStrategy[Any], None]:
    names = choices(literal)
    wrong = st.one_of(
        WORD.filter(lambda w: w not in names),
        st.sampled_from([n.upper() for n in names if n.upper() != n] or ["X"]),
        st.sampled_from([5, None, True]),
        WRONG_TYPES,
    )
    return st.sampled_from(names), wrong, None


BOOL = (st.booleans(), st.one_of(st.sampled_from(["maybe", 2, -1, None]), WRONG_TYPES), None)
NAMES = st.sampled_from(["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
RUN_NAME_GOOD = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,40}\Z")
RUN_NAME_BAD = st.one_of(
    st.sampled_from(["../escape", "a/b", "/abs", "with space", "x\n", "name\n", "", "-x", ".hidden", "a" * 300]),
    st.text(min_size=256, max_size=400, alphabet="abc"),
    WRONG_TYPES,
)

# dotted field -> (good, bad, gray); `None` for gray means no in-between values
FIELDS: dict[str, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any], st.SearchStrategy[Any] | None]] = {
    "model.name_or_path": (
        st.sampled_from(["org/model", "Qwen/Qwen2.5-0.5B", "someone/tiny-llama"]),
        st.one_of(st.sampled_from(["", "   ", None, 5]), WRONG_TYPES),
        HOSTILE_TEXT.filter(lambda s: s.strip() != ""),
    ),
    "model.revision": (st.sampled_from(["main", "v1.0", None]), WRONG_TYPES, HOSTILE_TEXT),
    "model.trust_remote_code": BOOL,
    "model.attn_implementation": choice(AttnImplementation),
    "task": choice(Task),
    "method": choice(Method),
    "framework": choice(Framework),
    "lora.r": (whole(1, 1024), bad_whole(1, 2**31 - 1), whole(1025, 2**31 - 1)),
    "lora.alpha": (whole(1, 2048), bad_whole(1, 2**31 - 1), whole(2049, 2**31 - 1)),
    "lora.dropout": (st.floats(0, 0.5), bad_number(0, 1, False, True), st.floats(0.5, 0.99)),
    "lora.target_modules": (
        st.one_of(st.just("all-linear"), st.lists(NAMES, min_size=1, max_size=7, unique=True)),
        st.sampled_from(["q_proj", "", [], [""], ["q_proj", 5], ["q_proj", None], 7, {"q_proj": 1}]),
        None,
    ),
    "lora.use_dora": BOOL,
    "lora.use_rslora": BOOL,
    "dataset.source": (
        st.sampled_from(["data.jsonl", "org/dataset", "./sets/train.csv"]),
        st.one_of(st.sampled_from(["", None, 5]), WRONG_TYPES),
        HOSTILE_TEXT.filter(lambda s: s.strip() != ""),
    ),
    "dataset.split": (st.sampled_from(["train", "validation"]), WRONG_TYPES, HOSTILE_TEXT),
    "dataset.skip_bad": BOOL,
    "dataset.dedupe": BOOL,
    "dataset.eval_size": (
        st.one_of(st.sampled_from([0, 0.0, 0.05, 0.1, 0.5]), whole(1, 1000)),
        st.one_of(bad_number(0, None, False, False), st.sampled_from([1e300, 2.5, 1.5, 1e20])),
        st.integers(1001, 10**9),
    ),
    "dataset.columns": (
        st.dictionaries(WORD, st.sampled_from(["prompt", "completion", "text"]), max_size=3),
        st.sampled_from(["q=prompt", ["q"], {"q": 5}, {"q": None}, 5]),
        None,
    ),
    "training.epochs": (
        st.floats(0.01, 20),
        st.one_of(bad_number(0, None, True, False), st.sampled_from([1e300, 1e20])),
        st.floats(20, 10_000),
    ),
    "training.max_steps": (st.one_of(st.none(), whole(1, 100_000)), bad_whole(1, 2**31 - 1), whole(100_001, 2**31 - 1)),
    "training.learning_rate": (st.floats(1e-7, 1e-2), bad_number(0, 1, True, False), st.floats(1e-2, 1)),
    "training.lr_scheduler": choice(Scheduler),
    "training.warmup_ratio": (st.floats(0, 0.5), bad_number(0, 1, False, True), st.floats(0.5, 0.99)),
    "training.micro_batch_size": (whole(1, 64), bad_whole(1, 2**31 - 1), whole(65, 2**31 - 1)),
    "training.grad_accum": (whole(1, 256), bad_whole(1, 2**31 - 1), whole(257, 2**31 - 1)),
    "training.max_length": (whole(16, 32_768), bad_whole(16, 1_048_576), whole(32_769, 1_048_576)),
    "training.packing": BOOL,
    "training.gradient_checkpointing": BOOL,
    "training.optimizer": choice(Optimizer),
    "training.weight_decay": (st.floats(0, 0.3), bad_number(0, None, False, False), st.floats(0.3, 100)),
    "training.max_grad_norm": (st.floats(0, 10), bad_number(0, None, False, False), st.floats(10, 1e6)),
    "training.precision": choice(Precision),
    "training.seed": (whole(0, 2**31 - 1), bad_whole(0, 2**32 - 1), whole(2**31, 2**32 - 1)),
    "training.logging_steps": (whole(1, 1000), bad_whole(1, 2**31 - 1), whole(1001, 2**31 - 1)),
    "training.save_steps": (whole(1, 10_000), bad_whole(1, 2**31 - 1), whole(10_001, 2**31 - 1)),
    "training.save_total_limit": (st.one_of(st.none(), whole(1, 10)), bad_whole(1, 2**31 - 1), whole(11, 10_000)),
    "training.oom_retries": (whole(0, 10), bad_whole(0, 10), None),
    "output.runs_root": (st.sampled_from([None, "runs", "/tmp/ftwizard-fuzz-runs"]), WRONG_TYPES, HOSTILE_TEXT),
    "output.run_name": (st.one_of(st.none(), RUN_NAME_GOOD), RUN_NAME_BAD, st.from_regex(r"\A[a-z][a-z0-9]{60,200}\Z")),
    "output.hub_repo": (
        st.sampled_from([None, "alice/qwen-lora", "org.name/model_v2"]),
        st.one_of(st.sampled_from(["noslash", "a/b/c", "/x", "a b/c", ""]), WRONG_TYPES),
        None,
    ),
    "output.private": BOOL,
}
SECTIONS = ("model", "lora", "dataset", "training", "output", "debug")
# Unknown keys people really write (other tools' names), and plain typos.
UNKNOWN_KEYS = st.one_of(
    st.sampled_from(["rank", "lr", "batch_size", "num_train_epochs", "output_dir", "lora_r", "max_seq_length"]),
    WORD.map(lambda w: f"zz_{w}"),
)


def is_gray_only_value(path: str, value: Any) -> bool:
    """Values drawn from `good` that are still in-between for this combination (none so far)."""
    return False


# Cross-field rules FTConfig enforces: (name, changes that break it). Each must be refused, naming both keys' lines.
CROSS_FIELD_RULES: dict[str, dict[str, Any]] = {
    "task vs dataset.format": {"task": "dpo", "dataset.format": "alpaca"},
    "packing vs task": {"task": "kto", "training.packing": True},
    "eval_steps without eval data": {"training.eval_steps": 10, "dataset.eval_size": 0},
    "eval_steps past max_steps": {"training.eval_steps": 50, "training.max_steps": 10},
    "inject_oom past max_steps": {"debug.inject_oom_at_step": 20, "training.max_steps": 5},
    "sgd with full and a preference task": {"method": "full", "training.optimizer": "sgd", "task": "orpo"},
}
FORMATS_OF_TASK = {"sft": ("text", "alpaca", "messages"), "dpo": ("preference",), "kto": ("kto",), "orpo": ()}
DATASET_FORMATS = choices(DatasetFormat)
