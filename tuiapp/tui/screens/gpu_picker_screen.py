"""A modal to choose the GPU to plan for: filter the catalogue, or type a size such as 24GB."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tuiapp.core.hardware import GpuSpec, UnknownGpuError, gpu_catalog, resolve_gpu
from tuiapp.tui.widgets.list_nav import move_highlight


def _label(spec: GpuSpec) -> str:
    bf16 = "bf16" if spec.capability >= (8, 0) else "fp16 only"
    return f"{spec.name:<24} {spec.memory_gib:6.1f} GiB  cc {spec.compute_capability:<5} {bf16}"


SIZE_ID = "<size>"  # the row for "any GPU of the size typed"


class GpuPickerScreen(ModalScreen[GpuSpec | None]):
    """Dismisses with the chosen GpuSpec, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "move(1)", "Next", show=False),
        Binding("up", "move(-1)", "Previous", show=False),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="gpu-picker"):
            yield Static("[b]Plan for a GPU[/b]  type to filter, or a size such as 24GB; Enter picks")
            yield Input(placeholder="RTX 4090, H100, 24GB …", id="gpu-query")
            yield OptionList(*self._options(""), id="gpu-options")
            yield Static("", id="gpu-picker-error")

    @staticmethod
    def _options(query: str) -> list[Option]:
        """Cards whose names hold every word typed; a size (24GB) lists a card of that size, then the
        catalogue's cards with about that much memory."""
        words = query.lower().split()
        named = [
            spec
            for spec in gpu_catalog()
            if all(word in f"{spec.name} {' '.join(spec.aliases)}".lower() for word in words)
        ]
        if named or not query.strip():
            return [Option(_label(spec), id=spec.name) for spec in named]
        try:
            sized = resolve_gpu(query)
        except UnknownGpuError:
            return []
        near = [spec for spec in gpu_catalog() if abs(spec.memory_gib - sized.memory_gib) <= 1.5]
        return [Option(_label(sized), id=SIZE_ID), *(Option(_label(spec), id=spec.name) for spec in near)]

    def on_input_changed(self, event: Input.Changed) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(self._options(event.value))
        options.highlighted = 0 if options.option_count else None
        self.query_one("#gpu-picker-error", Static).update("")

    def action_move(self, delta: int) -> None:
        move_highlight(self.query_one(OptionList), delta)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """A name or size that resolves wins; otherwise the highlighted row; otherwise say why not."""
        try:
            self.dismiss(resolve_gpu(event.value))
            return
        except UnknownGpuError as exc:
            problem = str(exc)
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self._pick(options.get_option_at_index(options.highlighted).id)
        else:
            self.query_one("#gpu-picker-error", Static).update(f"[red]{problem}[/]")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._pick(event.option.id)

    def _pick(self, name: str | None) -> None:
        if name == SIZE_ID:
            self.dismiss(resolve_gpu(self.query_one(Input).value))
            return
        self.dismiss(next(spec for spec in gpu_catalog() if spec.name == name))

    def action_cancel(self) -> None:
        self.dismiss(None)
