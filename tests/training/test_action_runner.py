"""Actions on a finished run write one started and one final event each, and a user never sees a traceback:
done, a UserError with its fix, a full disk, an unexpected error (its crash log named) and a cancel."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tuiapp.core.runs.action_history import action_records, latest_by_action
from tuiapp.core.runs.follow import read_events
from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.user_error import UserError
from tuiapp.training.action_runner import ActionOutcome, ActionReport, run_action


@pytest.fixture
def paths(tmp_path: Path) -> RunPaths:
    (tmp_path / "run").mkdir()
    return RunPaths(tmp_path / "run")


def kinds(paths: RunPaths) -> list[str]:
    return [event.kind for event in read_events(paths.events)]


def test_done_writes_started_progress_and_done(paths: RunPaths) -> None:
    echoed: list[str] = []

    def body(report: ActionReport) -> ActionOutcome:
        report.phase("writing shards", 0, 2)
        report.phase("writing shards", 2, 2)  # the last count is always written
        return ActionOutcome("merged into merged/", [str(paths.merged)], {"bytes": 10}, ["a note"])

    code, final = run_action(paths, "merge", body, "bf16", echo=echoed.append)
    assert code == 0 and final.kind == "action_done"
    assert kinds(paths) == ["action_started", "action_progress", "action_progress", "action_done"]
    record = latest_by_action(action_records(read_events(paths.events)))["merge"]
    assert (record.state, record.summary, record.facts, record.notes) == (
        "done",
        "merged into merged/",
        {"bytes": 10},
        ["a note"],
    )
    assert record.detail == "bf16" and echoed == ["merge: writing shards 0/2", "merge: writing shards 2/2"]


def test_progress_counts_are_throttled_but_phases_are_not(paths: RunPaths) -> None:
    def body(report: ActionReport) -> ActionOutcome:
        for done in range(1000):
            report.phase("uploading", done, 1000)
        report.phase("writing the card")
        return ActionOutcome("pushed")

    run_action(paths, "push", body)
    progress = [e for e in read_events(paths.events) if e.kind == "action_progress"]
    assert 2 <= len(progress) < 20, "a thousand counts in a tight loop are not a thousand lines"
    assert progress[-1].phase == "writing the card"


def test_user_error_becomes_failed_with_its_fix(paths: RunPaths) -> None:
    def body(report: ActionReport) -> ActionOutcome:
        raise UserError("no adapter in final/", "train the run to the end first")

    code, final = run_action(paths, "merge", body)
    assert code == 1 and final.kind == "action_failed"
    assert (final.message, final.fixes, final.crash_log) == (
        "no adapter in final/",
        ["train the run to the end first"],
        None,
    )


def test_full_disk_says_what_to_do(paths: RunPaths) -> None:
    def body(report: ActionReport) -> ActionOutcome:
        raise OSError(errno.ENOSPC, "No space left on device", "/data/merged/model.safetensors")

    _, final = run_action(paths, "merge", body)
    assert final.message == "No space left on device (/data/merged/model.safetensors)"
    assert final.fixes == ["free space on that disk, or choose another folder with -o DIR"]


def test_unexpected_error_is_one_line_and_a_crash_log(paths: RunPaths, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FTWIZARD_STATE_DIR", str(tmp_path / "state"))

    def body(report: ActionReport) -> ActionOutcome:
        raise KeyError("lm_head")

    _, final = run_action(paths, "gguf", body)
    assert final.message == "unexpected error: KeyError: 'lm_head'"
    assert final.crash_log and "Traceback" in Path(final.crash_log).read_text()


def test_sigterm_cancels_and_the_body_cleans_up(paths: RunPaths) -> None:
    partial = paths.root / ".merged.partial"

    def body(report: ActionReport) -> ActionOutcome:
        partial.mkdir()
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises Cancelled here
            return ActionOutcome("not reached")
        finally:
            partial.rmdir()

    code, final = run_action(paths, "merge", body)
    assert code == 130 and final.kind == "action_cancelled" and not partial.exists()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, "the previous handler is put back"


def test_a_killed_action_reads_as_died(paths: RunPaths) -> None:
    """An action process killed with -9 writes no final event; readers call it died, not running forever."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    from tuiapp.core.runs.action_events import ActionStarted
    from tuiapp.core.runs.events import EventWriter

    with EventWriter(paths.events) as writer:
        writer.write(ActionStarted("push", "push-1", sleeper.pid, "adapter to me/x"))
    assert action_records(read_events(paths.events))[0].state == "running"
    sleeper.kill()
    sleeper.wait()
    assert action_records(read_events(paths.events))[0].state == "died"
    assert action_records(read_events(paths.events), check_alive=False)[0].state == "running"


def test_a_stop_once_the_output_is_being_put_in_place_does_not_cancel(paths: RunPaths) -> None:
    """Ctrl+C while the finished output is renamed into place: the action is done (its files are there)."""

    def body(report: ActionReport) -> ActionOutcome:
        report.commit()
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.2)
        return ActionOutcome("merged into merged/")

    code, final = run_action(paths, "merge", body)
    assert code == 0 and final.kind == "action_done"


def test_one_action_at_a_time_on_a_run(paths: RunPaths) -> None:
    """A second action on the same run (another terminal, the Finish screen) is refused before it writes."""
    seen: list[str] = []

    def inner(report: ActionReport) -> ActionOutcome:
        return ActionOutcome("never")

    def outer(report: ActionReport) -> ActionOutcome:
        with pytest.raises(UserError, match=r"merge \(pid \d+\) is running on run run; one action at a time"):
            run_action(paths, "gguf", inner)
        seen.append("refused")
        return ActionOutcome("merged")

    code, _ = run_action(paths, "merge", outer)
    assert code == 0 and seen == ["refused"]
    assert kinds(paths) == ["action_started", "action_done"], "the refused one wrote nothing"
    assert run_action(paths, "gguf", inner)[0] == 0, "the lock goes with the action"
