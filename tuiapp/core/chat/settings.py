"""Generation settings for the chat, each with bounds, shared by the protocol, the CLI and the Chat screen."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from tuiapp.core.user_error import UserError

SYSTEM_PROMPT_CHARS = 4000
# name -> (lowest, highest, what it does): the screen's settings form and the CLI flags show these.
BOUNDS: dict[str, tuple[float, float, str]] = {
    "max_new_tokens": (1, 4096, "the longest answer, in tokens"),
    "temperature": (0.0, 2.0, "randomness; 0 always picks the likeliest token (greedy)"),
    "top_p": (0.01, 1.0, "sample only from the likeliest tokens that add up to this share"),
    "repetition_penalty": (1.0, 2.0, "above 1 discourages repeating tokens already said"),
}


@dataclass(frozen=True)
class GenerationSettings:
    """How an answer is generated; out-of-bounds values are refused with a sentence saying the bounds."""

    max_new_tokens: int = 256
    temperature: float = 0.7
    top_p: float = 0.95
    repetition_penalty: float = 1.1
    system_prompt: str = ""

    def __post_init__(self) -> None:
        for name, (low, high, _) in BOUNDS.items():
            value = getattr(self, name)
            whole = name == "max_new_tokens"
            if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)):
                kind = "a whole number" if whole else "a number"
                raise UserError(f"{_words(name)} must be {kind}, not {str(value)[:40]!r}")
            if not low <= value <= high:  # NaN fails too
                raise UserError(f"{_words(name)} {value} is out of bounds: give {_figure(low)} to {_figure(high)}")
        if not isinstance(self.system_prompt, str):
            raise UserError("system_prompt must be text")
        if len(self.system_prompt) > SYSTEM_PROMPT_CHARS:
            raise UserError(
                f"the system prompt has {len(self.system_prompt):,} characters: keep it under {SYSTEM_PROMPT_CHARS:,}"
            )

    @property
    def greedy(self) -> bool:
        """Temperature 0 means greedy decoding: the same prompt always gets the same answer."""
        return self.temperature == 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> GenerationSettings:
        """Settings from a request's JSON object (missing fields take their defaults)."""
        if not isinstance(data, dict):
            raise UserError("settings must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(f"unknown setting(s) {', '.join(map(str, unknown))[:200]}: use {', '.join(sorted(known))}")
        return cls(**data)

    def with_text(self, name: str, text: str) -> GenerationSettings:
        """A copy with one field set from what a person typed ("0.7", "256"); UserError when it does not fit."""
        if name == "system_prompt":
            return replace(self, system_prompt=text.strip())
        if name not in BOUNDS:
            raise UserError(f"there is no setting {name!r}")
        cleaned = text.strip().replace("_", "")
        try:
            value: float = int(cleaned) if name == "max_new_tokens" else float(cleaned)
        except ValueError:
            kind = "a whole number" if name == "max_new_tokens" else "a number"
            raise UserError(f"{_words(name)}: {text.strip()[:40]!r} is not {kind}") from None
        return replace(self, **{name: value})

    def short(self) -> str:
        """The settings in a pane title: `t 0.7 · top-p 0.95 · rep 1.1 · max 256` (`greedy` at temperature 0)."""
        sampling = "greedy" if self.greedy else f"t {_figure(self.temperature)} · top-p {_figure(self.top_p)}"
        return f"{sampling} · rep {_figure(self.repetition_penalty)} · max {self.max_new_tokens}"


def _words(name: str) -> str:
    """`max_new_tokens` as a person reads it: `max new tokens`."""
    return name.replace("_", " ")


def _figure(value: float) -> str:
    return f"{value:g}"
