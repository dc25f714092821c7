"""CPU, RAM and disk in one line: what still matters when there is no GPU."""

from __future__ import annotations

from textual.widgets import Static

from tuiapp.core.hardware import SystemInfo
from tuiapp.core.units import gib


class SystemPanel(Static):
    """A one-line summary of the host, under the GPU cards."""

    def __init__(self, system: SystemInfo) -> None:
        text = (
            f"[b]Host[/b]  CPU {system.cpu_count} cores · RAM {gib(system.ram_available_bytes)} free of "
            f"{gib(system.ram_total_bytes)} · disk {gib(system.disk_free_bytes)} free ({system.disk_path})"
        )
        super().__init__(text, classes="system-panel")
