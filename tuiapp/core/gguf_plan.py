"""What a GGUF export needs before anything heavy runs: the quantization asked for, whether llama.cpp's
converter writes it directly or llama-quantize must finish the job, where that tool is, the file names,
and how many bytes the file will take. Pure: stdlib only.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

from tuiapp.core.user_error import UserError
from tuiapp.core.user_paths import user_path

LLAMA_QUANTIZE_ENV = "FTWIZARD_LLAMA_QUANTIZE"
LLAMA_QUANTIZE_NAMES = ("llama-quantize", "quantize")  # llama.cpp's binary; `quantize` before mid-2024
INTERMEDIATE = "f16"  # what llama-quantize starts from (and what is left when it is missing)


@dataclass(frozen=True)
class Quant:
    """One GGUF type: its name here (lower case), llama.cpp's name for it, bits per weight (a planning
    figure: the real file varies a little), and whether the converter writes it without llama-quantize."""

    name: str
    llama_name: str
    bits: float
    direct: bool


QUANTS = {
    q.name: q
    for q in (
        Quant("f32", "F32", 32.0, True),
        Quant("f16", "F16", 16.0, True),
        Quant("bf16", "BF16", 16.0, True),
        Quant("q8_0", "Q8_0", 8.5, True),
        Quant("q6_k", "Q6_K", 6.56, False),
        Quant("q5_k_m", "Q5_K_M", 5.69, False),
        Quant("q5_k_s", "Q5_K_S", 5.54, False),
        Quant("q5_1", "Q5_1", 6.0, False),
        Quant("q5_0", "Q5_0", 5.5, False),
        Quant("q4_k_m", "Q4_K_M", 4.85, False),
        Quant("q4_k_s", "Q4_K_S", 4.58, False),
        Quant("q4_1", "Q4_1", 5.0, False),
        Quant("q4_0", "Q4_0", 4.5, False),
        Quant("iq4_nl", "IQ4_NL", 4.5, False),
        Quant("iq4_xs", "IQ4_XS", 4.25, False),
        Quant("q3_k_l", "Q3_K_L", 4.27, False),
        Quant("q3_k_m", "Q3_K_M", 3.91, False),
        Quant("q3_k_s", "Q3_K_S", 3.5, False),
        Quant("q2_k", "Q2_K", 3.35, False),
    )
}
# Below ~3 bits llama.cpp wants an importance matrix (`llama-imatrix`, from sample text): not offered here.


def parse_quant(value: object) -> Quant:
    """The Quant named by `value` (any case, `Q4_K_M` or `q4_k_m`); a UserError listing the choices."""
    name = str(value or "").strip().lower().replace("-", "_")
    if name in QUANTS:
        return QUANTS[name]
    shown = str(value)[:40]
    raise UserError(
        f"{shown!r} is not a GGUF type ftwizard writes",
        fix=f"use one of {', '.join(QUANTS)} (f16, bf16 and q8_0 need nothing but the converter)",
    )


def model_label(name_or_path: str) -> str:
    """A file-name-safe label for a model: `Qwen/Qwen2.5-0.5B-Instruct` -> `Qwen2.5-0.5B-Instruct`."""
    base = Path(name_or_path.rstrip("/")).name
    return re.sub(r"[^\w.-]+", "-", base).strip("-.")[:80] or "model"


def gguf_file_name(label: str, quant: Quant) -> str:
    """`LABEL-Q4_K_M.gguf`, the name the Hub's GGUF repositories use."""
    return f"{label}-{quant.llama_name}.gguf"


def ollama_model_name(run_name: str) -> str:
    """A name `ollama create` accepts (lower case letters, digits, `.`, `-`, `_`)."""
    return re.sub(r"[^a-z0-9._-]+", "-", run_name.lower()).strip("-._")[:80] or "ftwizard-model"


