"""The Runs screen beside a damaged run: the others are listed as ever, the damaged one says why."""

from __future__ import annotations

import os
from pathlib import Path

from screen_harness import COMPLETED_RUN, recorded_run
from test_runs_screen import harness, listed, select
from textual.widgets import Static


async def test_a_damaged_run_is_listed_with_its_reason_beside_the_others(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    recorded_run(COMPLETED_RUN, root / "fine-run")
    torn = recorded_run(COMPLETED_RUN, root / "torn-run")
    with (torn / "events.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"event": "metrics", "time": 1e300, "step": -4, "total_steps": "x"}\n')
    (torn / "status.json").write_text('{"pid": 4', encoding="utf-8")
    for age, run in enumerate((torn, root / "fine-run")):
        os.utime(run, (1_000_000 - age, 1_000_000 - age))
    async with harness(root).run_test(size=(100, 30)) as pilot:
        screen = await listed(pilot)
        assert {run.name: run.state for run in screen.runs} == {"fine-run": "completed", "torn-run": "damaged"}
        await select(pilot, screen, "torn-run")
        detail = str(screen.query_one("#runs-detail", Static).render())
        assert "damaged" in detail and "status.json is not the JSON object a worker writes" in detail


async def test_a_runs_folder_that_is_a_file_shows_the_problem(tmp_path: Path) -> None:
    afile = tmp_path / "runs"
    afile.write_text("", encoding="utf-8")
    async with harness(afile).run_test(size=(100, 30)) as pilot:
        screen = await listed(pilot)
        text = str(screen.query_one("#runs-empty", Static).render())
        assert "is a file, not a folder" in text and screen.runs == []
