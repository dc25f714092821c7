"""The comparison's table, flags and bars from recorded events, the >5% check, and its events read back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tuiapp.core.compare.measure import measure_trial, mismatch_events, tokens_per_second
from tuiapp.core.compare.result import MISMATCH_SHARE, fold_compare, mismatches
from tuiapp.core.compare.run_dir import load_result
from tuiapp.core.compare.table import NOT_ON_CPU, bar_chart, format_table, mismatch_lines, report_lines, table_rows
from tuiapp.core.runs.compare_events import COMPARE_EVENT_TYPES, EstimateMismatch, TrialMeasured
from tuiapp.core.runs.events import EVENT_TYPES, EventWriter, Metrics, Stopped, event_to_json, parse_event
from tuiapp.core.runs.follow import read_events
from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.units import GIB

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "runs" / "compare-demo"


def cuda_trial(method: str, measured: int, estimated: int, **extra: object) -> TrialMeasured:
    figures = {"allocated": measured, "reserved": measured + GIB, "nvidia_smi": measured + 2 * GIB}
    estimates = {"allocated": estimated, "reserved": estimated + GIB, "nvidia_smi": estimated + 2 * GIB}
    return TrialMeasured(method=method, state="completed", device="cuda", steps=30, tokens_per_s=1000.0,
                         loss=1.5, measured=figures, estimated=estimates, batch_shape=[4, 2048], **extra)  # fmt: skip


def test_the_recorded_cpu_comparison_reads_back_as_a_table() -> None:
    result = load_result(RECORDED)
    assert result.final == "completed" and list(result.rows) == ["full", "lora", "qlora"]
    header, *rows = table_rows(result)
    assert header[:4] == ["method", "state", "tokens/s", "loss@10"] and header[-1] == "peak RSS (process)"
    full = dict(zip(header, rows[0], strict=True))
    assert full["state"] == "completed" and full["tokens/s"] == "344" and full["loss@10"] == "6.6142"
    assert full["allocated meas / est"] == f"{NOT_ON_CPU} / 12.2 MiB"  # the estimate at the batch it ran (4 x 177)
    assert full["peak RSS (process)"] == "572.6 MiB"
    assert mismatch_lines(result) == []  # nothing measured on the CPU to check
    lines = format_table(result)
    assert len({len(line) for line in lines[:1]}) == 1 and lines[1].startswith("full ")


def test_bars_scale_to_the_fastest_method_and_say_what_memory_they_show() -> None:
    chart = bar_chart(load_result(RECORDED), width=20)
    assert chart[0].startswith("tokens/s")
    speeds = {line.split()[0]: line.count("█") for line in chart[1:4]}
    assert speeds == {"full": 18, "lora": 20, "qlora": 9}  # 344, 393 and 175 tokens/s against 393
    assert chart[4].startswith("peak memory") and all(line.endswith("peak RSS") for line in chart[5:])


@pytest.mark.parametrize(("measured", "flagged"), [(1049, False), (951, False), (1051, True), (949, True)])
def test_a_peak_more_than_five_percent_off_is_flagged(measured: int, flagged: bool) -> None:
    trial = cuda_trial("lora", measured * GIB // 100, 10 * GIB)  # measured in hundredths of a GiB
    off = mismatches(trial)
    assert ("allocated" in off) is flagged
    assert MISMATCH_SHARE == 0.05


def test_the_table_marks_the_mismatch_and_says_it_is_in_the_events() -> None:
    events = [cuda_trial("lora", 11 * GIB, 10 * GIB), cuda_trial("full", 10 * GIB, 10 * GIB)]
    result = fold_compare(events)
    header, lora, full = table_rows(result)
    assert "peak RSS (process)" not in header
    assert lora[4] == "11.00 GiB ! / 10.00 GiB" and full[4] == "10.00 GiB / 10.00 GiB"
    (line,) = [text for text in mismatch_lines(result) if "allocated" in text]
    assert "lora allocated: measured 11.00 GiB, estimated 10.00 GiB (+10.0%" in line and "estimate_mismatch" in line
    assert any(text.startswith("! lora") for text in report_lines(result))


def test_compare_events_are_known_kinds_and_an_older_reader_skips_them(tmp_path: Path) -> None:
    assert all(EVENT_TYPES[cls.kind] is cls for cls in COMPARE_EVENT_TYPES)
    figures = {"measured_bytes": 9 * GIB, "estimated_bytes": 8 * GIB, "ratio": 1.125}
    mismatch = EstimateMismatch(
        method="qlora", figure="nvidia_smi", gpu="NVIDIA H200", setup={"seq_len": 2048}, versions={}, **figures
    )
    with EventWriter(tmp_path / "events.jsonl") as writer:
        writer.write(mismatch)
        writer.write(Metrics(step=1, total_steps=2))
    back = read_events(tmp_path / "events.jsonl")
    assert back[0] == mismatch and isinstance(back[1], Metrics)
    older = {kind: cls for kind, cls in EVENT_TYPES.items() if cls not in COMPARE_EVENT_TYPES}
    line = json.loads(json.dumps(event_to_json(mismatch)))
    assert older.get(line["event"]) is None  # what an older parse_event does: an unknown kind is None, not an error
    assert parse_event({**line, "ratio": "big"}) is None  # a mistyped figure is skipped like any bad line


def test_tokens_per_second_leaves_the_first_steps_warm_up_out() -> None:
    metrics = [Metrics(step=1, total_steps=3, tokens=100, tokens_per_s=5.0, time=10.0),
               Metrics(step=2, total_steps=3, tokens=300, time=11.0),
               Metrics(step=3, total_steps=3, tokens=500, time=12.0)]  # fmt: skip
    assert tokens_per_second(metrics) == 200.0
    assert tokens_per_second(metrics[:1]) == 5.0 and tokens_per_second([]) is None


def test_a_trial_directory_becomes_figures_and_mismatch_events(tmp_path: Path, tiny_model_dir: Path) -> None:
    """A trial as the trial process leaves it (recorded events, measured.json), estimated at its batch."""
    from tuiapp.core.config import load_config
    from tuiapp.core.demo import demo_config
    from tuiapp.core.models.resolve import resolve_model

    trial = RunPaths(tmp_path / "lora")
    trial.root.mkdir()
    shutil.copy(RECORDED.parents[0] / "tiny-llama-lora" / "events.jsonl", trial.events)
    measured = {"allocated": 1, "reserved": 2 * 1024, "nvidia_smi": None, "peak_rss": 5 * GIB, "batch_shape": [2, 64]}
    (trial.root / "measured.json").write_text(json.dumps(measured), encoding="utf-8")
    config = demo_config(tiny_model_dir)
    shape = resolve_model(str(tiny_model_dir)).shape
    on_gpu = measure_trial(trial, "lora", "cuda", config, shape, bf16=True)
    assert on_gpu.state == "completed" and on_gpu.steps == 40 and on_gpu.batch_shape == [2, 64]
    assert on_gpu.measured == {"allocated": 1, "reserved": 2048, "nvidia_smi": None} and on_gpu.peak_rss == 5 * GIB
    assert on_gpu.estimated["allocated"] > 1000
    figures = {event.figure for event in mismatch_events(on_gpu, "GPU", {"seq_len": 64}, {})}
    assert "allocated" in figures and "nvidia_smi" not in figures  # nvidia-smi was not measured: nothing to check
    on_cpu = measure_trial(trial, "lora", "cpu", load_config(RECORDED.parent / "tiny-llama-lora" / "config.yaml"),
                           None, bf16=True)  # fmt: skip
    assert (
        set(on_cpu.measured.values()) == {None}
        and on_cpu.estimated == {}
        and mismatch_events(on_cpu, None, {}, {}) == []
    )


def test_a_stopped_comparison_says_which_trials_never_ran_and_where_one_ended() -> None:
    lines = (RECORDED / "events.jsonl").read_text(encoding="utf-8").splitlines()
    events = [parse_event(json.loads(line)) for line in lines[:4]]  # the plan, started, the full trial measured
    early = TrialMeasured(method="lora", state="stopped", device="cpu", steps=4, loss=6.0, peak_rss=GIB)
    result = fold_compare([*events, early, Stopped(step=14)])
    states = {row[0]: (row[1], row[3]) for row in table_rows(result)[1:]}
    assert states["full"] == ("completed", "6.6142") and states["lora"] == ("stopped", "6.0000 (step 4)")
    assert states["qlora"] == ("not run", "-")
    assert report_lines(result)[-1] == "the comparison stopped"