def find_llama_quantize(chosen: str | None, env: dict[str, str] | None = None) -> Path | None:
    """llama.cpp's llama-quantize: the path the user gave, else $FTWIZARD_LLAMA_QUANTIZE, else on PATH.
    A path given that is not an executable file is a UserError; nothing found is None."""
    env = dict(os.environ) if env is None else env
    for source, value in (("--llama-quantize", chosen), (LLAMA_QUANTIZE_ENV, env.get(LLAMA_QUANTIZE_ENV))):
        if value:
            path = user_path(value)
            if path.is_file() and os.access(path, os.X_OK):
                return path.resolve()
            raise UserError(
                f"{source} names {str(path)[:300]}, which is not an executable file",
                fix="give the path of llama.cpp's llama-quantize (build/bin/llama-quantize in a llama.cpp build)",
            )
    for name in LLAMA_QUANTIZE_NAMES:
        found = shutil.which(name, path=env.get("PATH"))
        if found:
            return Path(found).resolve()
    return None


def quantize_command(tool: str | Path, source: Path, target: Path, quant: Quant) -> list[str]:
    """llama-quantize's command line: `llama-quantize IN.gguf OUT.gguf Q4_K_M`."""
    return [str(tool), str(source), str(target), quant.llama_name]


def shell_line(words: list[str]) -> str:
    """A command as a person would paste it into a shell."""
    return shlex.join(words)


def count_weights(folder: Path) -> int:
    """How many numbers the safetensors files in `folder` hold (read from their headers, not their data)."""
    total = 0
    for shard in sorted(folder.glob("*.safetensors")):
        for entry in _safetensors_header(shard).values():
            if isinstance(entry, dict) and isinstance(entry.get("shape"), list):
                count = 1
                for size in entry["shape"]:
                    count *= int(size)
                total += count
    return total


def count_tensors(folder: Path) -> int:
    """How many tensors the safetensors files in `folder` hold."""
    return sum(
        sum(1 for key in _safetensors_header(shard) if key != "__metadata__")
        for shard in sorted(folder.glob("*.safetensors"))
    )


def _safetensors_header(shard: Path) -> dict[str, object]:
    try:
        with shard.open("rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            if length > 100 * 1024**2:
                raise ValueError("header too large")
            header = json.loads(handle.read(length))
    except (OSError, ValueError, struct.error) as exc:
        raise UserError(f"{shard} is not a readable safetensors file ({exc})") from exc
    return header if isinstance(header, dict) else {}


def expected_gguf_bytes(weights: int, quant: Quant) -> int:
    """About how large the GGUF of `weights` numbers is in `quant` (plus the vocabulary and metadata)."""
    return int(weights * quant.bits / 8) + 16 * 1024**2


def check_disk_for(out_dir: Path, needed: int) -> None:
    """A UserError when the disk holding `out_dir` has less than `needed` bytes free."""
    probe = out_dir
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < needed:
        gib = 1024**3
        raise UserError(
            f"the GGUF needs about {needed / gib:.2f} GiB in {out_dir} but that disk has {free / gib:.2f} GiB free",
            fix="free space there, or choose another folder with -o DIR",
        )


def merged_is_current(merged: Path, final: Path) -> bool:
    """True when `merged` holds a whole merged model (config, every shard its index names, a tokenizer) that
    was written after the adapter in `final` last changed: a GGUF can be made from it without merging again."""
    config = merged / "config.json"
    if not config.is_file() or not ((merged / "tokenizer.json").is_file() or (merged / "tokenizer.model").is_file()):
        return False
    index = merged / "model.safetensors.index.json"
    if index.is_file():
        try:
            shards = set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values())
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
            return False
        if not shards or not all((merged / shard).is_file() for shard in shards):
            return False
    elif not (merged / "model.safetensors").is_file():
        return False
    adapter_files = [final / name for name in ("adapter_model.safetensors", "adapter_config.json")]
    newest_adapter = max((f.stat().st_mtime for f in adapter_files if f.is_file()), default=None)
    return newest_adapter is not None and config.stat().st_mtime >= newest_adapter
