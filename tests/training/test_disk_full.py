"""A full disk (ENOSPC, EDQUOT) or a file size limit (EFBIG) while training: its own failure reason with the path,
the space a checkpoint takes, the step reached and the checkpoints intact; `ftwizard train` exits 2 with it.

Triggered three ways: an injected ENOSPC at a save (debug.inject_disk_full_at_step) through `ftwizard train`,
a real per-file write limit (RLIMIT_FSIZE in the worker), and a real full filesystem (a small tmpfs, where this
machine lets the test mount one; it then grows it, as freeing space would, and resumes)."""

from __future__ import annotations

import errno
import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fault_runs import complete_checkpoints, finish, make_config, wait_until

from tuiapp.cli.safety import run_safely
from tuiapp.core.config import save_config
from tuiapp.core.runs import CheckpointSaved, Completed, EventWriter, Failed, Metrics, RunPaths, read_events
from tuiapp.core.runs.failure import classify_failure
from tuiapp.core.runs.launcher import WORKER_MODULE, launch_worker, prepare_run, resume_run
from tuiapp.core.runs.listing import summarize_run
from tuiapp.core.runs.status import write_status
from tuiapp.training.disk_full import disk_full_failure

ROOT = Path(__file__).resolve().parents[2]
TORCH_WRITE_FAILED = "[enforce fail at inline_container.cc:664] . PytorchStreamWriter failed writing file data/0"


def wrapped(inner: BaseException) -> RuntimeError:
    try:
        try:
            raise inner
        except OSError as exc:
            raise RuntimeError("Error while serializing") from exc
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "/r/x"), "the disk is full"),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), "the disk quota is used up"),
        (OSError(errno.EFBIG, "File too large"), "a file size limit"),
        (wrapped(OSError(errno.ENOSPC, "No space left on device")), "the disk is full"),
        (RuntimeError("Error while serializing: IoError(Os { code: 28, kind: StorageFull, message: x })"), "full"),
        (RuntimeError("safetensors: I/O error: No space left on device (os error 28)"), "the disk is full"),
        (RuntimeError(TORCH_WRITE_FAILED + ": file write failed"), "could not be written"),
        (RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 99392 vs 99280"), "could not be"),
    ],
)
def test_disk_full_has_its_own_reason(exc: BaseException, words: str) -> None:
    found = classify_failure(exc)
    assert found.reason == "disk_full" and words in (found.message or "")
    assert "ftwizard resume" in found.hint


def test_other_os_errors_are_not_disk_full() -> None:
    assert classify_failure(OSError(errno.EACCES, "Permission denied")).reason != "disk_full"
    assert classify_failure(OSError(errno.EIO, "Input/output error")).reason != "disk_full"


