"""`ftwizard gpu`: the GPUs here (or the planned one), RAM and disk, as a table or JSON."""

from __future__ import annotations

import argparse
import json
from typing import Any

from tuiapp.cli.arg_types import gpu_name
from tuiapp.core.units import GIB, gib, share


def register(commands: Any) -> None:
    parser = commands.add_parser("gpu", help="show the GPUs, RAM and disk (or a planned GPU)")
    parser.add_argument(
        "--gpu", metavar="GPU", type=gpu_name, help='plan for this GPU instead: "RTX 4090", "H100", 24GB'
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--list", action="store_true", help="list the GPU catalogue")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tuiapp.cli.console import out_console
    from tuiapp.core.hardware import detect_hardware, gpu_catalog, planned_hardware, resolve_gpu

    if args.list:
        catalog = [spec.model_dump() for spec in gpu_catalog()]
        if args.json:
            print(json.dumps(catalog, indent=2))
        else:
            out_console().print(_catalog_table())
        return 0
    profile = planned_hardware(resolve_gpu(args.gpu)) if args.gpu else detect_hardware()
    if args.json:
        print(json.dumps(profile.to_json_dict(), indent=2))
        return 0
    console = out_console()
    for renderable in _profile_renderables(profile):
        console.print(renderable)
    return 0


def _catalog_table() -> Any:
    from rich.table import Table

    from tuiapp.core.hardware import gpu_catalog

    table = Table(title="GPU catalogue (plan with --gpu NAME)")
    for column in ("name", "memory", "compute", "bf16", "fp8", "kind"):
        table.add_column(column)
    for spec in gpu_catalog():
        gpu = spec.as_gpu()
        table.add_row(
            spec.name,
            f"{spec.memory_gib:.1f} GiB",
            spec.compute_capability,
            _yes(gpu.bf16),
            _yes(gpu.fp8),
            spec.kind,
        )
    return table


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _profile_renderables(profile: Any) -> list[Any]:
    from rich.table import Table

    out: list[Any] = []
    if profile.gpus:
        title = "Planned GPU (not on this machine)" if profile.source == "planned" else "GPUs"
        table = Table(title=title)
        for column in ("#", "name", "free", "used / total", "cc", "bf16", "driver · CUDA"):
            table.add_column(column)
        for gpu in profile.gpus:
            used_share = share(gpu.used_bytes, gpu.total_bytes)
            used = f"{gpu.used_bytes / GIB:.1f} / {gpu.total_bytes / GIB:.1f} ({used_share})"
            driver = f"{gpu.driver_version or '-'} · {gpu.cuda_version or '-'}"
            table.add_row(
                str(gpu.index),
                gpu.name,
                gib(gpu.free_bytes),
                used,
                gpu.capability_text,
                _yes(gpu.bf16),
                driver,
            )
        out.append(table)
        for gpu in profile.gpus:
            for proc in gpu.processes:
                held = gib(proc.used_bytes) if proc.used_bytes is not None else "unknown"
                out.append(f"  GPU {gpu.index}: {proc.name} (pid {proc.pid}) holds {held}")
    else:
        out.append(f"[bold]No NVIDIA GPU found[/bold]: {profile.no_gpu_reason}.")
        out.append(
            "Plan for a GPU you will rent: [bold]ftwizard gpu --gpu 'RTX 4090'[/bold] or "
            "[bold]--gpu 24GB[/bold] (catalogue: ftwizard gpu --list)."
        )
    system = profile.system
    out.append(
        f"CPU: {system.cpu_count} cores · RAM: {gib(system.ram_available_bytes)} free of "
        f"{gib(system.ram_total_bytes)} · Disk ({system.disk_path}): {gib(system.disk_free_bytes)} free"
    )
    return out
