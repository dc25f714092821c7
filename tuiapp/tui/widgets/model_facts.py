"""What a resolved model is: parameters, architecture, context, license and where its config came from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.reactive import reactive
from textual.widgets import Static

if TYPE_CHECKING:
    from tuiapp.core.models.resolve import ResolvedModel

SOURCES = {
    "local": "a local folder",
    "cache": "the Hugging Face cache",
    "catalogue": "ftwizard's offline catalogue",
    "hub": "the Hub (config.json only)",
}


def param_count(params: int) -> str:
    """1234567890 -> "1.23B"."""
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if params >= size:
            return f"{params / size:.2f}{unit}"
    return str(params)


class ModelFacts(Static):
    """A small panel that redraws when `model` changes; empty until a model is chosen."""

    model: reactive[ResolvedModel | None] = reactive(None, layout=True)

    def render(self) -> str:
        model = self.model
        if model is None:
            return "[dim]Choose a model: Enter looks it up, Tab completes, ↑/↓ move in the list.[/]"
        shape = model.shape
        moe = (
            f" · MoE {shape.num_experts} experts, {shape.num_experts_per_tok} active "
            f"({param_count(shape.active_params)} per token)"
            if shape.num_experts
            else ""
        )
        gated = {True: "[yellow]gated: accept its license on the Hub and set HF_TOKEN[/]", False: "open"}.get(
            model.gated, "gated: unknown"
        )
        lines = [
            f"[b]{shape.name}[/b]  {param_count(shape.total_params)} parameters{moe}",
            f"{shape.architecture} · {shape.num_layers} layers · hidden {shape.hidden_size} · "
            f"{shape.num_attention_heads} heads / {shape.num_key_value_heads} KV · vocab {shape.vocab_size:,}",
            f"context {model.context_length:,} tokens · license {model.license or 'unknown'} · {gated}",
            f"[dim]read from {SOURCES.get(model.source, model.source)}[/]",
        ]
        lines += [f"[dim]{note}[/]" for note in getattr(model, "notes", ())]
        return "\n".join(lines)
