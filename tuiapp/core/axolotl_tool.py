"""Where the `axolotl` command is: the config's `axolotl_command`, else `axolotl` on PATH, else the side environment
that scripts/make-tool-venvs.sh builds. Axolotl pins other transformers / TRL versions than ours, so it lives in
its own virtual environment and runs as a child process; nothing here starts one (only files are looked at).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tuiapp.core.user_error import UserError
from tuiapp.core.user_paths import user_path

TOOL_VENVS_ENV = "FTWIZARD_TOOL_VENVS"
AXOLOTL_VERSION = "0.19"  # the release scripts/make-tool-venvs.sh installs and the backend is tested with
HOW_TO_GET = (
    "run scripts/make-tool-venvs.sh (or `pip install axolotl` in a virtual environment of its own), "
    "and set axolotl_command: PATH in the config if it is not on PATH"
)


def tool_venvs_root() -> Path:
    """${FTWIZARD_TOOL_VENVS}, else $XDG_CACHE_HOME/ftwizard/tool-venvs, else ~/.cache/ftwizard/tool-venvs (as the
    script has it)."""
    if os.environ.get(TOOL_VENVS_ENV):
        return user_path(os.environ[TOOL_VENVS_ENV])
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "ftwizard" / "tool-venvs"


def _runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_axolotl(configured: str | None = None) -> Path | None:
    """The axolotl command to run, or None when there is none. A configured path is used as given (checked for
    being runnable by `axolotl_command`); else PATH, else the side environment."""
    if configured:
        path = user_path(configured)
        return path.resolve() if _runnable(path) else None
    on_path = shutil.which("axolotl")
    if on_path:
        return Path(on_path).resolve()
    venv = tool_venvs_root() / "axolotl" / "bin" / "axolotl"
    return venv if _runnable(venv) else None


def axolotl_command(configured: str | None = None) -> Path:
    """The axolotl command, or a UserError saying how to get it."""
    found = find_axolotl(configured)
    if found is not None:
        return found
    if configured:
        raise UserError(f"axolotl_command {configured} is not a runnable file", "fix the path, or " + HOW_TO_GET)
    raise UserError("framework axolotl: no `axolotl` command was found", HOW_TO_GET)


def axolotl_offer(found: Path | None, chosen: bool = False, planned_framework: str = "hf") -> str:
    """The Method screen's line about Axolotl: how to choose it when it is here, how to get it when not."""
    if found is None:
        return "Axolotl (a third backend): not found; " + HOW_TO_GET
    if chosen:
        return f"framework axolotl ({found}), chosen with a; a again goes back to {planned_framework}"
    return f"Axolotl found ({found}): a trains this option with framework: axolotl"
