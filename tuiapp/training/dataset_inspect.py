"""The dataset doctor's whole run: read, detect, convert, clean, render a row, count tokens.

`inspect_dataset` reports through `emit` as it goes (plain dicts, one per event) so the CLI can draw a
progress bar and the TUI can fill its panels early. Run as `python -m tuiapp.training.dataset_inspect`
it reads one request (JSON) on stdin and writes one JSON event per line on stdout.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

from tuiapp.core.data.inspect_request import InspectRequest
from tuiapp.core.data.records import DataError, ReadReport, Record
from tuiapp.core.data.shorten import shorten
from tuiapp.core.data.token_stats import TokenStats
from tuiapp.core.user_error import UserError
from tuiapp.core.user_paths import user_path

Emit = Callable[[dict[str, Any]], None]
DETECT_SAMPLE = 200
PREVIEW_CHARS = 400
PREVIEW_ITEMS = 20  # list items and dict keys a preview keeps
PREVIEW_DEPTH = 6
PREVIEW_ROWS = 50  # rows rendered for the preview, starting at the requested one
CHARS_PER_TOKEN = 4  # the rough rule used when no tokenizer can be loaded


def _records(request: InspectRequest, report: ReadReport) -> Iterator[Record]:
    from tuiapp.core.data.sources import is_local_source
    from tuiapp.training.trl_dataset import hub_records

    if is_local_source(request.source):  # a missing one raises a DataError naming the path
        from tuiapp.core.data.sources import read_records

        return read_records(user_path(request.source), skip_bad=request.skip_bad, report=report)
    return hub_records(request.source, request.config_name, request.split, limit=request.limit, streaming=True)


def _shorten(value: Any, depth: int = 0) -> Any:
    """A preview of a value that stays small whatever the row holds: long strings and names cut, at most
    `PREVIEW_ITEMS` items of a list or keys of a dict (then how many more), nesting cut at `PREVIEW_DEPTH`."""
    from tuiapp.core.data.shorten import shorten

    if isinstance(value, str):
        return shorten(value, PREVIEW_CHARS)
    if isinstance(value, list | dict) and depth >= PREVIEW_DEPTH:
        return f"… ({len(value):,} items)"
    if isinstance(value, list):
        items = [_shorten(v, depth + 1) for v in value[:PREVIEW_ITEMS]]
        return items + ([f"… ({len(value) - PREVIEW_ITEMS:,} more items)"] if len(value) > PREVIEW_ITEMS else [])
    if isinstance(value, dict):
        out = {shorten(str(k)): _shorten(v, depth + 1) for k, v in islice(value.items(), PREVIEW_ITEMS)}
        if len(value) > PREVIEW_ITEMS:
            out["…"] = f"{len(value) - PREVIEW_ITEMS:,} more columns"
        return out
    return value


def _detect(request: InspectRequest, records: list[Record]) -> Any:
    from tuiapp.core.data.formats import apply_columns, check_renames, detect_format

    head = [r.data for r in records[:DETECT_SAMPLE]]
    check_renames(request.columns, head, request.source)
    return detect_format([apply_columns(row, request.columns) for row in head])


def _load_tokenizer(request: InspectRequest) -> Any:
    from transformers import AutoTokenizer
    from transformers.utils import logging

    logging.set_verbosity_error()  # "sequence longer than the model max" is what the statistics report

    try:
        return AutoTokenizer.from_pretrained(request.model, trust_remote_code=request.trust_remote_code)
    except Exception as exc:  # OSError, gated repos, offline, bad files: all mean "no tokenizer here"
        first = shorten(str(exc).strip().splitlines()[0], 300) if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"could not load the tokenizer of {request.model!r} ({first}); token counts below are estimates "
            "(4 characters per token). Pass a local model folder, or connect and set HF_TOKEN for a gated model"
        ) from None


def inspect_dataset(request: InspectRequest, emit: Emit) -> None:
    """Run every step, emitting `read`, `detected`, `cleaned`, `template`, `rows`, `progress`, `stats`."""
    from tuiapp.core.data.clean import clean_rows
    from tuiapp.core.data.convert import convert_records, task_for_format

    if request.model:  # a path that is not there is a mistake, as `plan` says, not a reason to estimate
        from tuiapp.core.models.resolve import check_not_missing_folder

        check_not_missing_folder(request.model)
    emit({"event": "stage", "message": f"reading {request.source}"})
    report = ReadReport()
    records = list(islice(_records(request, report), request.limit))
    if not records:
        raise DataError(f"{request.source} holds no rows to train on")
    emit(
        {
            "event": "read",
            "rows": len(records),
            "limited": len(records) == request.limit,
            "skipped": report.skipped_count,
            "skipped_examples": [vars(s) for s in report.skipped],
            "notes": report.notes,
            "preview": [{"where": r.where, "data": _shorten(r.data)} for r in records[:5]],
        }
    )
    detection = _detect(request, records)
    fmt = request.format if request.format != "auto" else detection.format
    if fmt is None or fmt == "auto":
        emit({"event": "detected", "format": fmt, "task": request.task, "detection": detection.to_json()})
        raise DataError(f"cannot tell the format of {request.source}: {detection.explanation}")
    task = request.task or task_for_format(fmt)
    emit({"event": "detected", "format": fmt, "task": task, "detection": detection.to_json()})
    if request.task is None and task != "sft":
        emit({"event": "note", "message": f"{fmt} data: counted for task {task}; pass --task to choose another"})
    _note_unused(detection.columns, fmt, task, emit)
    cleaned = clean_rows(
        convert_records(records, fmt, task, request.columns),
        dedupe=request.dedupe,
        eval_size=request.eval_size,
        seed=request.seed,
    )
    rows = cleaned.rows
    emit({"event": "cleaned", **cleaned.summary()})
    if not rows:
        first = cleaned.dropped_examples[0] if cleaned.dropped_examples else None
        why = f": {first.where}: {first.reason}" if first else ""  # said here too: --json prints no examples
        raise DataError(f"every row of {request.source} was dropped{why}")
    emit({"event": "stage", "message": f"loading the tokenizer of {request.model}" if request.model else "counting"})
    tokenizer, note = _tokenizer_or_none(request)
    lengths = _lengths(request, tokenizer, rows, emit)
    if note:
        emit({"event": "note", "message": note})
    stats = TokenStats.of(lengths, request.max_length, request.micro_batch, request.grad_accum)
    emit({"event": "stats", "approximate": tokenizer is None, "lengths": lengths, **stats.to_json()})


def _note_unused(columns: list[str], fmt: str, task: str, emit: Emit) -> None:
    """Say which columns training leaves out, so a misnamed one is not dropped without a word."""
    from tuiapp.core.data.convert import unused_columns
    from tuiapp.core.data.shorten import name_list

    unused = unused_columns(columns, fmt, task)
    if unused:
        why = "TRL passes reward functions its own values under these names" if task == "grpo" else "not read"
        emit(
            {
                "event": "note",
                "message": f"{len(unused):,} column(s) left out of training ({why}): {name_list(unused)}; "
                "if one holds what training needs, rename it with --map name=expected",
            }
        )


def _tokenizer_or_none(request: InspectRequest) -> tuple[Any, str | None]:
    if not request.model:
        return None, "no model given: token counts are estimates (4 characters per token); pass --model for exact ones"
    try:
        return _load_tokenizer(request), None
    except DataError as exc:
        return None, str(exc)


def _lengths(request: InspectRequest, tokenizer: Any, rows: list[dict[str, Any]], emit: Emit) -> list[int]:
    total = len(rows)
    shown = range(request.row % total, min(request.row % total + PREVIEW_ROWS, total))
    if tokenizer is None:
        emit({"event": "rows", "total": total, "rows": [{"index": i, "raw": _shorten(rows[i])} for i in shown]})
        return [max(1, len(json.dumps(row, ensure_ascii=False, default=str)) // CHARS_PER_TOKEN) for row in rows]
    from tuiapp.training.chat_render import prepare_template, render_row
    from tuiapp.training.token_lengths import count_lengths

    template = prepare_template(tokenizer, request.chat_template)
    emit({"event": "template", **vars(template), "loss": loss_scope(rows[0], template.assistant_only)})
    rendered = [{"index": i, **render_row(tokenizer, rows[i], template.assistant_only).to_json()} for i in shown]
    emit({"event": "rows", "total": total, "rows": rendered})
    return count_lengths(
        tokenizer, rows, on_progress=lambda done: emit({"event": "progress", "done": done, "total": total})
    )


def loss_scope(row: dict[str, Any], assistant_only: bool) -> str:
    """Which tokens of a row of this form carry loss in TRL's trainers, in words."""
    if "messages" in row:
        return "assistant turns only" if assistant_only else "every token (the template has no generation marks)"
    if "text" in row:
        return "every token"
    if "completion" in row or "chosen" in row:
        return "the completion only"
    return "none: the trainer generates the completions"


def main() -> int:
    """Read one request from stdin; write JSON events, ending with `done` or `error`, one per line."""

    def emit(event: dict[str, Any]) -> None:
        # ASCII escapes survive lone surrogates; default=str covers Parquet's dates, bytes and decimals
        print(json.dumps(event, default=str), flush=True)

    try:
        inspect_dataset(InspectRequest.from_json(json.loads(sys.stdin.read())), emit)
    except json.JSONDecodeError as exc:
        emit({"event": "error", "message": f"the request is not valid JSON: {exc}"})
        return 1
    except UserError as exc:
        emit({"event": "error", "message": str(exc)})
        return 2
    except Exception as exc:  # the child answers in JSON whatever breaks
        emit({"event": "error", "message": f"the inspection failed ({type(exc).__name__}): {shorten(str(exc), 500)}"})
        return 1
    emit({"event": "done"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
