"""Messages any screen may send up to the app (the app owns saving, launching and the runs)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig


@dataclass
class SaveConfigRequested(Message):
    """Save this config: the app asks for the name and folder (suggesting one) and never overwrites unasked."""

    config: FTConfig


@dataclass
class FinishRequested(Message):
    """Open the Finish screen (merge, GGUF, chat, push) for this run."""

    run_dir: Path
    in_wizard: bool = False  # the wizard's last step (breadcrumb and step title) rather than a run opened alone


@dataclass
class ExportRequested(Message):
    """Export this config for another tool: the app opens the Export dialog, suggesting the save folder."""

    config: FTConfig
    stem: str = ""  # the suggested file's stem (default: the saved config's, else the model and method)
    source_name: str = ""  # what the export's header says it came from (default: the saved config's file)
