"""CPU count, RAM and free disk: what matters when no GPU is present, and for checkpoints."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tuiapp.core.hardware.profile import SystemInfo


def _existing_parent(path: Path) -> Path:
    path = path.resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def read_system(disk_path: str | os.PathLike[str] = ".") -> SystemInfo:
    """Read CPU, RAM and the free space of the disk holding `disk_path` (or its nearest parent)."""
    import psutil  # imported where used: the wizard's first paint does not wait for it

    memory = psutil.virtual_memory()
    where = _existing_parent(Path(disk_path))
    disk = shutil.disk_usage(where)
    return SystemInfo(
        cpu_count=os.cpu_count() or 1,
        ram_total_bytes=memory.total,
        ram_available_bytes=memory.available,
        disk_path=str(where),
        disk_total_bytes=disk.total,
        disk_free_bytes=disk.free,
    )
