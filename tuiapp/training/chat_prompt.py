"""Turn a conversation into the token ids the model is prompted with, as the run was trained.

A run that trained on conversations saved its chat template with the tokenizer (final/), so the prompt is
rendered through it with the generation prompt added. A run on plain text (dataset format `text`, or a
tokenizer without a template) continues text: the turns are joined with blank lines. Earlier turns are
dropped, oldest first, until the prompt and the answer fit the model's context.
"""

from __future__ import annotations

from typing import Any

from tuiapp.core.user_error import UserError

CHAT, PLAIN = "chat template", "plain text"


def prompt_mode(dataset_format: str | None, tokenizer: Any) -> str:
    """CHAT when the run trained through the tokenizer's chat template; PLAIN for text continuation."""
    if dataset_format == "text" or not getattr(tokenizer, "chat_template", None):
        return PLAIN
    return CHAT


def _render(tokenizer: Any, messages: list[dict[str, str]], mode: str) -> list[int]:
    if mode == PLAIN:
        text = "\n\n".join(m["content"] for m in messages)
        return tokenizer(text, add_special_tokens=True)["input_ids"]
    try:
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    except Exception as exc:  # a template is user code (Jinja): raise_exception() and friends land here
        if messages[0]["role"] == "system" and len(messages) > 1:
            # Some templates (Gemma's) refuse a system turn: fold it into the first user turn instead.
            first = {"role": "user", "content": f"{messages[0]['content']}\n\n{messages[1]['content']}"}
            return _render(tokenizer, [first, *messages[2:]], mode)
        raise UserError(f"the chat template cannot render this conversation: {str(exc)[:300]}") from None
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def prompt_ids(tokenizer: Any, messages: list[dict[str, str]], mode: str, room: int) -> tuple[list[int], int]:
    """The prompt's token ids, at most `room` long, and how many earlier turns were dropped to fit."""
    system = messages[:1] if messages[0]["role"] == "system" else []
    turns = messages[len(system) :]
    dropped = 0
    while True:
        ids = _render(tokenizer, [*system, *turns], mode)
        if len(ids) <= room:
            return ids, dropped
        if len(turns) <= 1:
            raise UserError(
                f"the prompt is {len(ids):,} tokens and only {max(room, 0):,} fit beside the answer",
                fix="shorten the message or the system prompt, or lower max new tokens",
            )
        cut = 2 if len(turns) > 2 else 1  # a user turn and its answer
        turns, dropped = turns[cut:], dropped + cut


def stop_token_ids(model: Any, tokenizer: Any) -> list[int]:
    """Every token that ends an answer: the generation config's EOS ids and the tokenizer's EOS."""
    found: list[int] = []
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for value in (configured, tokenizer.eos_token_id):
        for token in value if isinstance(value, list) else [value]:
            if isinstance(token, int) and token not in found:
                found.append(token)
    return found
