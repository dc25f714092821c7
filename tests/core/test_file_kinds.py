"""A destination that is not a folder (a FIFO, a device, a link to one) is refused before anything is moved:
`merge -o /dev/null` once renamed the device aside and put a model folder in its place."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tuiapp.core.file_kinds import kind_of, not_a_folder
from tuiapp.core.merge_preflight import check_destination
from tuiapp.core.user_error import UserError
from tuiapp.training.merge_output import install_folder


def test_kinds_in_words(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (tmp_path / "link").symlink_to(fifo)
    assert not_a_folder(fifo) == "a FIFO (named pipe)"
    assert not_a_folder(tmp_path / "link") == "a symbolic link"
    assert not_a_folder(tmp_path) is None and not_a_folder(tmp_path / "new") is None
    assert kind_of(os.stat("/dev/null").st_mode) == "a character device"
    assert kind_of(stat.S_IFSOCK) == "a socket"


@pytest.mark.parametrize("make", ["fifo", "link-to-fifo", "file"])
def test_merge_refuses_a_destination_that_is_not_a_folder(tmp_path: Path, make: str) -> None:
    target = tmp_path / "out"
    if make == "file":
        target.write_text("keep me")
    else:
        os.mkfifo(tmp_path / "pipe")
        os.rename(tmp_path / "pipe", target) if make == "fifo" else target.symlink_to(tmp_path / "pipe")
    with pytest.raises(UserError, match="not a folder"):
        check_destination(target, [])
    partial = tmp_path / ".out.partial"
    partial.mkdir()
    with pytest.raises(UserError, match="not a folder"):
        install_folder(partial, target)
    assert partial.is_dir() and not target.is_dir()  # nothing moved aside, nothing installed over it
    assert not [p for p in tmp_path.iterdir() if ".old-" in p.name]


def test_a_device_is_refused_as_a_merge_destination() -> None:
    with pytest.raises(UserError, match="/dev/null: it is a character device, not a folder"):
        check_destination(Path("/dev/null"), [])  # only checked: nothing is written near it


def test_gguf_refuses_a_destination_that_is_not_a_folder(tmp_path: Path) -> None:
    from tuiapp.core.runs.layout import RunPaths
    from tuiapp.training.gguf_action import _check_destination

    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(UserError, match="FIFO"):
        _check_destination(tmp_path / "pipe", RunPaths(tmp_path / "run"), tmp_path / "base")
