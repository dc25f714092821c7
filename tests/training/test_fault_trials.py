"""The worker killed at 20 seeded points, and a torn events file: after each, the run lists, no complete
checkpoint changed by a byte, and resume continues to the same adapter as the run trained straight through.

Worker starts are shared, so the trials cost 5 launches of one run:
- 4 real SIGKILLs, each followed by a real resume: during model loading (at a seeded fraction of the reference
  run's loading time), mid-step (a seeded fraction of a step after checkpoint-5; then half an event line is
  appended, as a crash mid-write leaves it), partway through checkpoint-10 and partway through the final save
  (debug.inject_kill_in_save_at_step: the adapter written, the rest not);
- 16 or more freeze-and-copy trials at seeded moments of three launches (6 planned in each): SIGSTOP, copy the
  run directory (exactly what a SIGKILL at that instant leaves on disk), SIGCONT; each copy must list and hold
  a resume point that loads.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fault_runs import (
    MAX_STEPS,
    complete_checkpoints,
    finish,
    make_config,
    reference_run,
    set_debug,
    step_losses,
    wait_until,
)

from tuiapp.cli import main as ftwizard_main
from tuiapp.core.config import save_config
from tuiapp.core.runs import (
    Completed,
    EventWriter,
    Metrics,
    RunPaths,
    Started,
    Stopped,
    read_events,
    summarize_run,
)
from tuiapp.core.runs.launcher import launch_worker, prepare_run, resume_run
from tuiapp.core.runs.status import write_status

SEED = 20261202
FREEZES_PER_LAUNCH = 6
ADAPTER_ATOL = 1e-5  # fp32 on one CPU thread pool: a resumed run repeats the same arithmetic (see test_resume_...)


def listed(root: Path, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    """`ftwizard runs --json` for `root`, in this process."""
    capsys.readouterr()
    assert ftwizard_main(["runs", "--runs-dir", str(root), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def resume_point_loads(paths: RunPaths) -> int:
    """The step of the run's last complete checkpoint, after loading each of its files as resume would."""
    import torch
    from safetensors.torch import load_file

    checkpoint = paths.last_checkpoint()
    if checkpoint is None:
        return 0
    state = json.loads((checkpoint / "trainer_state.json").read_text())
    load_file(str(checkpoint / "adapter_model.safetensors"))
    for name in ("optimizer.pt", "scheduler.pt", "rng_state.pth"):
        torch.load(checkpoint / name, weights_only=False)
    assert state["global_step"] == int(checkpoint.name.removeprefix("checkpoint-"))
    return state["global_step"]


class Trials:
    """Runs the kills, remembers each complete checkpoint's hashes the first time it is seen, and checks them."""

    def __init__(self, paths: RunPaths, copies: Path, rng: random.Random) -> None:
        self.paths, self.copies, self.rng = paths, copies, rng
        self.seen: dict[str, dict[str, str]] = {}
        self.frozen = 0
        self.real_kills = 0

    def check_checkpoints(self, paths: RunPaths) -> None:
        for name, hashes in complete_checkpoints(paths).items():
            assert self.seen.setdefault(name, hashes) == hashes, f"{name} changed after it was complete"

    def freeze_and_copy(self, process: subprocess.Popen[bytes]) -> None:
        """What a SIGKILL now would leave: the directory copied while the worker cannot run."""
        os.kill(process.pid, signal.SIGSTOP)
        try:
            if process.poll() is None:
                shutil.copytree(self.paths.root, self.copies / f"freeze-{self.frozen:02d}", symlinks=True)
                self.frozen += 1
        finally:
            os.kill(process.pid, signal.SIGCONT)

    def freezes_during(self, process: subprocess.Popen[bytes], span_s: float) -> None:
        """Up to FREEZES_PER_LAUNCH copies at seeded moments within `span_s` of now, while it runs."""
        start = time.monotonic()
        for moment in sorted(self.rng.uniform(0.05, 1.0) * span_s for _ in range(FREEZES_PER_LAUNCH)):
            while time.monotonic() - start < moment and process.poll() is None:
                time.sleep(0.01)
            if process.poll() is None:
                self.freeze_and_copy(process)

    def after_kill(self, process: subprocess.Popen[bytes]) -> None:
        assert finish(process, self.paths) == -signal.SIGKILL
        self.real_kills += 1
        assert summarize_run(self.paths).state == "died"
        self.check_checkpoints(self.paths)
        resume_point_loads(self.paths)


