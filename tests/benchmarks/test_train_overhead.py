"""benchmarks/train_overhead.py's bookkeeping (nothing trains here): the timed window, the same-work check, and
that both runs spell out the settings where the libraries' defaults differ from our backend's on a CPU."""

from __future__ import annotations

import pytest
from gpucheck_import import load_script

overhead = load_script("train_overhead")


def _log(times: list[float], batches: list[int], losses: list[float] | None = None):
    tokens, total = [], 0
    for batch in batches:
        total += batch
        tokens.append(total)
    return overhead.StepLog(times, tokens, losses or [1.0] * len(times))


def test_the_window_leaves_the_warm_up_steps_out() -> None:
    log = _log([10, 20, 21, 22, 23, 24], [100] * 6)  # two slow first steps, then 1 s each
    assert log.seconds_per_step(warmup=3) == pytest.approx(1.0)
    assert log.tokens_per_s(warmup=3) == pytest.approx(100.0)


def test_same_work_names_the_first_step_that_differs() -> None:
    plain = _log([1, 2, 3], [100, 90, 80], [2.0, 1.9, 1.8])
    assert overhead.same_work(plain, _log([1, 2, 3], [100, 90, 80], [2.0, 1.9, 1.8])) is None
    assert "step 2" in overhead.same_work(plain, _log([1, 2, 3], [100, 91, 79], [2.0, 1.9, 1.8]))
    different = overhead.same_work(plain, _log([1, 2, 3], [100, 90, 80], [2.0, 1.9, 1.81]))
    assert "step 3" in different and "different computation" in different


def test_a_log_must_have_every_step() -> None:
    with pytest.raises(RuntimeError, match="every step"):
        overhead.StepLog.of(
            [{"step": 1, "time": 0, "tokens": 1, "loss": 1.0}, {"step": 3, "time": 1, "tokens": 2, "loss": 1.0}]
        )


def test_both_runs_spell_out_the_settings_whose_defaults_differ() -> None:
    for setting in (
        "bf16=False",
        "fp16=False",
        "gradient_checkpointing=False",
        'eval_strategy="no"',
        f"seed={overhead.SEED}",
        "dtype=torch.float32",
        'attn_implementation="sdpa"',
    ):
        assert setting in overhead.PLAIN, setting
    ours = overhead.ours_config(overhead.Path("/m"), 30, 0)
    assert ours["training"]["precision"] == "fp32" and ours["training"]["gradient_checkpointing"] is False
    assert ours["dataset"]["eval_size"] == 0 and ours["training"]["seed"] == overhead.SEED
    assert overhead.bench_env(1)["OMP_NUM_THREADS"] == "1"
