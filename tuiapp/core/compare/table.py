"""A comparison as text: the table (measured beside estimated), the >5% flags, and bar charts. The CLI prints
it, the run keeps it as compare.txt, and the Compare screen shows the same lines."""

from __future__ import annotations

from tuiapp.core.compare.result import MISMATCH_SHARE, CompareResult, MethodRow
from tuiapp.core.runs.compare_events import FIGURES
from tuiapp.core.units import GIB

MIB = 1 << 20
NOT_ON_CPU = "n/a on CPU"
FIGURE_NAMES = {"allocated": "allocated", "reserved": "reserved", "nvidia_smi": "nvidia-smi"}
BAR_WIDTH = 30
MAX_MESSAGE = 160  # characters of a failed trial's message in the table


def size_text(value: int | None) -> str:
    """Bytes as MiB below a GiB, else GiB; '-' when unknown."""
    if value is None:
        return "-"
    return f"{value / MIB:.1f} MiB" if value < GIB else f"{value / GIB:.2f} GiB"


def _measured_text(row: MethodRow, figure: str) -> str:
    trial = row.trial
    if trial is None:
        return "-"
    value = trial.measured.get(figure)
    if value is None:
        return NOT_ON_CPU if trial.device == "cpu" else "-"
    return size_text(value) + (" !" if figure in row.off else "")


def _estimated(row: MethodRow, figure: str) -> int | None:
    """The estimate at the trial's real batches once measured, else the plan's (at max_length)."""
    if row.trial is not None and row.trial.estimated.get(figure) is not None:
        return row.trial.estimated[figure]
    return row.planned.get(figure)


def table_rows(result: CompareResult) -> list[list[str]]:
    """Header, then one row per method; memory cells read `measured / estimated`."""
    cpu = any(row.trial is not None and row.trial.device == "cpu" for row in result.rows.values())
    steps = result.started.steps if result.started else None
    header = ["method", "state", "tokens/s", f"loss@{steps}" if steps else "loss"]
    header += [f"{FIGURE_NAMES[f]} meas / est" for f in FIGURES] + (["peak RSS (process)"] if cpu else [])
    rows = [header]
    for row in result.rows.values():
        trial = row.trial
        if row.skipped is not None:
            rows.append([row.method, "skipped", "-", "-", *(f"- / {size_text(_estimated(row, f))}" for f in FIGURES)])
            rows[-1] += ["-"] if cpu else []
            continue
        speed = f"{trial.tokens_per_s:,.0f}" if trial and trial.tokens_per_s is not None else "-"
        loss = f"{trial.loss:.4f}" if trial and trial.loss is not None else "-"
        if trial and trial.loss is not None and steps and trial.steps != steps:  # it ended early: say where
            loss += f" (step {trial.steps})"
        cells = [f"{_measured_text(row, f)} / {size_text(_estimated(row, f))}" for f in FIGURES]
        rss = [size_text(trial.peak_rss if trial else None)] if cpu else []
        rows.append([row.method, result.state_of(row), speed, loss, *cells, *rss])
    return rows


def format_table(result: CompareResult) -> list[str]:
    rows = table_rows(result)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]


def mismatch_lines(result: CompareResult) -> list[str]:
    """One line per measured figure off its estimate by more than MISMATCH_SHARE, and why the others are absent."""
    lines = []
    for row in result.rows.values():
        for figure, ratio in row.off.items():
            assert row.trial is not None
            lines.append(
                f"! {row.method} {FIGURE_NAMES[figure]}: measured {size_text(row.trial.measured[figure])}, estimated "
                f"{size_text(row.trial.estimated[figure])} ({ratio - 1:+.1%}, more than {MISMATCH_SHARE:.0%} off): "
                "recorded in the run's events (estimate_mismatch) for a bug report"
            )
    return lines


def reason_lines(result: CompareResult) -> list[str]:
    """Why a method was left out or did not finish."""
    lines = []
    for row in result.rows.values():
        if row.skipped is not None:
            lines.append(f"{row.method}: not trialled here: {row.skipped}")
        elif row.trial is not None and row.trial.state != "completed" and row.trial.message:
            lines.append(f"{row.method}: {row.trial.state}: {row.trial.message[:MAX_MESSAGE]}")
    return lines


def _bars(values: list[tuple[str, float, str]], width: int) -> list[str]:
    top = max((value for _, value, _ in values), default=0.0)
    name_width = max((len(name) for name, _, _ in values), default=0)
    lines = []
    for name, value, label in values:
        filled = round(width * value / top) if top > 0 else 0
        lines.append(f"  {name.ljust(name_width)}  {('█' * filled).ljust(width)}  {label}")
    return lines


def memory_bar_source(row: MethodRow) -> tuple[int | None, str]:
    """The memory one bar shows: the measured nvidia-smi peak on a GPU (else the measured allocated one), the
    process's peak RSS on the CPU."""
    trial = row.trial
    if trial is None:
        return None, ""
    if trial.device == "cpu":
        return trial.peak_rss, "peak RSS"
    for figure in ("nvidia_smi", "reserved", "allocated"):
        if trial.measured.get(figure) is not None:
            return trial.measured[figure], FIGURE_NAMES[figure]
    return None, ""


def bar_chart(result: CompareResult, width: int = BAR_WIDTH) -> list[str]:
    """Tokens/s and peak memory per measured method, as text bars."""
    speeds = [(r.method, r.trial.tokens_per_s, f"{r.trial.tokens_per_s:,.0f} tokens/s")
              for r in result.rows.values() if r.trial is not None and r.trial.tokens_per_s is not None]  # fmt: skip
    memory = []
    for row in result.rows.values():
        value, what = memory_bar_source(row)
        if value is not None:
            memory.append((row.method, float(value), f"{size_text(value)} {what}"))
    lines = []
    if speeds:
        lines += ["tokens/s (higher is faster)", *_bars(speeds, width)]
    if memory:
        lines += ["peak memory, measured (lower is lighter)", *_bars(memory, width)]
    return lines


def report_lines(result: CompareResult) -> list[str]:
    """The whole report: what was compared, the table, flags, reasons, the chart."""
    started = result.started
    lines: list[str] = []
    if started is not None:
        where = started.gpu or "the CPU"
        lines.append(f"{started.model}: {started.steps} steps per method on {where}")
        lines += [f"note: {note}" for note in started.notes]
    lines += ["", *format_table(result)]
    lines.append("memory: measured / estimated (the estimate at the batches the trial ran; ! = over 5% off)")
    extra = mismatch_lines(result) + reason_lines(result)
    lines += ["", *extra] if extra else []
    chart = bar_chart(result)
    lines += ["", *chart] if chart else []
    if result.final and result.final != "completed":
        lines += ["", f"the comparison {result.final}" + (f": {result.final_message}" if result.final_message else "")]
    return lines
