"""One chat as two conversations sharing the user's turns: the tuned model's answers and the base model's.

Each side is sent its own history (the prompts with its own answers), so the base never sees what the tuned
model said. A long history keeps its newest turns within HISTORY_CHARS; the child trims further to the
model's context.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tuiapp.core.chat.protocol import MAX_MESSAGE_CHARS, MAX_MESSAGES, Which
from tuiapp.core.user_error import UserError

HISTORY_CHARS = 48_000  # of earlier turns sent with a new prompt
AnswerState = Literal["waiting", "streaming", "done", "stopped", "failed"]


@dataclass
class Answer:
    """One side's answer to one prompt, as it streams in."""

    text: str = ""
    state: AnswerState = "waiting"
    note: str = ""  # "42 tokens · 1.3 s", or the error


@dataclass
class Exchange:
    """A prompt and the answers of each side that was asked."""

    prompt: str
    answers: dict[str, Answer] = field(default_factory=dict)


def check_prompt(text: str) -> str:
    """The prompt as sent: stripped, not empty, within the message cap."""
    text = text.strip()
    if not text:
        raise UserError("type a message first")
    if len(text) > MAX_MESSAGE_CHARS:
        raise UserError(f"the message has {len(text):,} characters: keep it under {MAX_MESSAGE_CHARS:,}")
    return text


class Conversation:
    """The exchanges so far; the caller adds a prompt, then feeds each side's answer as it streams."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    def ask(self, prompt: str, sides: tuple[Which, ...]) -> Exchange:
        exchange = Exchange(check_prompt(prompt), {side: Answer() for side in sides})
        self.exchanges.append(exchange)
        return exchange

    def clear(self) -> None:
        self.exchanges.clear()

    def messages_for(self, side: Which, system_prompt: str = "") -> list[dict[str, str]]:
        """What `side` is sent for the last prompt: the system prompt, its own earlier turns, the prompt."""
        if not self.exchanges:
            raise UserError("there is no prompt to answer yet")
        *earlier, last = self.exchanges
        history: list[dict[str, str]] = []
        budget = HISTORY_CHARS
        for exchange in reversed(earlier):
            answer = exchange.answers.get(side)
            if answer is None or not answer.text or answer.state == "failed":
                continue  # a turn this side never answered is left out of its history
            budget -= len(exchange.prompt) + len(answer.text)
            if budget < 0 or len(history) + 4 > MAX_MESSAGES:
                break
            history[:0] = [
                {"role": "user", "content": exchange.prompt},
                {"role": "assistant", "content": answer.text.strip()[:MAX_MESSAGE_CHARS]},
            ]
        system = [{"role": "system", "content": system_prompt}] if system_prompt.strip() else []
        return [*system, *history, {"role": "user", "content": last.prompt}]
