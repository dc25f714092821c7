"""`ftwizard data inspect` on hostile input: each ends at once in exit 2 with a located, bounded message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tuiapp.cli import main
from tuiapp.core.data.samples import sample_path


def inspect(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main(["data", "inspect", *map(str, args)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_as_the_dataset_exits_2_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "rows.jsonl"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "tuiapp", "data", "inspect", str(fifo)],
        capture_output=True,
        text=True,
        timeout=60,  # it blocked forever, waiting for a writer
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 2, done.stderr
    assert f"ftwizard: {fifo} is a FIFO (named pipe), not a file" in done.stderr


def test_a_missing_model_folder_exits_2_with_plans_words(capsys: pytest.CaptureFixture[str]) -> None:
    plan_code = main(["plan", "--model", "/nonexistent"])
    _, plan_err = capsys.readouterr()
    code, out, err = inspect(capsys, sample_path("text.txt"), "--model", "/nonexistent")
    assert (plan_code, code) == (2, 2), out + err
    assert err == plan_err and "/nonexistent: no such folder" in err


def test_a_100k_character_column_name_gives_a_short_message(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "wide.jsonl"
    path.write_text('{"' + "n" * 100_000 + '": "x"}\n', encoding="utf-8")
    code, out, err = inspect(capsys, path)
    assert code == 2
    assert "99,940 more characters" in err
    assert max(len(line) for line in (out + err).splitlines()) < 3_000


def test_a_rename_of_a_missing_column_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = inspect(capsys, sample_path("alpaca.json"), "--map", "questoin=instruction")
    assert code == 2
    assert "the column rename `questoin=instruction` names no column of the first" in err


@pytest.mark.parametrize("flags", [["--split", "test"], ["--config-name", "default"]])
def test_hub_flags_with_a_local_file_exit_2(capsys: pytest.CaptureFixture[str], flags: list[str]) -> None:
    code, _, err = inspect(capsys, sample_path("text.txt"), *flags)
    assert code == 2
    assert f"{flags[0]} choose part of a Hub dataset" in err


def test_a_lone_surrogate_exits_2_and_skip_bad_counts_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"text": "a"}\n{"text": "b\\ud800"}\n', encoding="utf-8")
    code, _, err = inspect(capsys, path)
    assert code == 2
    assert f"{path}:2: `text` holds a lone surrogate (\\ud800) at character 2" in err
    code, out, err = inspect(capsys, path, "--skip-bad")
    assert code == 0, err
    assert "Skipped    1 malformed line(s)" in out


def test_a_long_row_with_a_model_shows_a_screen_and_says_what_follows(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model_dir: Path
) -> None:
    path = tmp_path / "long.csv"
    path.write_text("text\n" + " ".join(["words"] * 40_000) + "\n", encoding="utf-8")
    code, out, err = inspect(capsys, path, "--model", tiny_model_dir)
    assert code == 0, err
    assert "more characters" in out and len(out) < 20_000
