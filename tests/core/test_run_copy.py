"""A run folder copied or moved elsewhere lists its own result, not the original's (the events hold absolute
paths)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tuiapp.core.config import save_config, validate_config
from tuiapp.core.runs import Completed, EventWriter, Started
from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.runs.listing import summarize_run
from tuiapp.core.runs.status import write_status


def test_a_copied_run_lists_its_own_final_folder(tmp_path: Path) -> None:
    first = RunPaths(tmp_path / "runs" / "r1")
    first.final.mkdir(parents=True)
    save_config(validate_config({"model": {"name_or_path": "org/model"}}), first.config)
    write_status(first.status, pid=1)
    writer = EventWriter(first.events)
    writer.write(Started(pid=1, step=0, total_steps=2))
    writer.write(Completed(step=2, artifacts=[str(first.final)]))
    copy = RunPaths(tmp_path / "elsewhere" / "r1-copy")
    shutil.copytree(first.root, copy.root)
    assert summarize_run(first).artifacts == [str(first.final)]
    assert summarize_run(copy).artifacts == [str(copy.final)]
