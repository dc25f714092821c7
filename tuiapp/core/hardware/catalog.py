"""The GPU catalogue (presets/gpus.yaml) and how `--gpu "RTX 4090"` or `--gpu 24GB` is resolved."""

from __future__ import annotations

import difflib
import re
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tuiapp.core.hardware.profile import GpuInfo
from tuiapp.core.presets import read_preset
from tuiapp.core.user_error import UserError

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(g|gb|gib)?\s*$", re.IGNORECASE)
_NOISE = ("nvidia", "geforce", "tesla")
_SIZE_WORD = re.compile(r"^\d+gi?b?$")  # "80gb", "144g" inside a reported name
# Words in a reported name that do not change the chip's throughput: form factor, memory kind, wording.
_FORM_WORDS = ("pcie", "sxm", "sxm2", "sxm4", "sxm5", "hbm2", "hbm2e", "hbm3", "hbm3e")
_IGNORED_WORDS = frozenset((*_FORM_WORDS, "generation", "edition", "workstation", "server"))


class UnknownGpuError(UserError):
    """A --gpu value that matches no catalogue entry and is not a memory size."""


class GpuSpec(BaseModel):
    """One catalogue GPU."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    memory_mib: int = Field(gt=0)
    compute_capability: str = Field(pattern=r"^\d+\.\d+$")
    kind: Literal["consumer", "workstation", "datacenter", "generic"]
    aliases: tuple[str, ...] = ()
    notes: str | None = None
    bf16_tflops: float | None = Field(default=None, gt=0)
    """Spec-sheet dense BF16 tensor TFLOPS with FP32 accumulate (FP16 on cards without bf16); the
    step-time estimate divides by a fraction of it. None when unknown (a GPU known only by its size)."""

    @field_validator("aliases", mode="before")
    @classmethod
    def _tuple(cls, value: object) -> object:
        return tuple(value) if isinstance(value, list) else value

    @property
    def capability(self) -> tuple[int, int]:
        major, minor = self.compute_capability.split(".")
        return int(major), int(minor)

    @property
    def memory_gib(self) -> float:
        return self.memory_mib / 1024

    def as_gpu(self) -> GpuInfo:
        """The GPU as a fresh rented box would show it: all memory free."""
        total = self.memory_mib * 1024**2
        return GpuInfo(
            index=0,
            name=self.name,
            total_bytes=total,
            used_bytes=0,
            free_bytes=total,
            compute_capability=self.capability,
        )


def _key(text: str) -> str:
    text = text.lower()
    for word in _NOISE:
        text = text.replace(word, "")
    return re.sub(r"[^a-z0-9]", "", text)


@cache
def gpu_catalog() -> tuple[GpuSpec, ...]:
    """Every GPU in presets/gpus.yaml, validated."""
    return tuple(GpuSpec.model_validate(entry) for entry in read_preset("gpus.yaml")["gpus"])


def generic_gpu(memory_gib: float) -> GpuSpec:
    """A GPU known only by its memory; assumed Ampere or newer (bf16 capable)."""
    if not 1 <= memory_gib <= 4096:
        raise UnknownGpuError(f"{memory_gib:g} GB is not a plausible GPU memory size; give 1 to 4096 GB")
    return GpuSpec(
        name=f"{memory_gib:g} GB GPU",
        memory_mib=round(memory_gib * 1024),
        compute_capability="8.0",
        kind="generic",
        notes="known only by its memory size; assumed Ampere or newer (bf16)",
    )


def resolve_gpu(query: str) -> GpuSpec:
    """A catalogue GPU by name or alias ("RTX 4090", "4090", "h100"), or a size such as "24GB"."""
    size = _SIZE.match(query)
    if size and size.group(2):
        return generic_gpu(float(size.group(1)))
    try:
        return _by_name(query)
    except UnknownGpuError:
        if size:  # a bare number that names no GPU ("24") is a memory size
            return generic_gpu(float(size.group(1)))
        raise


def _by_name(query: str) -> GpuSpec:
    wanted = _key(query)
    if not wanted:
        raise UnknownGpuError("give a GPU name such as 'RTX 4090' or a memory size such as 24GB")
    catalog = gpu_catalog()
    names = {spec: [_key(spec.name), *map(_key, spec.aliases)] for spec in catalog}
    exact = [spec for spec, keys in names.items() if wanted in keys]
    if len(exact) == 1:
        return exact[0]
    partial = exact or [spec for spec, keys in names.items() if any(wanted in key for key in keys)]
    if len(partial) == 1:
        return partial[0]
    if partial:
        options = ", ".join(spec.name for spec in partial)
        raise UnknownGpuError(f"'{query}' matches several GPUs ({options}): name one of them")
    close = difflib.get_close_matches(wanted, [_key(spec.name) for spec in catalog], n=3, cutoff=0.5)
    by_key = {_key(spec.name): spec.name for spec in catalog}
    hint = f" Did you mean {', '.join(by_key[key] for key in close)}?" if close else ""
    raise UnknownGpuError(
        f"unknown GPU '{query}'.{hint} See `ftwizard gpu --list`, or give a memory size such as 24GB."
    )


def spec_for_name(name: str) -> GpuSpec | None:
    """The catalogue entry for a name as the driver reports it ("NVIDIA A100-SXM4-80GB", "H100 80GB HBM3",
    "GeForce RTX 4080 SUPER"), or None when no single entry fits.

    Unlike resolve_gpu (a user's short query), every word of the reported name must be accounted for, so
    "RTX 3060 Ti" or "RTX 4090 Laptop GPU" do not borrow a different card's figures; only the words in
    _IGNORED_WORDS and memory sizes may be left over, and a size in the name must agree with the entry's.
    """
    reported = _words(name)
    if not reported:
        return None
    sizes = {word for word in reported if _SIZE_WORD.match(word)}
    found = {
        spec for spec in gpu_catalog() for label in (spec.name, *spec.aliases) if _fits(_words(label), reported, sizes)
    }
    return found.pop() if len(found) == 1 else None


def _words(text: str) -> set[str]:
    words = set(re.split(r"[^a-z0-9]+", text.lower())) - {""}
    return words - set(_NOISE)


def _fits(label: set[str], reported: set[str], sizes: set[str]) -> bool:
    """True when `label` (a catalogue name's words) covers every telling word of the reported name."""
    label_sizes = {word for word in label if _SIZE_WORD.match(word)}
    if sizes and label_sizes and not label_sizes <= sizes:
        return False  # "A100-SXM4-40GB" is not the A100 80GB
    if not (label - label_sizes) <= reported:
        return False
    leftover = reported - label
    return all(word in _IGNORED_WORDS or _SIZE_WORD.match(word) for word in leftover)
