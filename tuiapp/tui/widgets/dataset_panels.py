"""Text for the Dataset screen's panels, built from the inspection's plain-data events."""

from __future__ import annotations

import json
from typing import Any

from rich.markup import escape
from rich.text import Text

from tuiapp.core.data.token_stats import TokenStats


def loss_text(pieces: list[list[Any]]) -> Text:
    """A rendered row: tokens that carry loss in bold green on a dark band, the rest dimmed."""
    text = Text()
    for piece, learns in pieces:
        text.append(piece, style="bold green on #1b3320" if learns else "dim")
    return text


def row_view(row: dict[str, Any] | None, position: int, total: int) -> Text:
    """The preview header plus the row, or a hint while nothing is loaded."""
    if row is None:
        return Text("Open a dataset to see its rows as the model will see them.", style="dim")
    if "pieces" not in row:
        head = Text(f"Row {row['index'] + 1} of {total:,} (no tokenizer: shown as read)\n", style="bold")
        return head + Text(json.dumps(row["raw"], indent=1, ensure_ascii=False, default=str))
    part = {"chosen": " · chosen answer", "prompt": " · prompt only: completions are generated"}.get(row["part"], "")
    head = Text(
        f"Row {row['index'] + 1} of {total:,}{part} · {row['tokens']} tokens, {row['loss_tokens']} learned "
        f"(green) · [ ] other rows\n",
        style="bold",
    )
    more = Text(f"\n… {row['hidden_chars']:,} more characters", style="dim") if row.get("hidden_chars") else Text()
    return head + loss_text(row["pieces"]) + more


def format_line(detected: dict[str, Any] | None) -> str:
    """`alpaca 98% · explanation` with problems in yellow."""
    if detected is None:
        return "[dim]Format: detected when a dataset is open[/]"
    det = detected["detection"]
    task = f" for {detected['task']}" if detected.get("task") else ""
    lines = [f"[b]{detected['format']}[/b]{task} {det['confidence']:.0%} · {escape(det['explanation'])}"]
    lines += [f"[yellow]! {escape(p)}[/]" for p in det.get("problems", [])]
    return "\n".join(lines)


def stats_text(stats: TokenStats | None, approximate: bool, memory: str | None) -> str:
    """Percentiles, truncation at the max length, the recommendation, steps per epoch, memory at that length."""
    if stats is None:
        return "[dim]Token statistics appear here once the rows are counted.[/]"
    about = "≈" if approximate else ""
    cut = "green" if stats.truncated_rows == 0 else ("yellow" if stats.truncated_share < 0.05 else "red")
    lines = [
        f"{about}{stats.total_tokens:,} tokens · p50 {stats.p50:,} · p95 {stats.p95:,} · p99 {stats.p99:,} · "
        f"max {stats.max:,}",
        f"Max length [b]{stats.max_length:,}[/b]: [{cut}]{stats.truncated_rows:,} rows "
        f"({stats.truncated_share:.1%}) cut[/] · recommended [b]{stats.recommended_max_length:,}[/b] (r applies it)",
        f"{stats.steps_per_epoch:,} steps per epoch at micro-batch {stats.micro_batch} × grad-accum {stats.grad_accum}",
    ]
    if memory:
        lines.append(memory)
    return "\n".join(lines)


def checks_text(events: dict[str, Any]) -> str:
    """Rows read, skipped and dropped (with examples), the template's notes and problems."""
    read, cleaned, template = events.get("read"), events.get("cleaned"), events.get("template")
    if read is None:
        return "[dim]Checks appear here once a dataset is read.[/]"
    lines = [f"{read['rows']:,} rows read" + (" (the first rows only)" if read["limited"] else "")]
    lines += [f"  {escape(note)}" for note in read.get("notes", [])]
    if read["skipped"]:
        lines.append(f"[yellow]{read['skipped']:,} malformed line(s) skipped[/]")
        lines += [f"  {escape(s['where'])}: {escape(s['reason'])}" for s in read["skipped_examples"]]
    if cleaned:
        held_out = f", {cleaned['eval']:,} for eval" if cleaned.get("eval") else ""
        lines.append(f"{cleaned['kept']:,} rows to train{held_out}")
        if cleaned["dropped"]:
            lines.append(f"[yellow]{cleaned['dropped']:,} row(s) dropped[/]")
            lines += [f"  {escape(s['where'])}: {escape(s['reason'])}" for s in cleaned["dropped_examples"]]
        if cleaned.get("duplicates"):
            lines.append(f"{cleaned['duplicates']:,} exact duplicates removed")
    if template:
        lines.append(f"Template: {escape(template['source'])}; loss on {escape(template['loss'])}")
        lines += [f"  {escape(n)}" for n in template["notes"]]
        lines += [f"[yellow]! {escape(p)}[/]" for p in template["problems"]]
    lines += [f"[yellow]Note: {escape(n)}[/]" for n in events.get("notes", [])]
    return "\n".join(lines)
