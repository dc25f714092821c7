"""How many bytes a model's weights take once loaded in 16 bits, read before anything is loaded: from the
headers of its safetensors files (a few KB each, no torch), else from its config.json's shape.

A safetensors file starts with an 8-byte little-endian length and that many bytes of JSON naming each tensor's
dtype and shape, so the exact element count is known without reading a weight.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tuiapp.core.user_error import UserError
from tuiapp.core.user_paths import user_path

INDEX_FILE = "model.safetensors.index.json"
SINGLE_FILE = "model.safetensors"
MAX_HEADER_BYTES = 100 * 1024 * 1024  # safetensors' own limit; a bigger "header" is a damaged file
FLOAT_DTYPES = frozenset({"F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4"})
OTHER_DTYPE_BYTES = {"I64": 8, "U64": 8, "I32": 4, "U32": 4, "I16": 2, "U16": 2, "I8": 1, "U8": 1, "BOOL": 1}

SizeSource = Literal["safetensors", "config.json"]


@dataclass(frozen=True)
class WeightsSize:
    """A model's weights in 16 bits (floating tensors at 2 bytes an element, others as stored)."""

    bytes_16bit: int
    elements: int
    source: SizeSource
    quantized: bool = False
    """config.json carries a quantization_config: the files hold packed 4/8-bit weights, not 16-bit ones."""


def read_header(path: Path) -> dict[str, Any]:
    """The tensor table of one safetensors file ({name: {dtype, shape, data_offsets}}, no __metadata__)."""
    with path.open("rb") as handle:
        prefix = handle.read(8)
        if len(prefix) < 8:
            raise UserError(f"{path} is not a safetensors file (shorter than its header)")
        (length,) = struct.unpack("<Q", prefix)
        if length > MAX_HEADER_BYTES:
            raise UserError(f"{path} is not a safetensors file (its header claims {length} bytes)")
        try:
            table = json.loads(handle.read(length))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"{path} has a damaged safetensors header ({exc})") from exc
    if not isinstance(table, dict):
        raise UserError(f"{path} has a damaged safetensors header (not a JSON object)")
    table.pop("__metadata__", None)
    return table


def size_of_files(files: list[Path], quantized: bool = False) -> WeightsSize:
    """The 16-bit size of the tensors stored in `files`."""
    total_bytes = total_elements = 0
    for path in files:
        for name, tensor in read_header(path).items():
            try:
                count = math.prod(int(dim) for dim in tensor["shape"])
                dtype = str(tensor["dtype"])
            except (KeyError, TypeError, ValueError) as exc:
                raise UserError(f"{path}: tensor {name} has a damaged entry in the header") from exc
            total_elements += count
            total_bytes += count * (2 if dtype in FLOAT_DTYPES else OTHER_DTYPE_BYTES.get(dtype, 2))
    return WeightsSize(total_bytes, total_elements, "safetensors", quantized)


def weight_files(folder: Path) -> list[Path] | None:
    """The safetensors files of a model folder (its index's shards, or the single file); None when any
    is missing (a Hub snapshot whose weights are not downloaded yet) or there are none."""
    index = folder / INDEX_FILE
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
            names = sorted(set(weight_map.values()))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError):
            return None
        files = [folder / name for name in names]
        return files if files and all(path.is_file() for path in files) else None
    if (folder / SINGLE_FILE).is_file():
        return [folder / SINGLE_FILE]
    found = sorted(folder.glob("*.safetensors"))
    return found or None


def _is_quantized(folder: Path) -> bool:
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(config, dict) and bool(config.get("quantization_config"))


def model_folder(name_or_path: str, revision: str | None = None) -> Path | None:
    """The folder holding the model's files: the local folder itself, or its snapshot in the Hugging Face
    cache (found without the network); None when it is neither."""
    path = user_path(name_or_path)
    if (path / "config.json").is_file():
        return path.resolve()
    if name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") != 1:
        return None
    import huggingface_hub  # imported where used: it is slow to import

    from tuiapp.core.models.local_cache import hub_cache_dir

    try:
        found = huggingface_hub.try_to_load_from_cache(
            name_or_path, "config.json", cache_dir=hub_cache_dir(), revision=revision
        )
    except ValueError:  # not a valid repo id
        return None
    return Path(found).parent if isinstance(found, str) else None


def weights_size(name_or_path: str, revision: str | None = None) -> WeightsSize | None:
    """The model's 16-bit size: from its safetensors headers when its files are here, else from the shape
    its config.json gives (the planner's parameter count, x 2 bytes); None when neither can be read."""
    folder = model_folder(name_or_path, revision)
    if folder is not None:
        files = weight_files(folder)
        if files is not None:
            return size_of_files(files, _is_quantized(folder))
    from tuiapp.core.models.resolve import resolve_model

    try:
        resolved = resolve_model(name_or_path, revision)
    except UserError:  # an unsupported family, or offline without the config: the merge will say more
        return None
    quantized = bool(resolved.hf_config.get("quantization_config"))
    params = resolved.shape.total_params
    return WeightsSize(2 * params, params, "config.json", quantized)
