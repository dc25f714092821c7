"""Whether a checkpoint folder is complete, so resume never starts from one cut short by a crash or a full disk.

The trainer writes the weights, then the optimizer, scheduler and RNG state, and `trainer_state.json` last,
without syncing any of them: after a power loss the state file may be there while the weights are short.
So each file is checked for its own end: a safetensors file's size against its header, a torch pickle's zip
directory (written last), the state file parsed. Only headers and the files' ends are read, and a folder's
answer is kept while none of its files changes, so a listing every two seconds costs a few `stat` calls.
"""

from __future__ import annotations

import json
import struct
import zipfile
from functools import lru_cache
from pathlib import Path

STATE = "trainer_state.json"
WEIGHTS = ("adapter_model.safetensors", "model.safetensors", "adapter_model.bin", "pytorch_model.bin")
INDEXES = ("model.safetensors.index.json", "pytorch_model.bin.index.json", "adapter_model.safetensors.index.json")
TORCH_STATE = ("optimizer.pt", "scheduler.pt", "rng_state.pth", "scaler.pt")  # optional (save_only_model)
MAX_JSON_BYTES = 256 << 20  # a trainer state with a long log history is a few MB
MAX_HEADER_BYTES = 100 << 20  # safetensors' own limit on its header


def checkpoint_problem(folder: Path) -> str | None:
    """Why `folder` cannot be resumed from (a file missing or cut short), or None when it is complete."""
    try:
        files = tuple(sorted((p.name, st.st_size, st.st_mtime_ns) for p in folder.iterdir() if (st := p.stat())))
    except OSError as exc:
        return f"{folder.name} cannot be read: {exc.strerror or exc}"
    return _problem(folder, files)


@lru_cache(maxsize=256)
def _problem(folder: Path, files: tuple[tuple[str, int, int], ...]) -> str | None:
    """The check itself, cached on the folder's file names, sizes and modification times."""
    names = {name for name, _, _ in files}
    try:
        if STATE not in names:
            return f"{STATE} is missing (the trainer writes it last)"
        if not isinstance(_json(folder / STATE).get("global_step"), int):
            return f"{STATE} has no global_step"
        weights = [folder / name for name in WEIGHTS if name in names]
        for index in (name for name in INDEXES if name in names):
            shards = _json(folder / index).get("weight_map", {}).values()
            weights += [folder / shard for shard in sorted(set(shards))]
        if not weights:
            return "no weights (adapter_model.safetensors, model.safetensors or an index of shards)"
        for path in weights + [folder / name for name in TORCH_STATE if name in names]:
            if (problem := _file_problem(path)) is not None:
                return problem
    except (OSError, ValueError, RecursionError, AttributeError, TypeError, KeyError, IndexError, struct.error) as exc:
        return f"{folder.name} cannot be read: {exc}"
    return None


def _json(path: Path) -> dict:
    with path.open("rb") as handle:
        raw = handle.read(MAX_JSON_BYTES + 1)
    data = json.loads(raw) if len(raw) <= MAX_JSON_BYTES else None
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} is not a complete JSON object")
    return data


def _file_problem(path: Path) -> str | None:
    """Why one weights or state file is incomplete, or None."""
    if not path.is_file():
        return f"{path.name} is missing"
    if path.suffix == ".safetensors":
        return _safetensors_problem(path)
    if not zipfile.is_zipfile(path):  # torch.save's zip keeps its directory at the very end
        return f"{path.name} is cut short (its zip directory is missing)"
    return None


def _safetensors_problem(path: Path) -> str | None:
    """A safetensors file is 8 bytes of header length, the JSON header, then the tensors' bytes, to the end."""
    with path.open("rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            return f"{path.name} is cut short (no header)"
        (length,) = struct.unpack("<Q", head)
        if length > MAX_HEADER_BYTES:
            return f"{path.name} has an impossible header length"
        header = json.loads(handle.read(length))
        handle.seek(0, 2)
        size = handle.tell()
    ends = [entry["data_offsets"][1] for key, entry in header.items() if key != "__metadata__"]
    expected = 8 + length + max(ends, default=0)
    if size < expected:
        return f"{path.name} is cut short ({size} of {expected} bytes)"
    return None
