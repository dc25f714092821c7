"""Turn rows of any detected format into the rows TRL's trainers take natively for a task.

SFT gets conversational `messages` (messages, ShareGPT), conversational prompt/completion (Alpaca, so only
the answer carries loss), prompt/completion as given, or `text`. DPO and ORPO get prompt/chosen/rejected
(an implicit prompt is split off the shared start of chosen and rejected). KTO gets prompt/completion/label
(preference pairs are unpaired into one good and one bad row). GRPO gets a prompt plus the extra columns its
reward functions read. A row that cannot be converted is reported, with where it came from and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from tuiapp.core.config.choices import TASK_FORMATS
from tuiapp.core.data.formats import apply_columns, as_label, is_messages, not_fitting, row_format
from tuiapp.core.data.records import DataError, Record, SkippedRow
from tuiapp.core.data.shorten import brief

SHAREGPT_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "chatgpt": "assistant",
    "bard": "assistant",
    "bing": "assistant",
    "model": "assistant",
    "system": "system",
    "tool": "tool",
    "function_response": "tool",
    "observation": "tool",
}
ROLES = {"system", "developer", "user", "assistant", "tool"}
TURN_KEYS = ("role", "content", "tool_calls", "tool_call_id", "name", "thinking", "reasoning_content")
# Extra columns GRPO passes to reward functions; TRL drops these names, so we rename or skip them. The second set
# are keyword arguments TRL 1.x passes reward functions itself: a column named so would fail the first reward
# call (prompts, completions) or be silently replaced by TRL's value.
GRPO_RESERVED = {"prompt", "completion", "completion_ids", "messages"}
GRPO_RESERVED |= {"prompts", "completions", "trainer_state", "log_extra", "log_metric", "environments"}


class RowProblem(ValueError):
    """One row cannot be converted; the message says why in a few words."""


def _text(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    if value is None or (isinstance(value, float) and value != value):  # missing, null or a NaN from a table
        raise RowProblem(f"no `{key}`")
    if isinstance(value, bool) or not isinstance(value, str | int | float):  # true/false is no text
        raise RowProblem(f"`{key}` is a {type(value).__name__}, not text")
    text = str(value)
    if not text.strip():
        raise RowProblem(f"empty `{key}`")
    return text


def _turn(turn: dict[str, Any], index: int) -> dict[str, Any]:
    role = turn.get("role")
    if not isinstance(role, str) or role not in ROLES:
        raise RowProblem(f"turn {index + 1} has role {brief(role)}; expected one of {', '.join(sorted(ROLES))}")
    out = {key: turn[key] for key in TURN_KEYS if turn.get(key) is not None}
    content = turn.get("content")
    if content is None and not turn.get("tool_calls"):
        raise RowProblem(f"turn {index + 1} ({role}) has no content")
    if content is not None and not isinstance(content, str | list):
        raise RowProblem(f"turn {index + 1} ({role}) content is a {type(content).__name__}, not text")
    if isinstance(content, list):
        content = _text_parts(content, index, role, bool(turn.get("tool_calls")))
    out["content"] = content if content is not None else ""
    return out


def _text_parts(parts: list[Any], index: int, role: str, has_tool_calls: bool) -> str:
    """Content given as parts ([{"type": "text", "text": ...}], the multimodal shape) joined into the text a
    text model's chat template renders (templates concatenate content as a string)."""
    if not all(isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str) for p in parts):
        raise RowProblem(
            f'turn {index + 1} ({role}) content is a list that is not all text parts ({{"type": "text", "text": '
            "...}); a text model reads text only"
        )
    if not parts and not has_tool_calls:
        raise RowProblem(f"turn {index + 1} ({role}) has no content")
    return "".join(part["text"] for part in parts)


def clean_messages(value: Any, key: str = "messages", needs_answer: bool = True) -> list[dict[str, Any]]:
    """Validated {role, content} turns; with `needs_answer`, at least one non-empty assistant turn."""
    if not is_messages(value):
        raise RowProblem(f"`{key}` is not a list of {{role, content}} turns")
    turns = [_turn(turn, i) for i, turn in enumerate(value)]
    if needs_answer and not any(
        t["role"] == "assistant" and (str(t["content"]).strip() or t.get("tool_calls")) for t in turns
    ):
        raise RowProblem(f"`{key}` has no non-empty assistant turn to learn from")
    return turns


