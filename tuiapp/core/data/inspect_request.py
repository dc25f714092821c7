"""What the dataset doctor is asked to look at: plain data shared by the CLI, the TUI and the worker."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from tuiapp.core.config.choices import DatasetFormat, Task
from tuiapp.core.data.records import DataError
from tuiapp.core.data.shorten import name_list, shorten

DEFAULT_MAX_LENGTH = 2048
STATS_ROW_LIMIT = 50_000  # token statistics look at this many rows at most (the result says so)


@dataclass(frozen=True)
class InspectRequest:
    """One inspection: the source, how to read it, and which tokenizer and max length to measure with."""

    source: str
    task: Task | None = None  # None: the task that fits the detected format (sft for most)
    format: DatasetFormat = "auto"
    columns: dict[str, str] = field(default_factory=dict)
    config_name: str | None = None
    split: str = "train"
    model: str | None = None
    chat_template: str | None = None
    trust_remote_code: bool = False
    max_length: int = DEFAULT_MAX_LENGTH
    micro_batch: int = 1
    grad_accum: int = 1
    row: int = 0
    skip_bad: bool = False
    dedupe: bool = False
    eval_size: float = 0.0
    seed: int = 42
    limit: int = STATS_ROW_LIMIT

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InspectRequest:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise DataError(f"unknown inspection setting(s): {name_list(unknown, quote='')}")
        return cls(**data)


def parse_mapping(pairs: list[str] | str | None) -> dict[str, str]:
    """`["question=instruction", "answer=output"]` or "question=instruction, answer=output" -> a rename dict."""
    if not pairs:
        return {}
    items = pairs.replace(",", " ").split() if isinstance(pairs, str) else pairs
    mapping: dict[str, str] = {}
    for item in items:
        name, sep, target = item.partition("=")
        if not sep or not name.strip() or not target.strip():
            raise DataError(
                f"bad column mapping {shorten(item)!r}: write it as name_in_file=expected_name, "
                "e.g. question=instruction"
            )
        name, target = name.strip(), target.strip()
        if name in mapping and mapping[name] != target:
            raise DataError(
                f"column {shorten(name)!r} is renamed twice ({shorten(name)}={shorten(mapping[name])} and "
                f"{shorten(name)}={shorten(target)}): keep one"
            )
        mapping[name] = target
    return mapping
