"""Run names that try to leave the runs root are refused by every command that takes one, and nothing is
created outside the root. A decoy run waits just outside the root, where `../decoy` would land if a name were
joined onto the root unchecked; the commands run from an unrelated folder, so a name read as a path (the
documented "or its directory") points at nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tuiapp.cli import main

COMMANDS = ("resume", "stop", "attach", "finish", "merge", "push")
ESCAPES = ("../decoy", "a/../../decoy", "/etc/ftwizard-escape", "..", ".", "x\0y", "x\ny", "decoy\n", "~/../x")


def tree(folder: Path) -> dict[str, int]:
    """Every path under `folder` with its size (-1 for a folder), to show what a command created."""
    return {
        str(path.relative_to(folder)): path.stat().st_size if path.is_file() else -1
        for path in sorted(folder.rglob("*"))
    }


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """tmp/outside/{root,decoy}: the runs root, and a damaged run just outside it; cwd: tmp/elsewhere."""
    outside = tmp_path / "outside"
    root, decoy = outside / "root", outside / "decoy"
    root.mkdir(parents=True)
    decoy.mkdir()
    (decoy / "events.jsonl").write_text('{"type": "started", "time": 1.0}\n', encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("FTWIZARD_RUNS_DIR", str(root))
    monkeypatch.setenv("FTWIZARD_STATE_DIR", str(tmp_path / "state"))

    def no_tui(self: object) -> None:
        raise AssertionError(f"the wizard opened on {getattr(self, '_run_dir', None) or vars(self).get('run_dir')}")

    monkeypatch.setattr("tuiapp.tui.app.FTWizardApp.run", no_tui)
    return {"tmp": tmp_path, "root": root, "decoy": decoy}


@pytest.mark.parametrize("name", ESCAPES, ids=[repr(name) for name in ESCAPES])
@pytest.mark.parametrize("command", COMMANDS)
def test_a_name_leaving_the_runs_root_is_refused(
    command: str, name: str, layout: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    before = tree(layout["tmp"])
    args = [command, name, "--runs-dir", str(layout["root"])]
    if command == "push":
        args += ["--repo", "escape-test"]
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2, (code, err)
    assert "ftwizard: " in err and "unexpected error" not in err
    assert str(layout["decoy"]) not in err and "run decoy " not in err, f"{name!r} reached the decoy: {err}"
    assert tree(layout["tmp"]) == before, "a file or folder appeared"
    assert not os.path.lexists("/etc/ftwizard-escape")
