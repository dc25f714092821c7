"""Events: the on-disk form, tolerant parsing, the writer's flushing, the tail-follower, failure reasons."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tuiapp.core.runs import (
    Completed,
    EventFollower,
    EventWriter,
    Failed,
    Metrics,
    Started,
    Stopped,
    event_to_json,
    parse_event,
    read_events,
)
from tuiapp.core.runs.failure import classify_failure, traceback_tail
from tuiapp.core.user_error import UserError


def test_event_round_trips_through_json() -> None:
    event = Started(pid=7, step=0, total_steps=10, versions={"torch": "2"}, notes=["fp32"], time=1.5)
    data = json.loads(json.dumps(event_to_json(event)))
    assert list(data)[:2] == ["event", "time"] and data["event"] == "started"
    assert parse_event(data) == event


def test_parse_ignores_unknown_keys_and_kinds() -> None:
    assert parse_event({"event": "stopped", "time": 2.0, "step": 3, "added_later": 1}) == Stopped(step=3, time=2.0)
    assert parse_event({"event": "from_the_future", "time": 1}) is None
    assert parse_event({"event": "metrics", "time": 1}) is None  # step is required
    assert parse_event(["not", "a", "dict"]) is None


def test_writer_flushes_each_line_and_writes_nan_as_null(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    writer = EventWriter(path)
    writer.write(Metrics(step=1, total_steps=2, loss=math.nan, grad_norm=math.inf))
    line = path.read_text(encoding="utf-8")  # visible before close: flushed
    assert line.endswith("\n") and line.count("\n") == 1
    data = json.loads(line)
    assert data["loss"] is None and data["grad_norm"] is None
    writer.write(Completed(step=2, artifacts=["final"]))
    writer.close()
    assert [e.kind for e in read_events(path)] == ["metrics", "completed"]


def test_follower_waits_for_the_end_of_a_partial_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    follower = EventFollower(path)
    assert follower.poll() == []  # no file yet
    first = json.dumps(event_to_json(Metrics(step=1, total_steps=3))) + "\n"
    second = json.dumps(event_to_json(Metrics(step=2, total_steps=3))) + "\n"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(first + second[:20])
        handle.flush()
        assert [e.step for e in follower.poll()] == [1]
        assert follower.poll() == []
        handle.write(second[20:])
        handle.flush()
        assert [e.step for e in follower.poll()] == [2]
    assert follower.poll() == []


def test_follower_skips_garbage_lines_and_counts_them(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    good = json.dumps(event_to_json(Stopped(step=4)))
    path.write_bytes(b'{"torn": \n\xff\xfe\n{"event": "unknown"}\n\n' + good.encode() + b"\n")
    follower = EventFollower(path)
    assert [e.kind for e in follower.poll()] == ["stopped"]
    assert follower.skipped == 3


def test_follower_survives_multibyte_text_split_across_polls(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    event = Failed(reason="error", message="café ünïcode")
    data = (json.dumps(event_to_json(event), ensure_ascii=False) + "\n").encode()
    cut = data.index("é".encode()) + 1  # in the middle of a two-byte character
    follower = EventFollower(path)
    path.write_bytes(data[:cut])
    assert follower.poll() == []
    with path.open("ab") as handle:
        handle.write(data[cut:])
    (event,) = follower.poll()
    assert isinstance(event, Failed) and event.message == "café ünïcode"


class OutOfMemoryError(RuntimeError):
    """Named like torch's, which is how the classifier recognizes it without importing torch."""


class DataError(UserError):
    pass


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"), "out_of_memory"),
        (RuntimeError("CUDA error: out of memory"), "out_of_memory"),
        (DataError("data.jsonl:3: not JSON"), "bad_data"),
        (UserError("model.name_or_path ./x: no model folder there"), "model_not_found"),
        (OSError("./x is not a local folder and is not a valid model identifier"), "model_not_found"),
        (ModuleNotFoundError("No module named 'flash_attn'"), "missing_dependency"),
        (RuntimeError("bitsandbytes: no GPU support compiled in"), "no_gpu_support"),
        (UserError("the unsloth backend is not available yet"), "bad_input"),
        (ZeroDivisionError("division by zero"), "error"),
    ],
)
def test_failures_are_classified_with_a_hint(exc: BaseException, reason: str) -> None:
    found = classify_failure(exc)
    assert found.reason == reason
    assert found.hint


