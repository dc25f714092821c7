"""Render a TRL-ready row through the tokenizer's chat template and mark the tokens that carry loss.

The marks follow what TRL 1.x's trainers do with the same row: SFT on `messages` trains on assistant
turns when the template marks them with `{% generation %}` (directly, or through TRL's patched
training template for known models) and on every token otherwise; prompt/completion trains on the
completion; preference rows train on the chosen and rejected answers; prompt-only rows (GRPO) carry no
loss because the completions are generated during training.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from tuiapp.core.data.chat_templates import standard_template
from tuiapp.core.data.records import DataError
from tuiapp.core.data.shorten import shorten

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

PREVIEW_CHARS = 6000  # a preview shows this much of a row's text (a 120x40 screen holds under 5,000)
PREVIEW_LINES = 200
PROBE = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Name a prime."},
    {"role": "assistant", "content": "Seven."},
    {"role": "user", "content": "Another?"},
    {"role": "assistant", "content": "Eleven."},
]


@dataclass(frozen=True)
class RenderedRow:
    """One row as the model sees it: text pieces, each one token, flagged when it carries loss.

    `pieces` stop at what a screen shows (`PREVIEW_CHARS` characters or `PREVIEW_LINES` lines);
    `hidden_chars` says how much of the text follows, and the counts cover the whole row.
    """

    pieces: list[tuple[str, bool]]
    tokens: int
    loss_tokens: int
    part: str = "row"  # "chosen" for preference rows: the rejected answer is rendered the same way
    hidden_chars: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TemplateReport:
    """How the tokenizer's chat template will be used, and what looks wrong with it."""

    source: str  # "tokenizer", "trl-training" or "standard:<name>"
    assistant_only: bool
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def prepare_template(tokenizer: PreTrainedTokenizerBase, override: str | None = None) -> TemplateReport:
    """Settle the template in place (a standard one when asked or when there is none) and check it."""
    from trl.chat_template_utils import get_training_chat_template, has_generation_markers

    notes: list[str] = []
    if override or not tokenizer.chat_template:
        name = override or "chatml"
        template = standard_template(name)
        missing = [t for t in template.special_tokens if t not in tokenizer.get_vocab()]
        if missing:
            tokenizer.add_special_tokens({"additional_special_tokens": missing})
            notes.append(f"adds {len(missing)} special token(s) {', '.join(missing)}: the embeddings grow to match")
        tokenizer.chat_template = template.template
        if template.end_of_turn != "{eos}" and tokenizer.eos_token != template.end_of_turn:
            tokenizer.eos_token = template.end_of_turn
            notes.append(f"sets the EOS token to {template.end_of_turn} so generation stops after a turn")
        why = "as asked" if override else "because the tokenizer has no chat template"
        notes.append(f"uses the standard {name!r} template {why}; the saved tokenizer will carry it")
        source = f"standard:{name}"
    else:
        source = "tokenizer"
        try:
            training = get_training_chat_template(tokenizer)
        except (ValueError, TypeError):  # TRL knows no training variant of this template
            training = None
        if training:
            tokenizer.chat_template = training
            source = "trl-training"
            notes.append("uses TRL's training variant of this model's template, which marks assistant turns")
    assistant_only = has_generation_markers(tokenizer.chat_template)
    if not assistant_only:
        notes.append("the template does not mark assistant turns, so conversations train on every token")
    return TemplateReport(source, assistant_only, notes, template_problems(tokenizer))


def template_problems(tokenizer: PreTrainedTokenizerBase) -> list[str]:
    """EOS handling and round trip: does a turn end on a stop token, and does the prompt end where the answer starts?"""
    problems = []
    try:
        full = tokenizer.apply_chat_template(PROBE, tokenize=False)
        prompt = tokenizer.apply_chat_template(PROBE[:-1], tokenize=False, add_generation_prompt=True)
    except Exception as exc:  # a template is user code: any Jinja error lands here
        return [f"the chat template fails on a plain conversation: {shorten(str(exc), 300)}"]
    if not full.startswith(prompt):
        problems.append(
            "the template does not round-trip: the prompt rendered with add_generation_prompt is not a prefix "
            "of the full conversation, so generation would start in the wrong place"
        )
    answer = full[len(prompt) :] if full.startswith(prompt) else full
    if not tokenizer.eos_token or tokenizer.eos_token not in answer:
        ends = answer.strip()[-20:]
        problems.append(
            f"an assistant turn ends with {ends!r}, not the EOS token {tokenizer.eos_token!r}: the model may not "
            "learn to stop; set the tokenizer's eos_token to the template's end-of-turn token"
        )
    return problems


