"""The `ftwizard` command line, run as a user would run it (a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tuiapp import __version__
from tuiapp.cli import main


def ftwizard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tuiapp", *args], capture_output=True, text=True, timeout=60)


def test_version() -> None:
    result = ftwizard("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"ftwizard {__version__}"


def test_gpu_without_a_gpu_is_a_clear_message_and_exit_0() -> None:
    result = ftwizard("gpu")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    if "No NVIDIA GPU found" not in result.stdout:
        pytest.skip("this machine has an NVIDIA GPU")
    assert "--gpu 24GB" in result.stdout and "RAM" in result.stdout


def test_gpu_json_for_a_planned_size() -> None:
    result = ftwizard("gpu", "--gpu", "24GB", "--json")
    assert result.returncode == 0, result.stderr
    profile = json.loads(result.stdout)
    (gpu,) = profile["gpus"]
    assert profile["source"] == "planned"
    assert gpu["total_bytes"] == gpu["free_bytes"] == 24 * 1024**3
    assert gpu["bf16"] is True and profile["system"]["ram_total_bytes"] > 0


def test_gpu_table_for_a_named_card(capsys) -> None:
    assert main(["gpu", "--gpu", "H100"]) == 0
    out = capsys.readouterr().out
    assert "Planned GPU" in out and "H100 80GB" in out and "79.65 GiB" in out


def test_unknown_gpu_exits_2_with_a_suggestion() -> None:
    result = ftwizard("gpu", "--gpu", "RTX 4095")
    assert result.returncode == 2
    assert "Did you mean RTX 4090" in result.stderr and "Traceback" not in result.stderr


def test_catalogue_listing(capsys) -> None:
    assert main(["gpu", "--list", "--json"]) == 0
    names = [entry["name"] for entry in json.loads(capsys.readouterr().out)]
    assert "RTX 4090" in names and "H200" in names


def test_unexpected_error_is_a_message_and_a_log_file(monkeypatch, tmp_path, capsys) -> None:
    import tuiapp.cli.gpu_command as gpu_command

    def explode(args: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setenv("FTWIZARD_STATE_DIR", str(tmp_path))
    monkeypatch.setattr(gpu_command, "run", explode)
    assert main(["gpu"]) == 1
    err = capsys.readouterr().err
    assert "unexpected error: RuntimeError: boom" in err and "Traceback" not in err
    (log,) = tmp_path.glob("crash-*.log")
    assert "RuntimeError: boom" in log.read_text()
