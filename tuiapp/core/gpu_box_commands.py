"""What to run on the GPU box for a config planned on another machine: copy, check, train."""

from __future__ import annotations

import shlex
from pathlib import Path

from tuiapp.core.config import FTConfig


def gpu_box_commands(config: FTConfig, config_path: Path, base: Path) -> list[str]:
    """Shell lines, in order. A local dataset is copied beside the config under the same relative path."""
    files = [config_path.name]
    source = config.dataset.source if config.dataset else None
    local = bool(source) and (base / str(source)).expanduser().exists()
    if local:
        files.append(str(source))
    name = shlex.quote(config_path.name)
    lines = [f"cd {shlex.quote(str(config_path.parent))} && scp {' '.join(map(shlex.quote, files))} GPU_BOX:"]
    if local and Path(str(source)).is_absolute():
        lines.append(f"# the dataset path is absolute: put it at {source} on the box, or edit dataset.source")
    lines += [
        "# on the box, with ftwizard installed (scripts/setup-venv.sh in its checkout):",
        f"ftwizard check {name}    # validates it against that GPU",
        f"ftwizard train {name}    # or: ftwizard --config {name} for the wizard",
    ]
    return lines
