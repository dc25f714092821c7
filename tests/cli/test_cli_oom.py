"""How the progress printer and `ftwizard runs` show an out-of-memory recovery, and an out-of-memory failure."""

from __future__ import annotations

import argparse
import io
import json
from dataclasses import replace

from tuiapp.cli.run_progress import ProgressPrinter, lifecycle_line
from tuiapp.cli.runs_command import run_list
from tuiapp.core.runs import EventWriter, Failed, Metrics, Recovering, RunPaths, Started

MINIMAL = "model: {name_or_path: Qwen/Qwen2.5-0.5B}\n"


def make_recovering(attempt: int = 1, checkpoint: str | None = "/r/checkpoints/checkpoint-40") -> Recovering:
    """An OOM at micro-batch 4 x 4 that restarts at 2 x 8 from checkpoint-40 (or from the start)."""
    return Recovering(
        attempt=attempt,
        max_attempts=2,
        reason="CUDA out of memory. Tried to allocate 2.00 GiB",
        step=40 if checkpoint else 0,
        checkpoint=checkpoint,
        old_micro_batch_size=4,
        old_grad_accum=4,
        old_gradient_checkpointing=False,
        new_micro_batch_size=2,
        new_grad_accum=8,
        new_gradient_checkpointing=False,
        time=5.0,
    )


def test_progress_printer_shows_the_recovery_and_the_settings_that_fit(tmp_path) -> None:
    out = io.StringIO()
    printer = ProgressPrinter(RunPaths(tmp_path / "run"), out, tty=False)
    printer.show(Started(pid=1, step=0, total_steps=100, hardware={"device": "cuda"}, time=0.0))
    printer.show(make_recovering())
    printer.show(Started(pid=1, step=40, total_steps=100, resumed_from="/r/checkpoints/checkpoint-40", time=6.0))
    printer.show(Metrics(step=41, total_steps=100, loss=1.5, time=7.0))
    lines = out.getvalue().splitlines()
    assert lines[1] == (
        "out of memory (CUDA out of memory. Tried to allocate 2.00 GiB); recovery 1 of 2: restarting from step 40 "
        "(last checkpoint) with micro-batch 4 x 4 accumulation -> 2 x 8 (same effective batch)"
    )
    assert lines[2].startswith("resuming at step 40: 100 steps")
    assert lines[3].endswith("· micro-batch 2x8 after OOM")


def test_recovery_line_for_checkpointing_and_no_checkpoint_yet(tmp_path) -> None:
    event = replace(
        make_recovering(checkpoint=None),
        old_micro_batch_size=1,
        new_micro_batch_size=1,
        old_grad_accum=8,
        new_gradient_checkpointing=True,
    )
    line = lifecycle_line(event, RunPaths(tmp_path))
    assert line is not None and line.endswith(
        "restarting from the start (no checkpoint yet) with gradient checkpointing on"
    )
    cuda = "CUDA out of memory. Tried to allocate 20.00 MiB. GPU 0 has a total capacity of 79.19 GiB of which"
    line = lifecycle_line(replace(event, reason=cuda + " 3.12 MiB is free."), RunPaths(tmp_path))
    assert line is not None and line.startswith(f"out of memory ({cuda[:79]}…); recovery 1 of 2")


def test_failed_out_of_memory_lists_each_fix(tmp_path) -> None:
    failed = Failed(reason="out_of_memory", message="still out of memory", hint="a; b", fixes=["a", "b"])
    line = lifecycle_line(failed, RunPaths(tmp_path / "run"))
    assert line is not None
    assert line.splitlines()[:4] == [
        "failed (out_of_memory): still out of memory",
        "  fixes (any one lowers the memory needed):",
        "  - a",
        "  - b",
    ]


def test_runs_table_notes_a_recovered_run(tmp_path, capsys) -> None:
    for name, events in (("plain", []), ("recovered", [make_recovering(1), make_recovering(2)])):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.yaml").write_text(MINIMAL)
        with EventWriter(tmp_path / name / "events.jsonl") as writer:
            for event in events:
                writer.write(event)
    assert run_list(argparse.Namespace(runs_dir=str(tmp_path), json=False)) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[-1] == "NOTES"
    row = next(line for line in table if line.startswith("recovered"))
    assert row.endswith("2 OOM recoveries: micro-batch 2 x 8 accumulation, checkpointing off")
    assert next(line for line in table if line.startswith("plain")).split()[-1] == "-"  # no note: the column is blank
    assert run_list(argparse.Namespace(runs_dir=str(tmp_path), json=True)) == 0
    listed = {run["name"]: run for run in json.loads(capsys.readouterr().out)}
    assert (listed["recovered"]["oom_recoveries"], listed["plain"]["oom_recoveries"]) == (2, 0)
