"""Phase events: written at once when the phase changes, its counts at a bounded rate, and `datasets`' own
progress bars (reading, tokenizing rows) reported while `dataset_progress` is open."""

from __future__ import annotations

from pathlib import Path

from tuiapp.core.runs import EventWriter, Phase, read_events
from tuiapp.core.runs.events import LOADING_MODEL, PREPARING_DATASET
from tuiapp.training.phases import PhaseReporter, dataset_progress


def test_a_new_phase_is_written_at_once_and_its_counts_at_a_bounded_rate(tmp_path: Path) -> None:
    now = [0.0]
    with EventWriter(tmp_path / "events.jsonl") as writer:
        phases = PhaseReporter(writer, clock=lambda: now[0])
        phases.show(LOADING_MODEL)
        for done in range(0, 101):
            now[0] += 0.01  # 100 updates in one second
            phases.show(PREPARING_DATASET, "tokenizing train dataset", done, 100)
    events = read_events(tmp_path / "events.jsonl")
    assert all(isinstance(e, Phase) for e in events)
    counts = [e.done for e in events if e.name == PREPARING_DATASET]
    assert counts[0] == 0 and counts[-1] == 100 and len(counts) <= 4, counts  # first, every 0.5 s, last


def test_datasets_progress_bars_report_while_open(tmp_path: Path) -> None:
    from datasets import Dataset

    rows = Dataset.from_dict({"text": [f"row {i}" for i in range(300)]})
    with EventWriter(tmp_path / "events.jsonl") as writer:
        with dataset_progress(PhaseReporter(writer)):
            rows.map(lambda row: {"n": len(row["text"])}, desc="Tokenizing train dataset")
        rows.map(lambda row: {"m": 1}, desc="Not reported")  # closed: datasets' bar is its own again
    events = read_events(tmp_path / "events.jsonl")
    assert {e.detail for e in events} == {"tokenizing train dataset"}
    assert events[0].done == 0 and events[-1].done == events[-1].total == 300