def test_traceback_tail_ends_with_the_message() -> None:
    try:
        raise ValueError("the last line")
    except ValueError as exc:
        tail = traceback_tail(exc, lines=3)
    assert len(tail) == 3 and tail[-1] == "ValueError: the last line"


HF_OFFLINE_MISS = OSError(
    "We couldn't connect to 'https://huggingface.co' to load the files, and couldn't find them in the cached files.\n"
    "Check your internet connection or see how to run the library in offline mode at 'https://huggingface.co/docs'."
)


def test_offline_and_not_cached_says_so_with_one_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    found = classify_failure(HF_OFFLINE_MISS)
    assert found.reason == "model_not_cached"
    assert found.message == "HF_HUB_OFFLINE is set and the model is not in the cache"
    assert "hf download" in found.hint and "unset HF_HUB_OFFLINE" in found.hint and "worker.log" not in found.hint
    own = UserError("model org/m: HF_HUB_OFFLINE is set and the model is not in the cache", fix="download it once")
    assert str(own) == "model org/m: HF_HUB_OFFLINE is set and the model is not in the cache. Download it once"
    mine = classify_failure(own)  # a UserError's own fix wins, and its message leaves the fix out
    assert (mine.reason, mine.hint, mine.message) == ("model_not_cached", "download it once", own.what)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    assert classify_failure(HF_OFFLINE_MISS).reason == "error"  # online, the library's words stand


def test_the_phase_event_round_trips_and_older_logs_still_read(tmp_path: Path) -> None:
    from tuiapp.core.runs.events import PREPARING_DATASET, Phase

    event = Phase(name=PREPARING_DATASET, detail="tokenizing train dataset", done=120, total=500, time=2.0)
    data = event_to_json(event)
    assert data == {"event": "phase", "time": 2.0, "name": "preparing the dataset",
                    "detail": "tokenizing train dataset", "done": 120, "total": 500}  # fmt: skip
    assert parse_event(data) == event and event.fraction == pytest.approx(0.24)
    assert parse_event({"event": "phase", "time": 1.0, "name": "x", "from_the_future": 1}) == Phase("x", time=1.0)
    assert parse_event({"event": "phase", "time": 1.0}) is None  # malformed: no name
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "runs"
    for run in ("tiny-llama-lora", "tiny-llama-oom", "tiny-llama-resume"):  # recorded before phases existed
        events = read_events(fixtures / run / "events.jsonl")
        assert isinstance(events[0], Started) and not any(isinstance(e, Phase) for e in events)


def test_a_line_with_wrong_types_is_skipped_like_a_cut_one(tmp_path) -> None:
    """Well-formed JSON with a wrong-typed field (`"time": "yesterday"`) is not an event: readers skip it
    (it once crashed `ftwizard runs` for every run, and the Runs screen every two seconds)."""
    from tuiapp.core.runs.events import parse_event
    from tuiapp.core.runs.follow import EventFollower

    assert parse_event({"event": "completed", "time": "yesterday", "step": "x"}) is None
    assert parse_event({"event": "completed", "time": 1.0, "step": True}) is None, "a bool is not a step"
    assert parse_event({"event": "completed", "time": 1.0, "step": 3, "artifacts": [1]}) is None
    assert parse_event({"event": "completed", "time": 1, "step": 3, "train_loss": 2}).train_loss == 2
    path = tmp_path / "events.jsonl"
    path.write_text('{"event": "stopped", "time": 5.0, "step": 2}\n{"event": "completed", "time": "x", "step": "y"}\n')
    follower = EventFollower(path)
    assert [event.kind for event in follower.poll()] == ["stopped"] and follower.skipped == 1