def events_of(paths: RunPaths, kind: type) -> list:
    return [e for e in read_events(paths.events) if isinstance(e, kind)]


@pytest.mark.slow
def test_twenty_seeded_kills_then_resume_reaches_the_uninterrupted_adapter(
    tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    from safetensors.torch import load_file

    reference, load_s, step_s = reference_run(tiny_model_dir, tmp_path_factory)
    rng = random.Random(SEED)
    runs, copies = tmp_path_factory.mktemp("fault-runs"), tmp_path_factory.mktemp("fault-copies")
    paths = prepare_run(make_config(tiny_model_dir), runs_dir=str(runs))
    trials = Trials(paths, copies, rng)

    # 1. During model loading: no checkpoint yet, resume starts over.
    process = launch_worker(paths)
    time.sleep(rng.uniform(0.2, 0.8) * load_s)
    process.kill()
    trials.after_kill(process)

    # 2. Mid-step, after checkpoint-5.
    process = resume_run(paths)
    trials.freezes_during(process, load_s)
    wait_until(lambda: any(m.step >= 6 for m in events_of(paths, Metrics)), process, paths)
    time.sleep(rng.uniform(0.1, 0.9) * step_s)
    process.kill()
    trials.after_kill(process)
    assert paths.last_checkpoint() == paths.checkpoints / "checkpoint-5"
    with paths.events.open("ab") as handle:  # and a torn events file: a crash mid-write leaves half a line
        handle.write(b'{"event": "metrics", "time": 1.0, "step": 8, "total_ste')
    assert [entry["state"] for entry in listed(runs, capsys)] == ["died"]

    # 3. Partway through writing checkpoint-10: it is passed over, resume goes back to checkpoint-5.
    set_debug(paths, inject_kill_in_save_at_step=10)
    process = resume_run(paths)
    trials.freezes_during(process, load_s + 5 * step_s)
    trials.after_kill(process)
    assert (paths.checkpoints / "checkpoint-10" / "adapter_model.safetensors").is_file()
    assert paths.last_checkpoint() == paths.checkpoints / "checkpoint-5"

    # 4. Partway through the final save (after checkpoint-12): the adapter is in final/, the tokenizer is not.
    set_debug(paths, inject_kill_in_save_at_step=MAX_STEPS + 1)
    process = resume_run(paths)
    trials.freezes_during(process, load_s + 7 * step_s)
    trials.after_kill(process)
    assert paths.last_checkpoint() == paths.checkpoints / f"checkpoint-{MAX_STEPS}"
    assert (paths.final / "adapter_model.safetensors").is_file() and not (paths.final / "tokenizer.json").exists()

    # 5. Resumed once more, without faults: it completes.
    set_debug(paths, inject_kill_in_save_at_step=None)
    assert finish(resume_run(paths), paths) == 0, paths.log.read_text()[-3000:]
    trials.check_checkpoints(paths)
    events = read_events(paths.events)
    assert isinstance(events[-1], Completed) and events[-1].step == MAX_STEPS
    # The started event of launch 3, written after the torn line, is read (launch 1 died before its own).
    assert [e.step for e in events if isinstance(e, Started)][-4:] == [0, 5, 5, MAX_STEPS]

    # Every frozen copy lists (one command for all of them) and holds a resume point that loads.
    copied = sorted(copies.iterdir())
    assert len(copied) == trials.frozen >= 16, f"only {trials.frozen} freezes landed"
    assert {entry["name"] for entry in listed(copies, capsys)} == {c.name for c in copied}
    for copy in copied:
        copy_paths = RunPaths(copy)
        trials.check_checkpoints(copy_paths)
        resume_point_loads(copy_paths)
    assert {entry["state"] for entry in listed(runs, capsys)} == {"completed"}

    # The same adapter as the run trained straight through, the same losses for each step trained.
    ours, straight = (
        load_file(str(paths.final / "adapter_model.safetensors")),
        load_file(str(reference.final / "adapter_model.safetensors")),
    )
    assert ours.keys() == straight.keys()
    worst = max(float((ours[k] - straight[k]).abs().max()) for k in ours)
    assert worst <= ADAPTER_ATOL, f"adapter differs by {worst}"
    straight_losses = {step: losses[0] for step, losses in step_losses(reference).items()}
    for step, losses in step_losses(paths).items():
        assert losses == pytest.approx([straight_losses[step]] * len(losses), rel=1e-4), step
    print(f"\nfault trials: {trials.real_kills} real SIGKILLs + {trials.frozen} freezes; all survived")
    assert trials.real_kills + trials.frozen >= 20


@pytest.fixture
def runs_root_made_read_only(tmp_path: Path) -> Iterator[tuple[Path, Callable[[], None]]]:
    """A runs root and the function that makes it read-only: a tmpfs remounted `ro` as root (who writes through
    file modes), `chmod -R a-w` otherwise; skipped where root cannot mount."""
    root = tmp_path / "runs"
    root.mkdir()
    if os.geteuid() != 0:
        yield root, lambda: subprocess.run(["chmod", "-R", "a-w", str(root)], check=True)
        subprocess.run(["chmod", "-R", "u+w", str(root)], check=False)
        return
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(root)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"root without mount here ({made.stderr.decode().strip()[:100]}): file modes would not stop root")
    yield root, lambda: subprocess.run(["mount", "-o", "remount,ro", str(root)], check=True)
    subprocess.run(["umount", "-l", str(root)], check=False)


