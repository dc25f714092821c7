"""Count tokens per row in batches, the way the trainer will see each row, with progress reports."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any

from tuiapp.core.data.records import DataError
from tuiapp.core.data.shorten import shorten

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

Progress = Callable[[int], None]


def _render(tokenizer: PreTrainedTokenizerBase, messages: list[dict], generation_prompt: bool = False) -> str:
    try:
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)
    except Exception as exc:  # a template is user code: Jinja errors and raise_exception() land here
        raise DataError(f"the chat template cannot render a row: {shorten(str(exc), 300)}") from None


def row_texts(tokenizer: PreTrainedTokenizerBase, row: dict[str, Any]) -> list[str]:
    """The full sequences a row becomes (two for preference pairs), rendered as the trainer would."""
    eos = tokenizer.eos_token or ""
    if "messages" in row:
        return [_render(tokenizer, row["messages"])]
    if "text" in row:
        return [row["text"] + eos]
    prompt = row.get("prompt")
    answers = [row[key] for key in ("chosen", "rejected", "completion") if key in row]
    if not answers:  # prompt-only: the prompt is the whole input
        return [_render(tokenizer, prompt, generation_prompt=True) if isinstance(prompt, list) else str(prompt)]
    if isinstance(answers[0], list):
        return [_render(tokenizer, (prompt or []) + answer) for answer in answers]
    return [f"{prompt or ''}{answer}{eos}" for answer in answers]


def _is_conversational(row: dict[str, Any]) -> bool:
    return any(isinstance(row.get(key), list) for key in ("messages", "prompt", "completion", "chosen"))


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def count_lengths(
    tokenizer: PreTrainedTokenizerBase,
    rows: Iterable[dict[str, Any]],
    *,
    batch_size: int = 1000,
    on_progress: Progress | None = None,
) -> list[int]:
    """Tokens per row (the longer sequence of a preference pair), tokenized in batches by the fast tokenizer."""
    lengths: list[int] = []
    for batch in _batches(rows, batch_size):
        groups = [row_texts(tokenizer, row) for row in batch]
        texts = [text for group in groups for text in group]
        # Rendered templates already hold BOS & co; plain strings get them from the tokenizer, as in TRL.
        special = not _is_conversational(batch[0])
        encoded = tokenizer(texts, add_special_tokens=special, return_attention_mask=False)["input_ids"]
        position = 0
        for group in groups:
            lengths.append(max(len(ids) for ids in encoded[position : position + len(group)]))
            position += len(group)
        if on_progress:
            on_progress(len(lengths))
    return lengths
