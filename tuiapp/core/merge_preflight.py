"""Before a merge loads anything: will the 16-bit base fit in RAM (or VRAM, merging on the GPU), and its
shards on the destination's disk? One UserError names every shortage with both figures and what to do.

The figures: merging on the CPU holds the whole 16-bit model in RAM, plus a tenth for the adapter, the
merge's per-layer temporaries and the shard being serialized, plus the libraries. On the GPU the model sits
in VRAM (plus the CUDA context) and RAM only holds a shard on its way to disk. The disk takes the shards
(the 16-bit size) plus the tokenizer and configs; an old destination is deleted only after the new one is
complete, so its space does not count as free.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tuiapp.core.file_kinds import not_a_folder
from tuiapp.core.units import GIB
from tuiapp.core.user_error import UserError
from tuiapp.core.user_paths import user_path

Device = Literal["cpu", "cuda"]
SHARD_SIZE = "5GB"  # save_pretrained's max_shard_size for merged models
SHARD_BYTES = 5 * 10**9
LOAD_MARGIN = 0.10  # of the model: adapter, per-layer merge temporaries, the shard being written
LIBRARIES_BYTES = 512 * 1024**2  # torch, transformers and PEFT in RAM; the CUDA context in VRAM
SMALL_FILES_BYTES = 64 * 1024**2  # tokenizer, configs, the shard index


@dataclass(frozen=True)
class FreeResources:
    """What is free now: RAM, the destination's disk, and the GPU's memory (None without a GPU)."""

    ram_bytes: int
    disk_bytes: int
    disk_path: str
    vram_bytes: int | None = None
    gpu_name: str | None = None


@dataclass(frozen=True)
class MergeNeeds:
    """What a merge of a model of `bytes_16bit` needs on `device`."""

    ram_bytes: int
    vram_bytes: int
    disk_bytes: int


def gib1(num_bytes: float, up: bool = True) -> str:
    """GiB with one decimal, rounded up for what is needed and down for what is free (never looks enough
    when it is not); rounded to a millionth first, so 15.9000001 reads 15.9."""
    tenths = round(num_bytes / GIB * 10, 6)
    return f"{(math.ceil(tenths) if up else math.floor(tenths)) / 10:.1f} GiB"


def _visible_gpu_index() -> int:
    """The NVML index of the GPU torch will use: the first of CUDA_VISIBLE_DEVICES when it is a number."""
    first = os.environ.get("CUDA_VISIBLE_DEVICES", "0").split(",")[0].strip()
    return int(first) if first.isdigit() else 0


def read_free_resources(out_dir: Path, with_gpu: bool) -> FreeResources:
    """Free RAM, free disk where `out_dir` will be (its nearest existing parent), and free VRAM (NVML) when
    `with_gpu`."""
    from tuiapp.core.hardware import read_gpus, read_system

    system = read_system(out_dir)
    vram = name = None
    if with_gpu:
        gpus, _reason = read_gpus()
        chosen = {gpu.index: gpu for gpu in gpus}.get(_visible_gpu_index(), gpus[0] if gpus else None)
        if chosen is not None:
            vram, name = chosen.free_bytes, chosen.name
    return FreeResources(
        ram_bytes=system.ram_available_bytes,
        disk_bytes=system.disk_free_bytes,
        disk_path=system.disk_path,
        vram_bytes=vram,
        gpu_name=name,
    )


def merge_needs(bytes_16bit: int, device: Device) -> MergeNeeds:
    """RAM, VRAM and disk a merge of a `bytes_16bit` model needs on `device` (see the module docstring)."""
    loaded = int(bytes_16bit * (1 + LOAD_MARGIN)) + LIBRARIES_BYTES
    if device == "cuda":
        ram = min(bytes_16bit, SHARD_BYTES) + LIBRARIES_BYTES
        return MergeNeeds(ram_bytes=ram, vram_bytes=loaded, disk_bytes=bytes_16bit + SMALL_FILES_BYTES)
    return MergeNeeds(ram_bytes=loaded, vram_bytes=0, disk_bytes=bytes_16bit + SMALL_FILES_BYTES)


def choose_device(
    requested: str, cuda_available: bool, bytes_16bit: int | None, free: FreeResources
) -> tuple[Device, str | None]:
    """The device to merge on and, when "auto" falls back to the CPU with a GPU present, why."""
    if requested == "cpu":
        return "cpu", None
    if requested == "cuda":
        if not cuda_available:
            raise UserError(
                "--device cuda asks for the GPU, but PyTorch sees no CUDA GPU here",
                fix="merge on the CPU with --device cpu (or --device auto)",
            )
        return "cuda", None
    if not cuda_available:
        return "cpu", None
    if bytes_16bit is None or free.vram_bytes is None:
        return "cuda", None  # nothing to compare: the GPU is still the faster place to try
    needs = merge_needs(bytes_16bit, "cuda")
    if needs.vram_bytes <= free.vram_bytes:
        return "cuda", None
    gpu = free.gpu_name or "the GPU"
    has = gib1(free.vram_bytes, up=False)
    why = f"merged on the CPU: {gpu} has {has} free and the merge needs {gib1(needs.vram_bytes)}"
    return "cpu", why


def check_merge_fits(bytes_16bit: int, device: Device, free: FreeResources, out_dir: Path) -> None:
    """Raise one UserError naming every shortage (needed vs free) and what to do about each."""
    needs = merge_needs(bytes_16bit, device)
    shortages: list[str] = []
    fixes: list[str] = []
    model = f"the base model is {gib1(bytes_16bit)} in 16 bits"
    if needs.disk_bytes > free.disk_bytes:
        shortages.append(
            f"the disk holding {free.disk_path} needs {gib1(needs.disk_bytes)} for the shards "
            f"and has {gib1(free.disk_bytes, up=False)} free"
        )
        fixes.append(f"free {gib1(needs.disk_bytes - free.disk_bytes)} there, or write elsewhere with -o DIR")
    if device == "cuda" and free.vram_bytes is not None and needs.vram_bytes > free.vram_bytes:
        gpu = free.gpu_name or "the GPU"
        shortages.append(f"{gpu} needs {gib1(needs.vram_bytes)} and has {gib1(free.vram_bytes, up=False)} free")
        cpu_fits = merge_needs(bytes_16bit, "cpu").ram_bytes <= free.ram_bytes
        fixes.append(
            "merge on the CPU with --device cpu"
            if cpu_fits
            else f"free {gib1(needs.vram_bytes - free.vram_bytes)} of GPU memory (other programs hold it)"
        )
    if needs.ram_bytes > free.ram_bytes:
        shortages.append(f"RAM needs {gib1(needs.ram_bytes)} and has {gib1(free.ram_bytes, up=False)} free")
        fix = f"close programs to free {gib1(needs.ram_bytes - free.ram_bytes)} of RAM"
        on_gpu = merge_needs(bytes_16bit, "cuda")
        if device == "cpu" and free.vram_bytes is not None and on_gpu.vram_bytes <= free.vram_bytes:
            fix += ", or merge on the GPU with --device cuda"
        fixes.append(fix)
    if shortages:
        raise UserError(f"not enough room to merge into {out_dir} ({model}): {'; '.join(shortages)}", "; ".join(fixes))


def check_destination(out_dir: Path, protected: list[Path]) -> None:
    """Refuse a destination that would replace or sit inside something we must keep (the run, its adapter,
    the base model), or an existing folder that is not a model (replacing it would delete the user's files)."""
    out = user_path(out_dir).resolve()
    for keep in protected:
        keep = user_path(keep).resolve()
        if out == keep or keep.is_relative_to(out):
            raise UserError(
                f"cannot merge into {out}: it would replace {keep}", fix="choose another folder with -o DIR"
            )
    if kind := not_a_folder(out):  # a file, a FIFO, /dev/null: never moved aside and replaced by a folder
        raise UserError(f"cannot merge into {out}: it is {kind}, not a folder", fix="choose a folder with -o DIR")
    if out.is_dir() and any(out.iterdir()) and not (out / "config.json").is_file():
        raise UserError(
            f"{out} already exists and does not hold a model: merging would replace what it holds",
            fix="choose a new or empty folder with -o DIR",
        )