def stopped_run_on(root: Path, model: Path) -> RunPaths:
    """A stopped run at checkpoint-5 laid out in `root` (no training: the files `ftwizard runs` reads)."""
    paths = prepare_run(make_config(model), runs_dir=str(root))
    checkpoint = paths.checkpoints / "checkpoint-5"
    checkpoint.mkdir(parents=True)
    (checkpoint / "trainer_state.json").write_text(json.dumps({"global_step": 5}))
    gone = 2**22 + 1  # above the largest pid Linux hands out: the worker that wrote these has exited
    write_status(paths.status, gone)
    with EventWriter(paths.events) as writer:
        writer.write(Started(pid=gone, step=0, total_steps=MAX_STEPS))
        writer.write(Metrics(step=5, total_steps=MAX_STEPS, loss=2.0))
        writer.write(Stopped(step=5, checkpoint=str(checkpoint)))
    return paths


def refused(words: list[str], root: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Runs `ftwizard WORDS --runs-dir ROOT`; asserts exit 2 with a located message; the message."""
    capsys.readouterr()
    code = ftwizard_main([*words, "--runs-dir", str(root)])
    err = capsys.readouterr().err
    assert code == 2 and "unexpected" not in err and str(root) in err, (code, err)
    assert "read-only" in err.lower() or "permission" in err.lower(), err
    return err


def test_a_read_only_runs_root_lists_its_runs_and_refuses_a_new_one_with_exit_2(
    tiny_model_dir: Path, runs_root_made_read_only: tuple[Path, Callable[[], None]], capsys: pytest.CaptureFixture[str]
) -> None:
    """A disk remounted read-only after an error: the run on it lists, a new run says why, nothing changes."""
    root, make_read_only = runs_root_made_read_only
    paths = stopped_run_on(root, tiny_model_dir)
    before = {p: p.read_bytes() for p in paths.root.rglob("*") if p.is_file()}
    make_read_only()
    (entry,) = listed(root, capsys)
    assert (entry["name"], entry["state"], entry["step"]) == (paths.name, "stopped", 5)
    new = root.parent / "new.yaml"
    save_config(make_config(tiny_model_dir), new)
    refused(["train", str(new)], root, capsys)
    assert {p: p.read_bytes() for p in paths.root.rglob("*") if p.is_file()} == before


def test_resume_on_a_read_only_runs_root_exits_2(
    tiny_model_dir: Path, runs_root_made_read_only: tuple[Path, Callable[[], None]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, make_read_only = runs_root_made_read_only
    paths = stopped_run_on(root, tiny_model_dir)
    make_read_only()
    refused(["resume", paths.name], root, capsys)
