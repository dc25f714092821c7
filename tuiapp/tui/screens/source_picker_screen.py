"""A modal file tree for choosing a local dataset file; `s` jumps to the bundled samples."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Static

from tuiapp.core.data.samples import samples_dir
from tuiapp.core.data.sources import is_supported


class DatasetTree(DirectoryTree):
    """Folders and dataset files only; hidden entries left out."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if not p.name.startswith(".") and (p.is_dir() or is_supported(p))]


class SourcePickerScreen(ModalScreen[str | None]):
    """Dismisses with the chosen file or folder path, or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("s", "samples", "Bundled samples"),
        Binding("h", "home", "Current folder"),
        Binding("f", "folder", "Use this folder"),
    ]

    def __init__(self, start: Path | None = None) -> None:
        super().__init__()
        self._start = start or Path.cwd()

    def compose(self) -> ComposeResult:
        with Vertical(id="source-picker"):
            yield Static("[b]Choose a dataset file[/b]  Enter opens · f uses a folder · s samples · h here")
            yield DatasetTree(self._start, id="source-tree")

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        self.dismiss(str(event.path))

    def action_folder(self) -> None:
        node = self.query_one(DatasetTree).cursor_node
        if node is not None and node.data is not None and node.data.path.is_dir():
            self.dismiss(str(node.data.path))

    def action_samples(self) -> None:
        self.query_one(DatasetTree).path = samples_dir()

    def action_home(self) -> None:
        self.query_one(DatasetTree).path = self._start

    def action_cancel(self) -> None:
        self.dismiss(None)
