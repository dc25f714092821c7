"""The Export dialog: the config in another tool's format, from the Hyperparameters and Finish screens.

The same engine as `ftwizard export` (core/export/render.py): pick a format, edit the suggested file, Enter
writes it (asking before replacing a file), then the dialog says where it went, the command that runs it and
what the tool cannot express. Rendering reads the dataset's first rows, so it runs in a thread."""

from __future__ import annotations

from pathlib import Path

from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tuiapp.core.config import FTConfig
from tuiapp.core.estimate.sharding import Sharding, parse_sharding
from tuiapp.core.export.render import (
    FORMATS,
    ExportFile,
    default_export_name,
    export_suffixes,
    render_export,
    write_export,
)
from tuiapp.core.save_target import save_target
from tuiapp.core.user_error import UserError
from tuiapp.tui.screens.confirm_screen import ConfirmScreen
from tuiapp.tui.screens.step_screen import failure_text


class ExportScreen(ModalScreen[Path | None]):
    """Dismisses with the last file written (None when nothing was); Esc closes."""

    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(self, config: FTConfig, folder: Path, stem: str, source_name: str) -> None:
        """`folder` and `stem` make the suggested file (`stem.FORMAT.yaml`); `source_name` is what the header
        says the export came from (the saved config's file, or the run)."""
        super().__init__()
        self.config, self.folder, self.stem, self.source_name = config, folder, stem, source_name
        self.written: Path | None = None
        self._suggested = ""  # the path last suggested: replaced on a format change unless the user edited it

    def compose(self) -> ComposeResult:
        with Vertical(id="export-box"):
            yield Static("[b]Export the config[/b] · ↑↓ the format · Tab the file · Enter writes")
            options = [Option(f"[b]{name:<12}[/b] {escape(summary)}", id=name) for name, summary in FORMATS.items()]
            yield OptionList(*options, id="export-formats", compact=True)
            yield Input(id="export-path", compact=True)
            yield Static("GPUs · fsdp2 zero2 zero3 ddp · offload none optimizer all:", id="export-sharding-label")
            yield Input("2 fsdp2 none", id="export-sharding", compact=True)
            yield Static("[dim]Esc closes[/]", id="export-problem")
            with VerticalScroll(id="export-outcome"):
                yield Static(id="export-said")

    def on_mount(self) -> None:
        formats = self.query_one("#export-formats", OptionList)
        formats.highlighted = 0
        self._suggest("ftwizard")
        self._show_sharding(False)
        formats.focus()

    def _show_sharding(self, shown: bool) -> None:
        """The GPU count and sharding line, for the accelerate export only."""
        for widget in self.query("#export-sharding-label, #export-sharding"):
            widget.display = shown

    @property
    def chosen(self) -> str:
        formats = self.query_one("#export-formats", OptionList)
        option = formats.get_option_at_index(formats.highlighted or 0)
        return str(option.id)

    def _suggest(self, to: str) -> None:
        box = self.query_one("#export-path", Input)
        if box.value in ("", self._suggested):
            path = self.folder / default_export_name(self.stem, to)
            self._suggested = box.value = str(_shortest(path))

    @on(OptionList.OptionHighlighted, "#export-formats")
    def _format_moved(self, event: OptionList.OptionHighlighted) -> None:
        self._suggest(str(event.option.id))
        self._show_sharding(event.option.id == "accelerate")

    @on(OptionList.OptionSelected, "#export-formats")
    @on(Input.Submitted, "#export-path, #export-sharding")
    def _write_asked(self) -> None:
        to = self.chosen
        sharding: Sharding | None = None
        try:
            typed = self.query_one("#export-path", Input).value
            path = save_target(typed, default_export_name(self.stem, to), export_suffixes(to))
            if to == "accelerate":
                sharding = parse_sharding(self.query_one("#export-sharding", Input).value, self.config.method)
        except UserError as exc:
            self._problem(str(exc))
            return
        if path.exists():
            question = f"{path.name} exists. Replace it?"
            detail = f"{path.resolve()} will be overwritten with the {to} export."
            confirmed = ConfirmScreen(question, detail)
            self.app.push_screen(confirmed, lambda yes: self.export(to, path, sharding) if yes else None)
            return
        self.export(to, path, sharding)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def export(self, to: str, path: Path, sharding: Sharding | None = None) -> None:
        """Render (the dataset's first rows are read to detect its format) and write, off the event loop."""
        self.app.call_from_thread(self._problem, f"writing the {to} export…", style="dim")
        try:
            export = render_export(self.config, to, self.source_name, path, sharding)
            written = write_export(export)
        except UserError as exc:
            self.app.call_from_thread(self._problem, str(exc))
            return
        except Exception as exc:
            self.app.call_from_thread(self._problem, failure_text(exc))
            return
        self.app.call_from_thread(self._written, to, export, written)

    def _written(self, to: str, export: ExportFile, written: list[str]) -> None:
        self.written = export.path.resolve()
        self._problem(f"wrote {' and '.join(written)} ({to}) · Esc closes", style="green")
        self.query_one("#export-said", Static).update(_outcome(export))

    def _problem(self, text: str, style: str = "red") -> None:
        self.query_one("#export-problem", Static).update(f"[{style}]{escape(text)}[/]")

    def action_close(self) -> None:
        self.dismiss(self.written)


def _shortest(path: Path) -> Path:
    """A suggested path relative to the working folder when it lies inside it (short enough to read)."""
    cwd = Path.cwd()
    return path.relative_to(cwd) if path.is_relative_to(cwd) else path


def _outcome(export: ExportFile) -> Group:
    """Where to run it and the command, then the notes and what was not translated, each item hanging."""
    where = Table.grid(padding=(0, 1))
    where.add_row("Run it from", Text(str(export.path.parent.resolve())))
    where.add_row("", Text(export.command, style="bold"))
    for note in export.notes:
        where.add_row(Text("note", style="yellow"), Text(note))
    if not export.untranslated:
        return Group(where)
    items = Table.grid(padding=(0, 1))
    for item in export.untranslated:
        items.add_row(" -", Text(item))
    heading = Text.assemble(("Not translated", "bold"), (" (the file lists these too)", "dim"))
    return Group(where, heading, items)
