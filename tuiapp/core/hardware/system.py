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


def _meminfo(text: str) -> tuple[int, int] | None:
    """(total, available) bytes from /proc/meminfo's text (what psutil reads on Linux), None if absent."""
    values = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in ("MemTotal", "MemAvailable") and rest.strip().endswith("kB"):
            values[name] = int(rest.split()[0]) * 1024
    if len(values) < 2:
        return None
    return values["MemTotal"], values["MemAvailable"]


def _memory() -> tuple[int, int]:
    """RAM total and available: /proc/meminfo on Linux (psutil costs the first screen 20 ms), else psutil."""
    try:
        found = _meminfo(Path("/proc/meminfo").read_text(encoding="ascii"))
    except (OSError, ValueError):
        found = None
    if found is not None:
        return found
    import psutil

    memory = psutil.virtual_memory()
    return memory.total, memory.available


def read_system(disk_path: str | os.PathLike[str] = ".") -> SystemInfo:
    """Read CPU, RAM and the free space of the disk holding `disk_path` (or its nearest parent)."""
    total, available = _memory()
    where = _existing_parent(Path(disk_path))
    disk = shutil.disk_usage(where)
    return SystemInfo(
        cpu_count=os.cpu_count() or 1,
        ram_total_bytes=total,
        ram_available_bytes=available,
        disk_path=str(where),
        disk_total_bytes=disk.total,
        disk_free_bytes=disk.free,
    )
