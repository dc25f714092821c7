"""Out of memory, the pure parts: the lighter-settings ladder, the fixes that apply, the config fields and
the `recovering` event."""

from __future__ import annotations

import json

import pytest

from tuiapp.core.config import ConfigError, dump_config, loads_config
from tuiapp.core.runs import Failed, Recovering, event_to_json, parse_event
from tuiapp.core.runs.failure import is_out_of_memory
from tuiapp.core.runs.oom import BatchSettings, lighter_settings, oom_fixes

MINIMAL = "model: {name_or_path: Qwen/Qwen2.5-0.5B}\n"


def ladder(start: BatchSettings) -> list[BatchSettings]:
    rungs = [start]
    while (lighter := lighter_settings(rungs[-1])) is not None:
        rungs.append(lighter)
    return rungs


def test_ladder_halves_the_micro_batch_then_turns_on_checkpointing_then_stops() -> None:
    rungs = ladder(BatchSettings(8, 2, False))
    assert [(r.micro_batch_size, r.grad_accum, r.gradient_checkpointing) for r in rungs] == [
        (8, 2, False),
        (4, 4, False),
        (2, 8, False),
        (1, 16, False),
        (1, 16, True),
    ]


@pytest.mark.parametrize(("micro", "accum"), [(6, 1), (3, 5), (12, 2), (7, 1), (1, 3)])
def test_ladder_keeps_the_effective_batch_exact(micro: int, accum: int) -> None:
    rungs = ladder(BatchSettings(micro, accum, True))
    assert all(r.micro_batch_size * r.grad_accum == micro * accum for r in rungs)
    assert rungs[-1].micro_batch_size == 1 and len({r.micro_batch_size for r in rungs}) == len(rungs)


def test_nothing_is_left_at_micro_batch_1_with_checkpointing() -> None:
    assert lighter_settings(BatchSettings(1, 16, True)) is None


def test_fixes_name_every_lever_for_a_heavy_config() -> None:
    config = loads_config(
        MINIMAL + "method: full\ntraining: {micro_batch_size: 4, grad_accum: 2, "
        "gradient_checkpointing: false, max_length: 4096}\n"
    )
    fixes = "\n".join(oom_fixes(config))
    assert "shorten training.max_length (now 4096)" in fixes
    assert "micro_batch_size (now 4)" in fixes and "effective batch of 8, e.g. 2 x 4" in fixes
    assert "turn on training.gradient_checkpointing" in fixes
    assert "method lora or qlora" in fixes
    assert "8-bit optimizer" in fixes
    assert "ftwizard plan" in fixes


def test_fixes_leave_out_what_is_already_done() -> None:
    config = loads_config(
        MINIMAL + "method: qlora\ntraining: {micro_batch_size: 1, gradient_checkpointing: true, "
        "optimizer: paged_adamw_8bit}\n"
    )
    fixes = oom_fixes(config)
    assert len(fixes) == 2 and "max_length" in fixes[0] and "ftwizard plan" in fixes[1]
    lora = oom_fixes(loads_config(MINIMAL + "method: lora\n"))
    assert any("use method qlora instead of lora" in fix for fix in lora)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (type("OutOfMemoryError", (RuntimeError,), {})("CUDA out of memory. Tried to allocate 2 GiB"), True),
        (RuntimeError("CUDA error: out of memory"), True),
        (RuntimeError("CUBLAS_STATUS_ALLOC_FAILED"), False),
        (ValueError("bad value"), False),
    ],
)
def test_out_of_memory_is_recognized_by_type_name_or_message(exc: BaseException, expected: bool) -> None:
    assert is_out_of_memory(exc) is expected


def test_config_fields_default_validate_and_round_trip() -> None:
    config = loads_config(MINIMAL)
    assert config.training.oom_retries == 2 and config.debug.inject_oom_at_step is None
    text = dump_config(config)
    assert "oom_retries: 2" in text and "debug:\n" in text and "For tests only" in text
    tuned = loads_config(MINIMAL + "training: {oom_retries: 0}\ndebug: {inject_oom_at_step: 3, inject_oom_times: 2}\n")
    assert loads_config(dump_config(tuned)) == tuned


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("training: {oom_retries: -1}\n", "training.oom_retries"),
        ("debug: {inject_oom_at_step: 0}\n", "debug.inject_oom_at_step"),
        ("debug: {inject_oom_times: 0}\n", "debug.inject_oom_times"),
        ("training: {max_steps: 5}\ndebug: {inject_oom_at_step: 9}\n", "past training.max_steps (5): it would never"),
    ],
)
def test_bad_oom_settings_are_refused(extra: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        loads_config(MINIMAL + extra, "cfg.yaml")
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems


def test_recovering_and_failed_with_fixes_round_trip_and_old_logs_still_parse() -> None:
    recovering = Recovering(
        attempt=2,
        max_attempts=3,
        reason="CUDA out of memory",
        step=0,
        checkpoint=None,
        old_micro_batch_size=1,
        old_grad_accum=8,
        old_gradient_checkpointing=False,
        new_micro_batch_size=1,
        new_grad_accum=8,
        new_gradient_checkpointing=True,
        time=5.0,
    )
    for event in (recovering, Failed(reason="out_of_memory", message="m", hint="a; b", fixes=["a", "b"])):
        assert parse_event(json.loads(json.dumps(event_to_json(event)))) == event
    old_failed = parse_event({"event": "failed", "time": 1.0, "reason": "error", "message": "boom"})
    assert isinstance(old_failed, Failed) and old_failed.fixes == []


def test_target_modules_the_model_lacks_are_a_config_mistake() -> None:
    from tuiapp.core.runs.failure import classify_failure

    error = ValueError("Target modules {'nonsense_mod'} not found in the base model. Please check the target modules")
    why = classify_failure(error)
    assert why.reason == "bad_config" and "all-linear" in (why.hint or "")
