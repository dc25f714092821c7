"""Tell a dataset's row format from its columns, with a confidence, an explanation and mapping hints.

Detection looks at a sample of rows (dicts, after the user's column renames). Each row gets the one format
its keys and value shapes fit; the format most rows fit wins, and the share of rows that fit it is the
confidence. Rows of another format in the same sample are reported as a problem (mixed formats).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tuiapp.core.data.records import DataError
from tuiapp.core.data.shorten import brief, name_list, shorten

COLUMNS_SHOWN = 200  # column names an inspection event carries (each shortened)

# What each format needs, in words, for explanations and error messages.
FORMAT_SHAPES: dict[str, str] = {
    "messages": "a `messages` list of {role, content} turns (OpenAI style)",
    "sharegpt": "a `conversations` list of {from, value} turns (ShareGPT)",
    "alpaca": "`instruction` and `output` (and optional `input`) (Alpaca)",
    "prompt_completion": "`prompt` and `completion`",
    "text": "one `text` column of plain text",
    "preference": "`chosen` and `rejected` (and usually `prompt`) (preference pairs)",
    "kto": "`prompt`, `completion` and a true/false `label` (KTO)",
    "prompt_only": "only a `prompt` (and extra columns such as `answer` for reward functions)",
}

# The columns each format cannot do without, in the order messages name them.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "messages": ("messages",),
    "sharegpt": ("conversations",),
    "alpaca": ("instruction", "output"),
    "prompt_completion": ("prompt", "completion"),
    "text": ("text",),
    "preference": ("chosen", "rejected"),
    "kto": ("prompt", "completion", "label"),
    "prompt_only": ("prompt",),
}

# Common column names in the wild and the name each format expects, offered as `--map` suggestions.
SYNONYMS: dict[str, str] = {
    "question": "instruction",
    "query": "instruction",
    "instructions": "instruction",
    "context": "input",
    "answer": "output",
    "response": "output",
    "output_text": "output",
    "target": "output",
    "conversation": "messages",
    "dialog": "messages",
    "dialogue": "messages",
    "chat": "messages",
    "turns": "messages",
    "content": "text",
    "document": "text",
    "body": "text",
    "input_text": "prompt",
    "source": "prompt",
    "good": "chosen",
    "preferred": "chosen",
    "bad": "rejected",
    "dispreferred": "rejected",
}


def apply_columns(data: dict[str, Any], columns: dict[str, str]) -> dict[str, Any]:
    """The row with the user's renames ({name in file: expected name}) applied; other keys unchanged."""
    if not columns:
        return data
    return {columns.get(key, key): value for key, value in data.items()}


def _turns(value: Any, role_key: str, content_key: str) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(turn, dict) and role_key in turn and content_key in turn for turn in value)
    )


def is_messages(value: Any) -> bool:
    """A non-empty list of {role, content} dicts."""
    return _turns(value, "role", "content")


LABEL_WORDS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


def as_label(value: Any) -> bool | None:
    """A KTO label as a bool (true/false, 1/0, yes/no, as CSV files write them), or None if it is not one."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        return LABEL_WORDS.get(value.strip().lower())
    return None


def _is_text_or_messages(value: Any) -> bool:
    return isinstance(value, str) or is_messages(value)


def row_format(row: dict[str, Any]) -> str | None:
    """The one format this row's keys and value shapes fit, or None."""
    if not isinstance(row, dict):
        return None
    if "messages" in row and is_messages(row["messages"]):
        return "messages"
    if "conversations" in row and (_turns(row["conversations"], "from", "value") or is_messages(row["conversations"])):
        return "sharegpt"
    if "chosen" in row and "rejected" in row:
        return "preference" if _is_text_or_messages(row["chosen"]) and _is_text_or_messages(row["rejected"]) else None
    if "prompt" in row and "completion" in row:
        if "label" in row:
            return "kto" if as_label(row["label"]) is not None else None
        return "prompt_completion" if _is_text_or_messages(row["completion"]) else None
    if "instruction" in row and "output" in row:
        return "alpaca"
    if "text" in row and isinstance(row["text"], str):
        return "text"
    if "prompt" in row and _is_text_or_messages(row["prompt"]):
        return "prompt_only"
    return None


@dataclass(frozen=True)
class Detection:
    """The format most sample rows fit, how sure we are, why, and what looks wrong."""

    format: str | None
    confidence: float
    explanation: str
    problems: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "confidence": self.confidence,
            "explanation": self.explanation,
            "problems": self.problems,
            "counts": self.counts,
            "columns": [shorten(c) for c in self.columns[:COLUMNS_SHOWN]],
            "suggestions": self.suggestions,
        }


