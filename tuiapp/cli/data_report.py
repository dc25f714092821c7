"""Print a dataset inspection for people: sections in plain words, a text histogram, one marked row."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from tuiapp.core.data.inspect_request import InspectRequest
from tuiapp.core.data.token_stats import TokenStats, text_histogram

LOSS_OPEN, LOSS_CLOSE = "⟦", "⟧"  # marks around the tokens that carry loss, readable without color


class StderrProgress:
    """A progress bar on stderr while tokens are counted; silent when stderr is not a terminal."""

    def __init__(self, enabled: bool) -> None:
        self._progress = (
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            if enabled
            else None
        )
        self._task: Any = None

    def __enter__(self) -> StderrProgress:
        if self._progress:
            self._progress.start()
            self._task = self._progress.add_task("starting", total=None)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress:
            self._progress.stop()

    def update(self, kind: str, event: dict[str, Any]) -> None:
        if not self._progress:
            return
        if kind == "stage":
            self._progress.update(self._task, description=event["message"])
        else:
            done, total = event["done"], event["total"]
            self._progress.update(self._task, description="counting tokens", completed=done, total=total)


def marked_row(pieces: list[list[Any]]) -> Text:
    """The rendered row with loss-carrying tokens in green and between ⟦ ⟧."""
    text = Text()
    learning = False
    for piece, learns in pieces:
        if learns and not learning:
            text.append(LOSS_OPEN, style="bold green")
        if learning and not learns:
            text.append(LOSS_CLOSE, style="bold green")
        text.append(piece, style="green" if learns else "")
        learning = bool(learns)
    if learning:
        text.append(LOSS_CLOSE, style="bold green")
    return text


def _line(console: Console, label: str, value: str | Text) -> None:
    console.print(Text(f"{label:<11}", style="bold"), value, sep="")


def print_report(console: Console, request: InspectRequest, events: dict[str, Any]) -> None:
    """Everything the inspection found, section by section."""
    read, detected, cleaned = events["read"], events["detected"], events["cleaned"]
    more = " (first rows only)" if read["limited"] else ""
    _line(console, "Source", f"{request.source} · {read['rows']:,} rows read{more}")
    for note in read.get("notes", []):
        _line(console, "", note)
    if read["skipped"]:
        first = read["skipped_examples"][0]
        _line(console, "Skipped", f"{read['skipped']} malformed line(s), e.g. {first['where']}: {first['reason']}")
    det = detected["detection"]
    sure = f"confidence {det['confidence']:.0%}"
    _line(console, "Format", f"{detected['format']} for task {detected['task']} ({sure}): {det['explanation']}")
    for problem in det.get("problems", []):
        _line(console, "", Text(f"! {problem}", style="yellow"))
    _line(console, "Rows", cleaned_line(cleaned))
    template = events.get("template")
    if template:
        _line(console, "Template", f"{template['source']}; loss on {template['loss']}")
        for note in template["notes"]:
            _line(console, "", note)
        for problem in template["problems"]:
            _line(console, "", Text(f"! {problem}", style="yellow"))
    for note in events["notes"]:
        _line(console, "Note", Text(note, style="yellow"))
    if "stats" in events:
        _print_stats(console, events["stats"])
    if events.get("rows", {}).get("rows"):
        _print_row(console, events["rows"]["rows"][0], events["rows"]["total"])


def cleaned_line(cleaned: dict[str, Any]) -> str:
    """`118 to train, 2 dropped (e.g. data.jsonl:4: empty output), 0 duplicates`."""
    parts = [f"{cleaned['kept']:,} to train"]
    if cleaned.get("eval"):
        parts.append(f"{cleaned['eval']:,} held out for eval")
    if cleaned["dropped"]:
        first = cleaned["dropped_examples"][0]
        parts.append(f"{cleaned['dropped']:,} dropped (e.g. {first['where']}: {first['reason']})")
    if cleaned.get("duplicates"):
        parts.append(f"{cleaned['duplicates']:,} exact duplicates removed")
    return ", ".join(parts)


def _print_stats(console: Console, data: dict[str, Any]) -> None:
    stats = TokenStats.from_json(data)
    about = "≈ " if data.get("approximate") else ""
    _line(
        console,
        "Tokens",
        f"{about}{stats.total_tokens:,} in all · p50 {stats.p50:,} · p90 {stats.p90:,} · p95 {stats.p95:,} · "
        f"p99 {stats.p99:,} · max {stats.max:,}",
    )
    share = f"{stats.truncated_share:.1%}"
    _line(
        console,
        "Max length",
        f"{stats.max_length:,}: {stats.truncated_rows:,} rows ({share}) would be cut; "
        f"recommended {stats.recommended_max_length:,} (keeps ≥95% of rows whole)",
    )
    _line(
        console,
        "Steps",
        f"{stats.steps_per_epoch:,} per epoch at micro-batch {stats.micro_batch} × grad-accum {stats.grad_accum}",
    )
    console.print(Text("Lengths (tokens per row)", style="bold"))
    for line in text_histogram(stats):
        console.print(line, markup=False)


def _print_row(console: Console, row: dict[str, Any], total: int) -> None:
    """`Row 3 of 60`: counted from 1, as the Dataset screen and `--row` count."""
    where = f"Row {row['index'] + 1} of {total:,}"
    if "pieces" not in row:
        console.print(Text(f"{where} (no tokenizer: shown as read)", style="bold"))
        console.print(str(row["raw"]), markup=False)
        return
    part = {"chosen": " (chosen answer)", "prompt": " (prompt only: completions are generated)"}.get(row["part"], "")
    console.print(
        Text(
            f"{where}{part}: {row['tokens']} tokens, {row['loss_tokens']} carry loss (marked {LOSS_OPEN} {LOSS_CLOSE})",
            style="bold",
        )
    )
    console.print(marked_row(row["pieces"]))
    if row.get("hidden_chars"):
        console.print(Text(f"… {row['hidden_chars']:,} more characters", style="dim"))