def _merged(spans: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Sorted, disjoint (starts, ends) of the spans (the assistant mask gives one span per token)."""
    starts: list[int] = []
    ends: list[int] = []
    for lo, hi in sorted(span for span in spans if span[0] < span[1]):
        if ends and lo <= ends[-1]:
            ends[-1] = max(ends[-1], hi)
        else:
            starts.append(lo)
            ends.append(hi)
    return starts, ends


def _learns(offsets: list[tuple[int, int]], spans: list[tuple[int, int]], text_length: int) -> list[bool]:
    """Whether each token carries loss: its start lies in a span; an added special token (BOS never:
    nothing predicts it) when a span reaches the text's end. A binary search per token: linear overall."""
    starts, ends = _merged(spans)
    reaches_end = any(hi == text_length for _, hi in spans)
    marks = []
    for i, (start, end) in enumerate(offsets):
        if start == end:
            marks.append(i > 0 and reaches_end)
            continue
        k = bisect_right(starts, start) - 1
        marks.append(k >= 0 and start < ends[k])
    return marks


def _next_starts(offsets: list[tuple[int, int]]) -> list[int | None]:
    """For each token, where the next token that covers text starts (None after the last), in one pass."""
    following: list[int | None] = [None] * len(offsets)
    upcoming: int | None = None
    for i in range(len(offsets) - 1, -1, -1):
        following[i] = upcoming
        start, end = offsets[i]
        if start != end:
            upcoming = start
    return following


def _pieces(
    tokenizer: PreTrainedTokenizerBase,
    text: str,
    spans: list[tuple[int, int]],
    special: bool = False,
    part: str = "row",
) -> RenderedRow:
    """One (text, learns) piece per token, up to a screen's worth; `special` adds BOS & co as TRL does."""
    encoding = tokenizer(text, add_special_tokens=special, return_offsets_mapping=True)
    offsets, ids = encoding["offset_mapping"], encoding["input_ids"]
    marks = _learns(offsets, spans, len(text))
    following = _next_starts(offsets)
    pieces: list[tuple[str, bool]] = []
    shown = lines = reached = 0
    for i, (start, end) in enumerate(offsets):
        if shown >= PREVIEW_CHARS or lines >= PREVIEW_LINES:
            break
        if start == end:  # a special token the tokenizer added
            piece = tokenizer.convert_ids_to_tokens(ids[i])
        else:
            stop = following[i] if following[i] is not None else max(end, len(text))
            piece, reached = text[start:stop], stop
        pieces.append((piece, marks[i]))
        shown += len(piece)
        lines += piece.count("\n")
    hidden = len(text) - reached if len(pieces) < len(offsets) else 0
    return RenderedRow(pieces, len(offsets), sum(marks), part, hidden)


def _render(tokenizer: PreTrainedTokenizerBase, messages: list[dict], **kwargs: Any) -> str:
    try:
        return tokenizer.apply_chat_template(messages, tokenize=False, **kwargs)
    except Exception as exc:  # Jinja errors, raise_exception() in templates: the template's own message
        raise DataError(f"the chat template cannot render this row: {shorten(str(exc), 300)}") from None


def _assistant_spans(tokenizer: PreTrainedTokenizerBase, messages: list[dict], text: str) -> list[tuple[int, int]]:
    """Character spans of the assistant turns, from transformers' {% generation %} tracking."""
    out = tokenizer.apply_chat_template(
        messages, return_dict=True, return_assistant_tokens_mask=True, tokenizer_kwargs={"return_offsets_mapping": True}
    )
    return [tuple(span) for span, flag in zip(out["offset_mapping"], out["assistant_masks"], strict=True) if flag]


def render_row(tokenizer: PreTrainedTokenizerBase, row: dict[str, Any], assistant_only: bool) -> RenderedRow:
    """Render one row in a TRL form (messages, text, prompt/completion, preference, KTO, prompt-only)."""
    if "messages" in row:
        text = _render(tokenizer, row["messages"])
        spans = _assistant_spans(tokenizer, row["messages"], text) if assistant_only else [(0, len(text))]
        return _pieces(tokenizer, text, spans)
    if "text" in row:
        text = _with_eos(tokenizer, row["text"])
        return _pieces(tokenizer, text, [(0, len(text))], special=True)
    answer_key = "chosen" if "chosen" in row else "completion"
    if answer_key not in row:  # prompt-only: the trainer generates the completions
        prompt = _prompt_text(tokenizer, row["prompt"])
        return _pieces(tokenizer, prompt, [], special=isinstance(row["prompt"], str), part="prompt")
    prompt, full = _prompt_and_full(tokenizer, row.get("prompt"), row[answer_key])
    special = not isinstance(row[answer_key], list)
    return _pieces(tokenizer, full, [(len(prompt), len(full))], special=special, part=answer_key)


def _with_eos(tokenizer: PreTrainedTokenizerBase, text: str) -> str:
    eos = tokenizer.eos_token or ""
    return text if text.endswith(eos) else text + eos  # TRL appends EOS to plain text and completions


def _prompt_text(tokenizer: PreTrainedTokenizerBase, prompt: Any) -> str:
    return _render(tokenizer, prompt, add_generation_prompt=True) if isinstance(prompt, list) else str(prompt)


def _prompt_and_full(tokenizer: PreTrainedTokenizerBase, prompt: Any, answer: Any) -> tuple[str, str]:
    if isinstance(answer, list):  # conversational: the template renders prompt + answer turns
        prompt_messages = prompt or []
        prompt_text = _render(tokenizer, prompt_messages, add_generation_prompt=True) if prompt_messages else ""
        full = _render(tokenizer, prompt_messages + answer)
        if not full.startswith(prompt_text):
            raise DataError("the chat template renders the prompt differently on its own and before the answer")
        return prompt_text, full
    prompt_text = _prompt_text(tokenizer, prompt) if prompt is not None else ""
    return prompt_text, prompt_text + _with_eos(tokenizer, str(answer))
