"""The dataset inspection as the TUI runs it: a child process speaking JSON lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuiapp.core.data.inspect_job import inspection_events
from tuiapp.core.data.inspect_request import InspectRequest
from tuiapp.core.data.records import DataError

SAMPLES = Path(__file__).resolve().parents[3] / "tuiapp" / "sample_data"


def test_child_reports_every_stage_with_exact_counts(tiny_model_dir: Path) -> None:
    request = InspectRequest(source=str(SAMPLES / "sharegpt.json"), model=str(tiny_model_dir), max_length=64)
    events = {event["event"]: event for event in inspection_events(request)}
    assert events["detected"]["format"] == "sharegpt" and events["detected"]["task"] == "sft"
    assert events["cleaned"]["kept"] == events["read"]["rows"] == 50
    assert events["template"]["loss"] == "assistant turns only"
    stats = events["stats"]
    assert not stats["approximate"] and len(stats["lengths"]) == 50
    assert stats["truncated_rows"] == sum(length > 64 for length in stats["lengths"]) > 0
    assert events["rows"]["rows"][0]["pieces"]


def test_child_error_becomes_a_data_error_with_the_place(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": \n')
    with pytest.raises(DataError, match=r"bad\.jsonl:2"):
        list(inspection_events(InspectRequest(source=str(bad))))


def test_stopping_ends_the_iteration_and_the_child() -> None:
    request = InspectRequest(source=str(SAMPLES / "alpaca.json"))
    seen = []
    for event in inspection_events(request, should_stop=lambda: bool(seen)):
        seen.append(event)
    assert len(seen) == 1
