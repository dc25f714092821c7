"""Layering: the CLI and TUI start without heavy ML imports; the core imports no UI or training code."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("torch", "transformers", "trl", "peft", "datasets", "unsloth", "bitsandbytes", "accelerate")
PACKAGE = Path(__file__).resolve().parents[1] / "tuiapp"


def loaded_after(code: str) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return {name.split(".")[0] for name in json.loads(out.splitlines()[-1])}


def test_cli_and_tui_import_no_heavy_library() -> None:
    loaded = loaded_after("import tuiapp.cli, tuiapp.tui.app")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_version_imports_no_library() -> None:
    """`ftwizard --version` answers before argparse builds the parser: no pydantic, textual or yaml."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tuiapp", "--version"], capture_output=True, text=True, check=True
    )
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line}
    assert result.stdout.startswith("ftwizard ")
    assert "tuiapp" in imported  # the probe sees imports at all
    assert not imported & {"pydantic", "textual", "yaml", "argparse"}, sorted(imported)


def test_core_imports_neither_ui_nor_heavy_libraries() -> None:
    code = "import tuiapp.core.config, tuiapp.core.hardware, tuiapp.core.presets, tuiapp.core.units"
    loaded = loaded_after(code)
    assert not loaded & {*HEAVY, "textual", "rich"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("core", ("tuiapp.tui", "tuiapp.training", "tuiapp.cli", "textual")),
        ("training", ("tuiapp.tui", "tuiapp.cli", "textual")),
        ("tui", ("tuiapp.training", "tuiapp.cli")),
    ],
)
def test_imports_go_one_way(layer: str, forbidden: tuple[str, ...]) -> None:
    bad = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in (PACKAGE / layer).rglob("*.py")
        for name in _imports(path)
        if name.startswith(forbidden)
    ]
    assert bad == []


def test_no_module_level_heavy_import_anywhere() -> None:
    """Heavy libraries are imported inside functions only, so importing any tuiapp module stays cheap."""
    bad = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            )
            bad += [f"{path.relative_to(PACKAGE)}: {n}" for n in names if n.split(".")[0] in HEAVY]
    assert bad == []
