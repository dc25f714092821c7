"""The rich console the commands print with: a reader that leaves early ends the command like any other."""

from __future__ import annotations

from typing import Any

from rich.console import Console


class OutConsole(Console):
    """A rich Console whose closed pipe raises BrokenPipeError for `run_safely` (rich itself exits 1)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def out_console(**options: Any) -> Console:
    """A console on stdout (rich's options: `highlight=False`, `stderr=True`, ...)."""
    return OutConsole(**options)
