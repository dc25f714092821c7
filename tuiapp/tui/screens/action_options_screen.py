"""Ask for an action's few options before it starts (merge's dtype, the GGUF's quantization, the Hub repo),
with what each choice means; dismisses with the options dict the action takes, or None when cancelled."""

from __future__ import annotations

import re
from typing import Any

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static

from tuiapp.core.runs.run_result import RunResult
from tuiapp.tui.widgets.state_checkbox import StateCheckbox

DTYPES = [("bf16 (Ampere and newer; what training used on GPU)", "bf16"), ("fp16 (older GPUs, most tools)", "fp16")]
QUANTS = [
    ("q8_0 · 8-bit, near lossless, no extra tool", "q8_0"),
    ("f16 · 16-bit, the largest", "f16"),
    ("bf16 · 16-bit bfloat", "bf16"),
    ("q4_k_m · 4-bit, the popular one (needs llama-quantize)", "q4_k_m"),
    ("q5_k_m · 5-bit (needs llama-quantize)", "q5_k_m"),
    ("q6_k · 6-bit (needs llama-quantize)", "q6_k"),
]
REPO_NAME = re.compile(r"^([A-Za-z0-9][\w.-]{0,95}/)?[A-Za-z0-9][\w.-]{0,95}$")
TITLES = {"merge": "Merge the adapter", "gguf": "Export GGUF for llama.cpp and Ollama", "push": "Push to the Hub"}


def push_choices(result: RunResult) -> list[tuple[str, str]]:
    """What can be pushed: the adapter always, the merged model and the GGUF once they exist."""
    adapter = "adapter (small; loads on the base with PEFT)" if result.method != "full" else "the model (final/)"
    choices = [(adapter, "adapter")]
    if result.merged is not None:
        choices.append(("merged model (standalone, 16-bit)", "merged"))
    if result.gguf_files:
        choices.append(("GGUF + Ollama Modelfile", "gguf"))
    return choices


class ActionOptionsScreen(ModalScreen[dict[str, Any] | None]):
    """Tab moves between fields, Enter on Start (or in the repo box) begins, Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, action: str, result: RunResult) -> None:
        super().__init__()
        self.action, self.result = action, result

    def compose(self) -> ComposeResult:
        with Vertical(id="action-options-box"):
            yield Static(f"[b]{escape(TITLES[self.action])}[/b] · {escape(self.result.name)}")
            if self.action == "merge":
                yield Static("Weights in", classes="option-label")
                yield Select(DTYPES, value="bf16", allow_blank=False, id="option-dtype", compact=True)
                yield Static(
                    f"[dim]Into {escape(self.result.name)}/merged (replaced if it is there). A QLoRA adapter is "
                    "merged onto the base loaded in 16-bit, not into 4-bit weights.[/]",
                    classes="option-note",
                )
            elif self.action == "gguf":
                yield Static("Quantization", classes="option-label")
                yield Select(QUANTS, value="q8_0", allow_blank=False, id="option-quant", compact=True)
                yield Static(
                    "[dim]Merges first (or reuses merged/), converts with llama.cpp's own converter, writes an "
                    "Ollama Modelfile beside it. Without llama-quantize a k-quant ends at the f16 file, with the "
                    "command that finishes it.[/]",
                    classes="option-note",
                )
            else:
                yield Static("Repository (name or user/name; private unless ticked below)", classes="option-label")
                yield Input(self.result.name[:96], placeholder="your-name/model-name", id="option-repo")
                yield Static("What to upload", classes="option-label")
                choices = push_choices(self.result)
                yield Select(choices, value=choices[0][1], allow_blank=False, id="option-what", compact=True)
                yield StateCheckbox("public", False, id="option-public")
                yield Static(
                    "[dim]The token comes from HF_TOKEN or `hf auth login`; it is never written anywhere.[/]",
                    classes="option-note",
                )
            yield Static("", id="option-problem")
            with Horizontal(id="option-buttons"):
                yield Button("Start", variant="primary", id="option-start", compact=True)
                yield Button("Cancel", id="option-cancel", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "option-start":
            self._start()
        else:
            self.dismiss(None)

    def on_input_submitted(self) -> None:
        self._start()

    def _start(self) -> None:
        options = self.options()
        if options is not None:
            self.dismiss(options)

    def options(self) -> dict[str, Any] | None:
        """The options as typed, or None (with the problem shown) when one is not valid."""
        if self.action == "merge":
            return {"dtype": self.query_one("#option-dtype", Select).value, "device": "auto", "out": None}
        if self.action == "gguf":
            quant = self.query_one("#option-quant", Select).value
            return {"quant": quant, "dtype": "bf16", "out": None, "llama_quantize": None}
        repo = self.query_one("#option-repo", Input).value.strip()
        if not REPO_NAME.fullmatch(repo):
            self.query_one("#option-problem", Static).update(
                "[red]type a repository name: letters, digits, - _ . (up to 96), optionally after your-name/[/]"
            )
            self.query_one("#option-repo", Input).focus()
            return None
        what = self.query_one("#option-what", Select).value
        public = self.query_one("#option-public", StateCheckbox).value
        return {"repo": repo, "what": what, "private": not public, "endpoint": None}

    def action_cancel(self) -> None:
        self.dismiss(None)
