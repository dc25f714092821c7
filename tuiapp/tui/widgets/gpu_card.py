"""One GPU as a card: name, VRAM bar, capabilities and the processes holding its memory."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tuiapp.core.hardware import GpuInfo
from tuiapp.core.units import gib
from tuiapp.tui.widgets.vram_bar import VramBar


def _yes(flag: bool) -> str:
    return "[green]yes[/]" if flag else "[red]no[/]"


class GpuCard(Vertical):
    """A bordered card for one GPU; `planned` marks a catalogue target rather than a detected card."""

    def __init__(self, gpu: GpuInfo, *, planned: bool = False) -> None:
        super().__init__(classes="gpu-card")
        self.gpu = gpu
        kind = "target (planned)" if planned else f"GPU {gpu.index}"
        self.border_title = f"{kind} · {gpu.name}"
        self.border_subtitle = f"{gib(gpu.free_bytes)} free"

    def compose(self) -> ComposeResult:
        gpu = self.gpu
        yield VramBar(gpu.used_bytes, gpu.total_bytes)
        facts = f"compute {gpu.capability_text} · bf16 {_yes(gpu.bf16)} · fp8 {_yes(gpu.fp8)}"
        if gpu.driver_version:
            facts += f" · driver {gpu.driver_version} · CUDA {gpu.cuda_version or '?'}"
        yield Static(facts, classes="gpu-facts")
        if gpu.processes:
            held = ", ".join(
                f"{proc.name} ({proc.pid}) {gib(proc.used_bytes) if proc.used_bytes is not None else '?'}"
                for proc in gpu.processes
            )
            yield Static(f"[b]Holding VRAM:[/b] {held}", classes="gpu-processes")
