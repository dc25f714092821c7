"""The plan as a terminal table: one row per method, the recommendation marked, reasons below."""

from __future__ import annotations

from typing import Any

from tuiapp.core.estimate.closed_form import FIT_MARGIN

FIT_RULE = (
    "GiB at the peak. alloc: tensors (max_memory_allocated); reserved: what PyTorch's caching allocator holds "
    "(expandable segments on, as our worker runs); nvidia-smi: reserved + the CUDA context. It fits when "
    f"nvidia-smi's figure stays {FIT_MARGIN:.0%} below the free memory."
)
OPTIMIZER_SHORT = {"adamw_torch": "adam", "adamw_8bit": "adam8", "paged_adamw_8bit": "paged8"}


def _count(params: int) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if params >= size:
            return f"{params / size:.1f}{unit}"
    return str(params)


def print_plan(report: dict[str, Any], no_gpu_reason: str | None) -> None:
    """Print the comparison table and what follows from it."""
    from rich.markup import escape
    from rich.table import Table

    from tuiapp.cli.console import out_console

    console = out_console()
    gpu = report["gpu"]
    where = (
        "no GPU"
        if gpu is None
        else f"{gpu['name']} ({gpu['free_gib']:.1f} GiB free{', planned' if gpu['source'] == 'planned' else ''})"
    )
    model = report["model"]
    # A heading line, not the table's title: a title wraps at the table's width, splitting a long model path.
    console.print(f"[b]{escape(model['name'])}[/b] ({_count(model['total_params'])} params) on {escape(where)}")
    if report.get("sharding"):
        console.print(f"[b]Per GPU[/b], {escape(report['sharding']['label'])}: each GPU runs its own micro-batch")
    table = Table()
    columns = ("", "method", "trainable", "alloc", "reserved", "nvidia-smi", "fits", "speed", "batch, ckpt, optim")
    for column in columns:
        table.add_column(column)
    for method, row in report["methods"].items():
        star = "★" if method == report["recommended"] else ""
        fits = "-" if gpu is None else ("[green]yes[/]" if row["fits"] else "[red]no[/]")
        ckpt = "ckpt" if row["gradient_checkpointing"] else "no ckpt"
        optimizer = OPTIMIZER_SHORT.get(row["optimizer"], row["optimizer"])
        settings = f"{row['micro_batch']}×{row['grad_accum']} {ckpt} {optimizer}"
        table.add_row(
            star,
            method,
            _count(row["trainable_params"]),
            f"{row['peak_alloc_gib']:.1f}",
            f"{row['peak_reserved_gib']:.1f}",
            f"{row['peak_nvidia_smi_gib']:.1f}",
            fits,
            f"{row['relative_speed']:.2f}x",
            settings,
        )
    console.print(table)
    console.print(f"[dim]{FIT_RULE}[/]")
    for method, row in report["methods"].items():  # which stack each figure describes
        if "setup" in row:
            console.print(f"[dim]{method}: {escape(row['setup']['line'])}[/]")
    for note in report.get("notes", []):  # why the peaks differ where they surprise
        console.print(f"Note: {escape(note)}")
    console.print(f"Framework: {escape(report['framework_reason'])}")
    if report["recommended"]:
        console.print(f"[b]Recommended: {report['recommended']}[/b]")
        for reason in report["reasons"]:
            console.print(f"  • {escape(reason)}")
    if no_gpu_reason and gpu is None:
        console.print(f"No NVIDIA GPU found: {no_gpu_reason}.")
    for line in report["advice"]:
        console.print(f"[yellow]→[/] {escape(line)}")
    if "exact" in report and "skipped" in report["exact"]:
        exact = report["exact"]
        console.print(f"Exact check ({exact['method']}): {escape(exact['skipped'])}")
    elif "exact" in report:
        exact = report["exact"]
        replayed = (
            f", {exact['peak_reserved_gib']:.2f} reserved, {exact['peak_nvidia_smi_gib']:.2f} in nvidia-smi (replayed)"
            if "peak_nvidia_smi_gib" in exact
            else ""
        )
        console.print(
            f"Exact check ({exact['method']}): {exact['peak_alloc_gib']:.2f} GiB simulated{replayed} vs "
            f"{exact['closed_form_gib']:.2f} GiB closed form ({exact['difference']:+.1%})"
        )