def _sharegpt_messages(value: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if is_messages(value):
        return clean_messages(value, "conversations")
    turns = []
    for i, turn in enumerate(value):
        speaker = str(turn.get("from", "")).strip().lower()
        role = SHAREGPT_ROLES.get(speaker)
        if role is None:
            raise RowProblem(f"turn {i + 1} is from {brief(speaker)}; expected human, gpt or system")
        turns.append({"role": role, "content": turn.get("value")})
    return clean_messages(turns, "conversations")


def _text_or_messages(row: dict[str, Any], key: str, needs_answer: bool) -> Any:
    value = row.get(key)
    return clean_messages(value, key, needs_answer) if isinstance(value, list) else _text(row, key)


def _sft(row: dict[str, Any], fmt: str) -> list[dict[str, Any]]:
    if fmt == "messages":
        out = {"messages": clean_messages(row.get("messages"))}
        if row.get("tools"):
            out["tools"] = row["tools"]
        return [out]
    if fmt == "sharegpt":
        return [{"messages": _sharegpt_messages(row.get("conversations") or [])}]
    if fmt == "alpaca":
        instruction, extra = _text(row, "instruction"), row.get("input")
        question = f"{instruction}\n\n{extra}" if isinstance(extra, str) and extra.strip() else instruction
        system = row.get("system")
        prompt = [{"role": "system", "content": system}] if isinstance(system, str) and system.strip() else []
        prompt.append({"role": "user", "content": question})
        return [{"prompt": prompt, "completion": [{"role": "assistant", "content": _text(row, "output")}]}]
    if fmt == "prompt_completion":
        prompt = _ends_a_prompt(_text_or_messages(row, "prompt", needs_answer=False))
        completion = _text_or_messages(row, "completion", needs_answer=True)
        _same_kind(("prompt", prompt), ("completion", completion))
        return [{"prompt": prompt, "completion": completion}]
    return [{"text": _text(row, "text")}]


def _common_prefix(chosen: Any, rejected: Any) -> int:
    """How many leading turns chosen and rejected share, or for text how many characters up to the last space
    before they differ (the space stays with the answers, as TRL's `extract_prompt` keeps it)."""
    count = 0
    for a, b in zip(chosen, rejected, strict=False):
        if a != b:
            break
        count += 1
    if isinstance(chosen, str):
        count = max(chosen.rfind(" ", 0, count), 0)
    return count


def _ends_a_prompt(prompt: Any) -> Any:
    """The prompt, if it is text or turns that end where a model answers (TRL refuses a system turn last)."""
    if isinstance(prompt, list) and prompt[-1]["role"] not in ("user", "tool", "assistant"):
        raise RowProblem(f"`prompt` ends with a {prompt[-1]['role']} turn; it must end with the user's turn")
    return prompt


def _same_kind(first: tuple[str, Any], second: tuple[str, Any]) -> None:
    """Raise unless both values are text or both are message lists."""
    if isinstance(first[1], list) != isinstance(second[1], list):
        raise RowProblem(f"`{first[0]}` and `{second[0]}` mix plain text and message lists")


def preference_triple(row: dict[str, Any]) -> tuple[Any, Any, Any]:
    """(prompt, chosen, rejected), splitting an implicit prompt off the start chosen and rejected share.

    A text `prompt` next to message-list answers (UltraFeedback's layout) is the same prompt written out
    again: the answers' shared turns are used, or the text as one user turn when they share none.
    """
    chosen = _text_or_messages(row, "chosen", needs_answer=False)
    rejected = _text_or_messages(row, "rejected", needs_answer=False)
    _same_kind(("chosen", chosen), ("rejected", rejected))
    if chosen == rejected:
        raise RowProblem("`chosen` and `rejected` are identical")
    prompt = _text_or_messages(row, "prompt", needs_answer=False) if row.get("prompt") is not None else None
    if prompt is not None and not (isinstance(prompt, str) and isinstance(chosen, list)):
        _same_kind(("prompt", prompt), ("chosen", chosen))
        return _ends_a_prompt(prompt), chosen, rejected
    shared = _common_prefix(chosen, rejected)
    if isinstance(chosen, list):
        while shared and chosen[shared - 1]["role"] == "assistant":
            shared -= 1  # the prompt ends before the answers start
        if not shared and prompt is not None:
            return [{"role": "user", "content": prompt}], chosen, rejected
        if not shared:
            raise RowProblem("`chosen` and `rejected` share no prompt turns and there is no `prompt`")
        if chosen[shared - 1]["role"] == "system":
            raise RowProblem(
                f"`chosen` and `rejected` differ at turn {shared + 1}, before their answers: "
                "they are not two answers to one prompt"
            )
    prompt, chosen, rejected = chosen[:shared], chosen[shared:], rejected[shared:]
    for name, answer in (("chosen", chosen), ("rejected", rejected)):
        if not answer:
            raise RowProblem(f"`{name}` has no answer after the prompt it shares with the other")
    return prompt, chosen, rejected


def _kto(row: dict[str, Any], fmt: str) -> list[dict[str, Any]]:
    if fmt == "preference":
        prompt, chosen, rejected = preference_triple(row)
        return [
            {"prompt": prompt, "completion": chosen, "label": True},
            {"prompt": prompt, "completion": rejected, "label": False},
        ]
    label = as_label(row.get("label"))
    if label is None:
        raise RowProblem(f"`label` is {brief(row.get('label'))}; expected true or false")
    prompt = _ends_a_prompt(_text_or_messages(row, "prompt", needs_answer=False))
    completion = _text_or_messages(row, "completion", needs_answer=False)
    _same_kind(("prompt", prompt), ("completion", completion))
    return [{"prompt": prompt, "completion": completion, "label": label}]


def _grpo(row: dict[str, Any], fmt: str) -> list[dict[str, Any]]:
    extras = {k: v for k, v in row.items() if k not in GRPO_RESERVED}
    if fmt == "messages":
        turns = clean_messages(row.get("messages"), needs_answer=False)
        last_user = max((i for i, t in enumerate(turns) if t["role"] == "user"), default=None)
        if last_user is None:
            raise RowProblem("`messages` has no user turn to prompt with")
        later = [str(t["content"]).strip() for t in turns[last_user + 1 :] if t["role"] == "assistant"]
        answer = " ".join(text for text in later if text)  # tool-call turns have no text
        if answer:
            extras.setdefault("reference_completion", answer)
        return [{"prompt": turns[: last_user + 1], **extras}]
    prompt = _text_or_messages(row, "prompt", needs_answer=False)
    if fmt == "prompt_completion" and row.get("completion") is not None:
        extras.setdefault("reference_completion", row["completion"])
    return [{"prompt": prompt, **extras}]


def convert_row(row: dict[str, Any], fmt: str, task: str) -> list[dict[str, Any]]:
    """The TRL-native rows (usually one) for one source row already in `fmt`; raises RowProblem."""
    found = row_format(row)
    fits = found == fmt or (fmt == "prompt_completion" and found == "kto") or (fmt == "prompt_only" and "prompt" in row)
    if not fits:
        raise RowProblem(f"looks like {found}, not {fmt}" if found else not_fitting(row, fmt))
    if task in ("dpo", "orpo"):
        return [dict(zip(("prompt", "chosen", "rejected"), preference_triple(row), strict=True))]
    if task == "kto":
        return _kto(row, fmt)
    if task == "grpo":
        return _grpo(row, fmt)
    return _sft(row, fmt)


# The task a format trains when the user has not chosen one.
FORMAT_TASKS = {"preference": "dpo", "kto": "kto", "prompt_only": "grpo"}


def task_for_format(fmt: str) -> str:
    """The task data in `fmt` trains by default: DPO for pairs, KTO, GRPO for prompts, else SFT."""
    return FORMAT_TASKS.get(fmt, "sft")


def check_task_format(fmt: str, task: str) -> None:
    """Raise a DataError naming the tasks that fit when `task` cannot train on `fmt`."""
    if fmt not in TASK_FORMATS[task]:
        fits = sorted(t for t, formats in TASK_FORMATS.items() if fmt in formats)
        raise DataError(
            f"{fmt} data cannot train task {task} (it takes {', '.join(f for f in TASK_FORMATS[task] if f != 'auto')})"
            f"; choose task {' or '.join(fits)}, or pick another format with --format"
        )


def convert_records(
    records: Iterable[Record], fmt: str, task: str, columns: dict[str, str] | None = None
) -> Iterator[Record | SkippedRow]:
    """Converted rows as Records, and a SkippedRow (where + why) for each row that cannot be converted."""
    check_task_format(fmt, task)
    for record in records:
        try:
            rows = convert_row(apply_columns(record.data, columns or {}), fmt, task)
        except RowProblem as problem:
            yield SkippedRow(record.where, str(problem))
            continue
        for row in rows:
            yield Record(row, record.where)


# The source columns each format's conversion reads (GRPO reads every column not in GRPO_RESERVED as well).
READ_COLUMNS: dict[str, frozenset[str]] = {
    "messages": frozenset({"messages", "tools"}),
    "sharegpt": frozenset({"conversations"}),
    "alpaca": frozenset({"instruction", "input", "output", "system"}),
    "prompt_completion": frozenset({"prompt", "completion"}),
    "text": frozenset({"text"}),
    "preference": frozenset({"prompt", "chosen", "rejected"}),
    "kto": frozenset({"prompt", "completion", "label"}),
    "prompt_only": frozenset({"prompt"}),
}


def unused_columns(columns: Iterable[str], fmt: str, task: str) -> list[str]:
    """The columns (after renames) that training on `fmt` rows for `task` leaves out, in their order."""
    used = READ_COLUMNS.get(fmt, frozenset())
    if task == "grpo":  # the others go to the reward functions
        return [c for c in columns if c in GRPO_RESERVED and c not in used | {"completion", "messages"}]
    return [c for c in columns if c not in used]
