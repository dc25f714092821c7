"""A plain wheel carries presets/ and the stylesheet, and finds them once installed."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("ftwizard-*.whl")
    return built


def test_wheel_ships_presets_and_styles(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    presets = {path.name for path in (ROOT / "presets").glob("*.yaml")}
    assert {f"tuiapp/presets/{name}" for name in presets} <= names
    assert "tuiapp/tui/app.tcss" in names
    samples = {path.name for path in (ROOT / "tuiapp" / "sample_data").iterdir()}
    assert {f"tuiapp/sample_data/{name}" for name in samples} <= names
    helps = {path.name for path in (ROOT / "tuiapp" / "tui" / "help").glob("*.md")}
    assert helps and {f"tuiapp/tui/help/{name}" for name in helps} <= names
    assert any(name.endswith("entry_points.txt") for name in names)


def test_installed_wheel_finds_its_presets(wheel: Path, tmp_path: Path) -> None:
    zipfile.ZipFile(wheel).extractall(tmp_path)
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from tuiapp.core.presets import presets_dir; from tuiapp.core.hardware import gpu_catalog;"
        "from tuiapp.core.data.samples import sample_path;"
        "print(presets_dir(), len(gpu_catalog()), sample_path('alpaca.parquet'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, check=True, cwd=tmp_path
    ).stdout.split()
    assert out[0] == str(tmp_path / "tuiapp" / "presets") and int(out[1]) > 20
    assert out[2] == str(tmp_path / "tuiapp" / "sample_data" / "alpaca.parquet")
