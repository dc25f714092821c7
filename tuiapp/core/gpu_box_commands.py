"""What to run on the GPU box for a config planned on another machine: copy, check, train."""

from __future__ import annotations

import shlex
from pathlib import Path, PurePosixPath

from tuiapp.core.config import FTConfig
from tuiapp.core.user_paths import user_path


def gpu_box_commands(config: FTConfig, config_path: Path, base: Path) -> list[str]:
    """Shell lines, in order. A local dataset goes to the same path on the box (relative to the folder the
    commands run in, as the config names it), so the config needs no edit; a Hub dataset needs no copy."""
    q = shlex.quote
    lines = []
    source = config.dataset.source if config.dataset else None
    local = user_path(base / source) if source else None
    if local is not None and local.exists():
        where = PurePosixPath(str(source)).parent
        if str(where) not in ("", "."):
            lines.append(f"ssh GPU_BOX mkdir -p {q(str(where))}")
        lines.append(f"scp {q(str(config_path))} GPU_BOX:")
        lines.append(f"scp -r {q(str(local.resolve()))} GPU_BOX:{q(str(where))}/")
    else:
        lines.append(f"scp {q(str(config_path))} GPU_BOX:")
    name = q(config_path.name)
    lines += [
        "# then on the box, with ftwizard installed (see its README):",
        f"ftwizard check {name}",
        f"ftwizard train {name}",
    ]
    return lines