def _columns(rows: Sequence[Any]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        if isinstance(row, dict):
            seen.update(dict.fromkeys(str(key) for key in row))
    return list(seen)


def mapping_suggestions(columns: Sequence[str]) -> list[str]:
    """`question=instruction`-style renames that would make these columns a known format."""
    present = {c.lower() for c in columns}
    out = []
    for column in columns:
        target = SYNONYMS.get(column.lower())
        if target and target not in present:
            out.append(f"{column}={target}")
    return out


def missing_fields(columns: Sequence[str], fmt: str) -> list[str]:
    """The columns `fmt` needs that are not among `columns`."""
    return [name for name in REQUIRED_FIELDS[fmt] if name not in columns]


def closest_format(columns: Sequence[str]) -> tuple[str, list[str]] | None:
    """(format, its missing columns) for the format whose needed columns are most nearly present, or None.

    Only formats that are missing something and have at least one of their columns count: a row that has
    every needed column but still fits no format has values of the wrong shape, not missing fields.
    """
    ranked = []
    for fmt, needed in REQUIRED_FIELDS.items():
        missing = missing_fields(columns, fmt)
        if missing and len(missing) < len(needed):
            ranked.append((len(missing) / len(needed), len(missing), fmt, missing))
    if not ranked:
        return None
    _, _, fmt, missing = min(ranked)
    return fmt, missing


def missing_hint(columns: Sequence[str]) -> str:
    """Why rows with these columns fit no format: the fields the nearest format misses, or a wrong shape."""
    complete = [fmt for fmt in REQUIRED_FIELDS if not missing_fields(columns, fmt)]
    if complete:
        fmt = complete[0]
        return f"; the rows have {_names(REQUIRED_FIELDS[fmt])}, but not in the shape {fmt} needs: {FORMAT_SHAPES[fmt]}"
    closest = closest_format(columns)
    if closest is None:
        return ""
    fmt, missing = closest
    return f"; they look like {fmt} rows without {_names(missing)} ({fmt} needs {_names(REQUIRED_FIELDS[fmt])})"


def not_fitting(row: dict[str, Any], fmt: str) -> str:
    """Why a row does not fit `fmt`: the columns it misses, or the shape its columns should have."""
    missing = missing_fields([str(key) for key in row], fmt)
    needed = _names(REQUIRED_FIELDS[fmt])
    if fmt == "kto" and not missing and as_label(row["label"]) is None:
        return f"`label` is {brief(row['label'])}; KTO labels are true or false (or 1/0, yes/no)"
    if missing:
        return f"no {_names(missing)} ({fmt} rows need {needed})"
    return f"has {needed}, but not in the shape {fmt} needs: {FORMAT_SHAPES[fmt]}"


def _names(names: Sequence[str]) -> str:
    quoted = [f"`{name}`" for name in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def _rows_word(count: int, total: int) -> str:
    return f"all {total} sampled rows" if count == total else f"{count} of {total} sampled rows"


def detect_format(rows: Sequence[Any]) -> Detection:
    """Detect the format of a sample of rows (dicts with the user's renames already applied)."""
    total = len(rows)
    columns = _columns(rows)
    if not total:
        return Detection(None, 0.0, "there are no rows to look at")
    counts = Counter(row_format(row) for row in rows)
    known = Counter({fmt: n for fmt, n in counts.items() if fmt is not None})
    suggestions = mapping_suggestions(columns)
    if not known:
        hint = f"; try --map {' '.join(suggestions)}" if suggestions else "; rename columns with --map name=expected"
        shown = name_list(columns) or "none"
        return Detection(
            None,
            0.0,
            f"no known format fits the columns {shown}{missing_hint(columns)}{hint}. Known formats: "
            + "; ".join(f"{name}: {shape}" for name, shape in FORMAT_SHAPES.items()),
            counts={},
            columns=columns,
            suggestions=suggestions,
        )
    fmt, hits = known.most_common(1)[0]
    problems = []
    others = [(name, n) for name, n in known.most_common() if name != fmt]
    if others:
        listed = ", ".join(f"{n} look like {name}" for name, n in others)
        problems.append(
            f"mixed formats: {hits} rows look like {fmt} but {listed}; rows that do not fit {fmt} will be dropped"
        )
    if counts.get(None):
        misfit = next(row for row in rows if row_format(row) is None)
        why = not_fitting(misfit, fmt) if isinstance(misfit, dict) else "not an object"
        problems.append(f"{counts[None]} sampled rows fit no format (e.g. {why}); they will be dropped")
    explanation = f"{_rows_word(hits, total)} have {FORMAT_SHAPES[fmt]}"
    return Detection(
        fmt,
        hits / total,
        explanation,
        problems=problems,
        counts={name: n for name, n in known.items()},
        columns=columns,
        suggestions=suggestions,
    )


def check_renames(columns: dict[str, str], rows: Sequence[dict[str, Any]], source: str) -> None:
    """Refuse a rename ({name in file: expected}) that no sampled row has a column for, or one that would
    overwrite a column a row already has: either would silently train on something else than asked."""
    if not columns:
        return
    present: dict[str, None] = {}
    for row in rows:
        present.update(dict.fromkeys(str(key) for key in row))
    unknown = [f"{name}={target}" for name, target in columns.items() if name not in present]
    if unknown:
        raise DataError(
            f"{shorten(source)}: the column rename {name_list(unknown)} names no column of the first "
            f"{len(rows):,} rows (they have {name_list(present)}); fix the name (names are case-sensitive) "
            "in --map or dataset.columns, or remove the rename"
        )
    for row in rows:
        targets = Counter(target for name, target in columns.items() if name in row)
        for name, target in columns.items():
            if name not in row:
                continue
            if targets[target] > 1:
                clashing = [f"{n}={t}" for n, t in columns.items() if t == target and n in row]
                raise DataError(f"{shorten(source)}: the renames {name_list(clashing)} give two columns one name")
            if target in row and target not in columns:
                raise DataError(
                    f"{shorten(source)}: renaming `{shorten(name)}` to `{shorten(target)}` would replace the "
                    f"`{shorten(target)}` column the rows already have; rename that one too, or drop this rename"
                )
