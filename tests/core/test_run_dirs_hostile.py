"""Run names and runs roots a command cannot use are exit 2 with what, where and what to do; run directories
are private (issue 11, items 5 and 10)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from tuiapp.cli import main
from tuiapp.core.config import validate_config
from tuiapp.core.runs import launcher
from tuiapp.core.runs.layout import MAX_RUN_NAME, RunPaths, check_run_name, create_run_dir, find_run, run_name_for
from tuiapp.core.user_error import UserError


def config_named(tmp_path: Path, name: str | None, runs_root: Path | None = None):
    """A config whose run name is set past the config model's own checks (which another layer owns)."""
    data = tmp_path / "data.jsonl"
    data.write_text('{"text": "hello"}\n', encoding="utf-8")
    config = validate_config({"model": {"name_or_path": "some/model"}, "dataset": {"source": str(data)}})
    output = config.output.model_copy(update={"run_name": name, "runs_root": str(runs_root) if runs_root else None})
    return config.model_copy(update={"output": output})


@pytest.mark.parametrize("name", ["run\n", "run\nmore", "\nrun", "run/..", "..", "-run", "a b", "run\x00"])
def test_a_name_that_would_be_unreachable_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(UserError, match=r"cannot name a run folder.*letters, digits"):
        create_run_dir(tmp_path, name, exact=True)
    assert list(tmp_path.iterdir()) == []


def test_a_trailing_newline_no_longer_makes_a_run_that_resume_cannot_reach(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no slashes, spaces or line breaks"):
        launcher.prepare_run(config_named(tmp_path, "mine\n"), runs_dir=str(tmp_path / "runs"))
    paths = launcher.prepare_run(config_named(tmp_path, "mine"), runs_dir=str(tmp_path / "runs"))
    assert find_run("mine", tmp_path / "runs") == paths


def test_a_300_character_name_is_refused_before_the_file_system_does(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=f"is 300 characters long; a run name has at most {MAX_RUN_NAME}"):
        launcher.prepare_run(config_named(tmp_path, "a" * 300), runs_dir=str(tmp_path / "runs"))
    with pytest.raises(UserError, match="no run named aaaa"):  # and looking one up says so, bounded
        find_run("a" * 300, tmp_path)
    assert check_run_name("a" * MAX_RUN_NAME) == "a" * MAX_RUN_NAME
    assert check_run_name("qwen-é-lora") == "qwen-é-lora"  # letters beyond ASCII, as the config model allows


def test_a_made_up_name_always_passes_the_check(tmp_path: Path) -> None:
    for model in ("x" * 300, "/models/été-7b/", "org/-weird..name-", "", "___"):
        name = run_name_for(model, "qlora", now=0)
        assert check_run_name(name) == name and len(name) <= MAX_RUN_NAME


def test_a_runs_root_that_is_a_file_is_exit_2_with_where_and_what(tmp_path: Path, capsys) -> None:
    afile = tmp_path / "runs"
    afile.write_text("", encoding="utf-8")
    for root in (afile, afile / "below"):
        with pytest.raises(UserError, match=f"the runs folder {root} .*is a file, not a folder.*--runs-dir DIR"):
            launcher.prepare_run(config_named(tmp_path, "r"), runs_dir=str(root))


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES])
def test_a_read_only_runs_root_is_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    """The file system refusing (tests run as root here, where mode bits do not stop a write)."""
    root = tmp_path / "runs"
    root.mkdir()
    real_mkdir = Path.mkdir

    def refused(self: Path, *args, **kwargs) -> None:
        if self.parent == root:
            error = PermissionError if code == errno.EACCES else OSError
            raise error(code, os.strerror(code), str(self))
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refused)
    with pytest.raises(UserError, match=f"cannot create a run in the runs folder {root}: .*Make it writable"):
        launcher.prepare_run(config_named(tmp_path, "r"), runs_dir=str(root))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through a read-only mode")
def test_a_read_only_runs_root_by_its_mode_is_exit_2(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    root.mkdir(mode=0o555)
    with pytest.raises(UserError, match=r"Permission denied.*Make it writable"):
        launcher.prepare_run(config_named(tmp_path, "r"), runs_dir=str(root))


def test_train_on_an_unusable_runs_root_is_exit_2_not_an_unexpected_error(tmp_path: Path, capsys) -> None:
    afile = tmp_path / "runs"
    afile.write_text("", encoding="utf-8")
    config = tmp_path / "cfg.yaml"
    data = tmp_path / "data.jsonl"
    data.write_text('{"text": "hello"}\n', encoding="utf-8")
    config.write_text(f"model: {{name_or_path: some/model}}\ndataset: {{source: {data}}}\n", encoding="utf-8")
    assert main(["train", str(config), "--runs-dir", str(afile)]) == 2
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and "unexpected" not in err


# ----- the file-mode policy -------------------------------------------------------------------------------
def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o000, 0o002])
def test_a_run_directory_is_private_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        paths = launcher.prepare_run(config_named(tmp_path, "r"), runs_dir=str(tmp_path / "runs"))
        (paths.root / "final").mkdir()
        (paths.root / "final" / "tokenizer.json").write_text("{}", encoding="utf-8")  # as a library writes it
    finally:
        os.umask(old)
    assert mode(paths.root) == 0o700
    for path in paths.root.rglob("*"):  # every file is behind the one gate, whatever its own bits
        assert paths.root in path.parents
    assert mode(tmp_path / "runs") == 0o777 & ~umask  # the root only lists names: the umask's


def test_resume_makes_an_older_run_directory_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = RunPaths(tmp_path / "old-run")
    paths.root.mkdir(mode=0o755)
    os.chmod(paths.root, 0o755)

    class Child:
        pid = os.getpid()

    monkeypatch.setattr(launcher, "spawn_detached", lambda *args: Child())
    launcher.launch_worker(paths)
    assert mode(paths.root) == 0o700
