"""Writing a merged model safely: into a hidden sibling folder that becomes the destination only once it is
complete, so a failure, a cancel or a full disk never leaves half a model where a whole one is expected.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from tuiapp.core.file_kinds import not_a_folder
from tuiapp.core.user_error import UserError

if TYPE_CHECKING:
    from tuiapp.training.action_runner import ActionReport

POLL_S = 0.5
MIB = 1024**2


def partial_sibling(out_dir: Path) -> Path:
    """A new, empty `.NAME.partial-XXXX` folder beside `out_dir` (same disk, so the final rename is atomic)."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))


def install_folder(partial: Path, out_dir: Path) -> bool:
    """Rename `partial` to `out_dir`. An existing `out_dir` is moved aside first and deleted only once the
    rename succeeded (put back when it did not); True when one was replaced."""
    if kind := not_a_folder(out_dir):  # checked before too (check_destination); here it is what is renamed
        raise UserError(f"cannot write into {out_dir}: it is {kind}, not a folder", "choose a folder with -o DIR")
    if not out_dir.exists():
        partial.rename(out_dir)
        return False
    aside = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    aside.rmdir()  # only the unique name is wanted: rename needs the target absent
    out_dir.rename(aside)
    try:
        partial.rename(out_dir)
    except BaseException:
        aside.rename(out_dir)
        raise
    shutil.rmtree(aside, ignore_errors=True)
    return True


@contextmanager
def removed_unless_installed(partial: Path) -> Iterator[Path]:
    """Delete `partial` when the block ends by any exception (Cancelled included); a block that installed it
    has already renamed it away, so the success path has nothing to remove."""
    try:
        yield partial
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if partial.exists():  # the block returned without installing it: still nothing half-written stays
        shutil.rmtree(partial, ignore_errors=True)


def written_bytes(folder: Path) -> int:
    """Bytes of the safetensors shards in `folder` so far."""
    total = 0
    for path in folder.glob("*.safetensors"):
        try:
            total += path.stat().st_size
        except OSError:  # renamed or removed between listing and stat
            continue
    return total


def folder_bytes(folder: Path) -> int:
    """Bytes of every file in `folder` (recursively)."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


@contextmanager
def shard_progress(folder: Path, expected_bytes: int | None, report: ActionReport) -> Iterator[None]:
    """Report "writing shards" as MiB written of MiB expected while the block writes into `folder` (the
    phase alone without an expected size).

    save_pretrained writes every shard itself, so a thread watches the folder; the block's thread makes no
    report call until the watcher has stopped, so the two never write an event at the same time.
    """
    if not expected_bytes:
        report.phase("writing shards")
        yield
        return
    total = max(1, round(expected_bytes / MIB))
    report.phase("writing shards", 0, total)
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(POLL_S):
            done = round(written_bytes(folder) / MIB)
            report.phase("writing shards", min(done, total - 1), total)  # the last step once it is closed

    watcher = threading.Thread(target=watch, name="shard-progress", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()
    report.phase("writing shards", total, total)


NOT_TOKENIZER_FILES = ("adapter_", "training_args", "trainer_state", "optimizer", "scheduler", "rng_state")
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


def copy_tokenizer_files(adapter: Path, out: Path) -> list[str]:
    """Copy the tokenizer saved beside the adapter as it is (tokenizer.json or tokenizer.model, its config,
    chat template, any remote-code module) into `out`: everything but the adapter, the trainer's state,
    weights, the adapter's README and what `out` already has (the merged config and generation config)."""
    copied = []
    for path in sorted(adapter.iterdir()):
        name = path.name
        skip = name.startswith(NOT_TOKENIZER_FILES) or name.endswith(WEIGHT_SUFFIXES) or name == "README.md"
        if skip or not path.is_file() or (out / name).exists():
            continue
        shutil.copy2(path, out / name)
        copied.append(name)
    return copied