def laid_out_run(tmp_path: Path, model: Path) -> RunPaths:
    """A run directory whose checkpoint-3 is complete, checkpoint-6 half written, and step 6 logged."""
    import torch
    from safetensors.torch import save_file

    paths = prepare_run(make_config(model), runs_dir=str(tmp_path))
    for step, complete in ((3, True), (6, False)):
        folder = paths.checkpoints / f"checkpoint-{step}"
        folder.mkdir(parents=True)
        save_file({"lora_A": torch.zeros(64, 64)}, str(folder / "adapter_model.safetensors"))
        torch.save({"state": torch.zeros(150_000 // 4)}, folder / "optimizer.pt")
        if complete:
            (folder / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    with EventWriter(paths.events) as writer:
        writer.write(Metrics(step=6, total_steps=12, loss=1.0))
    return paths


def test_the_failure_names_path_space_step_and_intact_checkpoints(tmp_path: Path) -> None:
    paths = laid_out_run(tmp_path, tmp_path)
    before = complete_checkpoints(paths)
    target = paths.checkpoints / "checkpoint-6" / "optimizer.pt"
    exc = OSError(errno.ENOSPC, "No space left on device", str(target))
    why = classify_failure(exc)
    failed = disk_full_failure(exc, paths, Failed(reason=why.reason, message=why.message or "", hint=why.hint))
    assert failed.reason == "disk_full" and failed.step == 6
    assert f"the disk is full writing {target} at step 6" in failed.message
    assert re.search(r"a checkpoint takes 1\d\d KB, [\d.]+ [KMG]B free", failed.message), failed.message
    assert "the checkpoints up to checkpoint-3 are intact" in failed.message
    assert "the incomplete checkpoint-6 was removed" in failed.message
    assert not (paths.checkpoints / "checkpoint-6").exists(), "its space is given back"
    assert complete_checkpoints(paths) == before
    assert re.search(f"free at least 1\\d\\d KB on the disk holding {tmp_path}", failed.hint), failed.hint
    assert f"`ftwizard resume {paths.name}` continues from checkpoint-3" in failed.hint


def test_a_full_disk_in_any_command_exits_2_without_a_crash_log(capsys: pytest.CaptureFixture[str]) -> None:
    def command() -> int:
        raise OSError(errno.ENOSPC, "No space left on device", "/runs/x/config.yaml")

    assert run_safely(command) == 2
    err = capsys.readouterr().err
    assert "the disk is full: could not write /runs/x/config.yaml" in err and "unexpected" not in err


def test_an_unrelated_error_is_still_unexpected(capsys: pytest.CaptureFixture[str]) -> None:
    def command() -> int:
        raise OSError(errno.EIO, "Input/output error")

    assert run_safely(command) == 1 and "unexpected error" in capsys.readouterr().err


def ftwizard_train(config: Path, runs: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tuiapp", "train", str(config), "--runs-dir", str(runs)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


@pytest.mark.slow
def test_ftwizard_train_on_a_full_disk_exits_2_and_keeps_earlier_checkpoints(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    config = make_config(tiny_model_dir, max_steps=6, save_steps=3)
    path = tmp_path / "full.yaml"
    from tuiapp.core.config import with_changes

    save_config(with_changes(config, {"debug.inject_disk_full_at_step": 6, "output.run_name": "full"}), path)
    runs = tmp_path / "runs"
    cli = ftwizard_train(path, runs)
    paths = RunPaths(runs / "full")
    hashes: dict[str, dict[str, str]] = {}

    def first_checkpoint_saved() -> bool:
        return any(isinstance(e, CheckpointSaved) for e in read_events(paths.events))

    wait_until(first_checkpoint_saved, None, paths)
    hashes = complete_checkpoints(paths)
    out, err = cli.communicate(timeout=180)
    assert cli.returncode == 2, out + err
    assert "failed (disk_full): the disk is full writing " in out and "checkpoint-6" in out, out
    assert "at step 6" in out and "the checkpoints up to checkpoint-3 are intact" in out
    assert "fix: free at least" in out and "ftwizard resume full` continues from checkpoint-3" in out
    assert "unexpected" not in out + err and "Traceback" not in out + err
    assert list(hashes) == ["checkpoint-3"] and complete_checkpoints(paths) == hashes
    listed = subprocess.run(
        [sys.executable, "-m", "tuiapp", "runs", "--runs-dir", str(runs), "--json"],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    (entry,) = json.loads(listed.stdout)
    assert (entry["name"], entry["state"]) == ("full", "failed")


def launch_with_file_limit(paths: RunPaths, limit: int) -> subprocess.Popen[bytes]:
    """The worker as launch_worker starts it, under `ulimit -f` (python ignores SIGXFSZ: writes get EFBIG)."""

    def limit_writes() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    with paths.log.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", WORKER_MODULE, str(paths.root)],
            cwd=paths.root, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=limit_writes,
        )  # fmt: skip
    write_status(paths.status, process.pid, time.time())
    return process


@pytest.mark.slow
def test_a_real_file_size_limit_is_classified(tiny_model_dir: Path, tmp_path: Path) -> None:
    """The first checkpoint's optimizer state (~150 KB) passes a 100 KB limit: torch.save's writer fails."""
    paths = prepare_run(make_config(tiny_model_dir, max_steps=4, save_steps=2), runs_dir=str(tmp_path))
    assert finish(launch_with_file_limit(paths, 100_000), paths) == 1
    failed = read_events(paths.events)[-1]
    assert isinstance(failed, Failed) and failed.reason == "disk_full", failed
    assert failed.step == 2 and "at step 2" in failed.message and "no checkpoint had been saved yet" in failed.message
    assert "checkpoint-2" in failed.message and not (paths.checkpoints / "checkpoint-2").exists()
    assert summarize_run(paths).state == "failed"


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Path:
    """A 520 KB tmpfs (one checkpoint of the tiny model fits, two do not); skipped where mounting is refused."""
    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=520k", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({made.stderr.decode().strip()[:120]}); RLIMIT_FSIZE covers it")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.slow
def test_a_really_full_filesystem_keeps_the_first_checkpoint_and_resume_finishes(
    tiny_model_dir: Path, small_filesystem: Path
) -> None:
    paths = prepare_run(make_config(tiny_model_dir, max_steps=6, save_steps=3), runs_dir=str(small_filesystem))
    process = launch_worker(paths)
    wait_until(lambda: (paths.checkpoints / "checkpoint-3" / "trainer_state.json").is_file(), process, paths)
    time.sleep(0.2)  # trainer_state.json is written in one call; let it close
    before = complete_checkpoints(paths)
    assert finish(process, paths) == 1, paths.log.read_text()[-3000:]
    failed = read_events(paths.events)[-1]
    assert isinstance(failed, Failed) and failed.reason == "disk_full", failed
    assert failed.step == 6 and "the disk is full writing" in failed.message
    assert "the checkpoints up to checkpoint-3 are intact" in failed.message and "a checkpoint takes" in failed.message
    assert complete_checkpoints(paths) == before

    # the fix a person makes: more space (here, a larger tmpfs), then resume
    subprocess.run(["mount", "-o", "remount,size=4m", str(small_filesystem)], check=True)
    assert finish(resume_run(paths), paths) == 0, paths.log.read_text()[-3000:]
    events = read_events(paths.events)
    assert isinstance(events[-1], Completed) and events[-1].step == 6
    assert [e.step for e in events if e.kind == "started"] == [0, 3]
    assert complete_checkpoints(paths)["checkpoint-3"] == before["checkpoint-3"]
