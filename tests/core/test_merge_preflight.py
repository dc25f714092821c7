"""The merge's checks before loading: the 16-bit size read from safetensors headers (or config.json), RAM /
VRAM / disk against it with injected numbers, the device "auto" picks, and destinations that must be refused."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tuiapp.core.merge_preflight import (
    LIBRARIES_BYTES,
    SMALL_FILES_BYTES,
    FreeResources,
    check_destination,
    check_merge_fits,
    choose_device,
    merge_needs,
    read_free_resources,
)
from tuiapp.core.models.stored_size import read_header, weight_files, weights_size
from tuiapp.core.units import GIB
from tuiapp.core.user_error import UserError

LLAMA_CONFIG = {
    "model_type": "llama",
    "architectures": ["LlamaForCausalLM"],
    "vocab_size": 1000,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 512,
    "tie_word_embeddings": False,
}


def write_safetensors(path: Path, tensors: dict[str, tuple[str, list[int]]]) -> None:
    """A safetensors file with the given (dtype, shape) tensors, all zero bytes."""
    size = {"F32": 4, "BF16": 2, "F16": 2, "I64": 8, "U8": 1}
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        count = 1
        for dim in shape:
            count *= dim
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + count * size[dtype]]}
        offset += count * size[dtype]
    body = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(body)) + body + bytes(offset))


def free(ram: float, disk: float, vram: float | None = None) -> FreeResources:
    """Free resources given in GiB."""
    return FreeResources(
        ram_bytes=int(ram * GIB),
        disk_bytes=int(disk * GIB),
        disk_path="/data",
        vram_bytes=None if vram is None else int(vram * GIB),
        gpu_name=None if vram is None else "RTX 4090",
    )


# --- the 16-bit size -------------------------------------------------------------------------------


def test_size_counts_every_tensor_at_two_bytes_whatever_it_is_stored_in(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(LLAMA_CONFIG))
    write_safetensors(tmp_path / "model.safetensors", {"a": ("F32", [10, 20]), "b": ("BF16", [5]), "c": ("I64", [3])})
    size = weights_size(str(tmp_path))
    assert size is not None
    assert (size.elements, size.bytes_16bit, size.source, size.quantized) == (
        208,
        200 * 2 + 5 * 2 + 3 * 8,
        "safetensors",
        False,
    )
    assert "__metadata__" not in read_header(tmp_path / "model.safetensors")


def test_sharded_model_sums_the_index_shards(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(LLAMA_CONFIG))
    write_safetensors(tmp_path / "model-00001-of-00002.safetensors", {"a": ("BF16", [1000, 1000])})
    write_safetensors(tmp_path / "model-00002-of-00002.safetensors", {"b": ("BF16", [500, 1000])})
    weight_map = {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    size = weights_size(str(tmp_path))
    assert size is not None and size.bytes_16bit == 3_000_000


def test_missing_shard_falls_back_to_the_shape_in_config_json(tmp_path: Path) -> None:
    """A Hub snapshot whose weights are not downloaded yet: the planner's parameter count x 2 bytes."""
    (tmp_path / "config.json").write_text(json.dumps(LLAMA_CONFIG))
    weight_map = {"a": "model-00001-of-00002.safetensors"}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    assert weight_files(tmp_path) is None
    size = weights_size(str(tmp_path))
    assert size is not None and size.source == "config.json"
    hidden, vocab, layers = 64, 1000, 2
    per_layer = hidden * hidden * 2 + hidden * 32 * 2 + 3 * hidden * 128 + 2 * hidden  # q,o + k,v (GQA) + MLP + norms
    params = 2 * vocab * hidden + layers * per_layer + hidden
    assert size.bytes_16bit == 2 * params


def test_hub_cached_snapshot_is_read_without_the_network(hub_cache: Callable[..., Path]) -> None:
    snapshot = hub_cache("org/model", {**LLAMA_CONFIG, "quantization_config": {"quant_method": "bitsandbytes"}})
    write_safetensors(snapshot / "model.safetensors", {"w": ("U8", [100, 8])})
    size = weights_size("org/model")
    assert size is not None and size.quantized and size.bytes_16bit == 800


def test_unknown_model_has_no_size(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "no-such-family"}))
    assert weights_size(str(tmp_path)) is None


def test_damaged_header_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(LLAMA_CONFIG))
    (tmp_path / "model.safetensors").write_bytes(struct.pack("<Q", 10) + b"not json!!")
    with pytest.raises(UserError, match="damaged safetensors header"):
        weights_size(str(tmp_path))


# --- room to merge -----------------------------------------------------------------------------------


def test_enough_room_passes() -> None:
    check_merge_fits(int(14 * GIB), "cpu", free(ram=32, disk=100), Path("/data/run/merged"))


def test_short_disk_names_both_figures_and_what_to_do() -> None:
    with pytest.raises(UserError) as caught:
        check_merge_fits(int(14 * GIB), "cpu", free(ram=64, disk=3), Path("/data/run/merged"))
    message = str(caught.value)
    assert "the disk holding /data needs 14.1 GiB for the shards and has 3.0 GiB free" in message
    assert "free 11.1 GiB there, or write elsewhere with -o DIR" in caught.value.fix
    assert "RAM" not in message


def test_every_shortage_is_in_one_error() -> None:
    """Short on RAM and disk on the CPU, with a GPU that would hold the model: one message, three remedies."""
    with pytest.raises(UserError) as caught:
        check_merge_fits(int(14 * GIB), "cpu", free(ram=8, disk=3, vram=22), Path("/data/run/merged"))
    error = caught.value
    assert "RAM needs 15.9 GiB and has 8.0 GiB free" in error.what
    assert "needs 14.1 GiB for the shards" in error.what
    assert "close programs to free 7.9 GiB of RAM, or merge on the GPU with --device cuda" in error.fix
    assert "-o DIR" in error.fix


def test_short_vram_suggests_the_cpu_when_ram_would_do() -> None:
    with pytest.raises(UserError) as caught:
        check_merge_fits(int(14 * GIB), "cuda", free(ram=64, disk=100, vram=10), Path("/m"))
    assert "RTX 4090 needs 15.9 GiB and has 10.0 GiB free" in caught.value.what
    assert caught.value.fix == "merge on the CPU with --device cpu"


def test_short_vram_and_ram_asks_to_free_gpu_memory() -> None:
    with pytest.raises(UserError) as caught:
        check_merge_fits(int(14 * GIB), "cuda", free(ram=4, disk=100, vram=10), Path("/m"))
    assert "free 5.9 GiB of GPU memory" in caught.value.fix


def test_needs_on_the_gpu_keep_only_a_shard_in_ram() -> None:
    big = 140 * GIB
    on_gpu, on_cpu = merge_needs(big, "cuda"), merge_needs(big, "cpu")
    assert on_gpu.ram_bytes == 5 * 10**9 + LIBRARIES_BYTES
    assert on_cpu.ram_bytes == on_gpu.vram_bytes == int(big * 1.1) + LIBRARIES_BYTES
    assert on_cpu.disk_bytes == big + SMALL_FILES_BYTES and on_cpu.vram_bytes == 0


# --- which device --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "cuda", "vram", "expected", "why"),
    [
        ("auto", False, None, "cpu", None),
        ("auto", True, 24.0, "cuda", None),
        ("auto", True, 8.0, "cpu", "merged on the CPU: RTX 4090 has 8.0 GiB free and the merge needs 15.9 GiB"),
        ("auto", True, None, "cuda", None),  # no VRAM figure: try the GPU
        ("cpu", True, 24.0, "cpu", None),
        ("cuda", True, 8.0, "cuda", None),  # asked for: check_merge_fits says it does not fit
    ],
)
def test_choose_device(requested: str, cuda: bool, vram: float | None, expected: str, why: str | None) -> None:
    resources = free(ram=64, disk=100, vram=vram)
    assert choose_device(requested, cuda, int(14 * GIB), resources) == (expected, why)


def test_cuda_without_cuda_is_a_user_error() -> None:
    with pytest.raises(UserError, match="PyTorch sees no CUDA GPU") as caught:
        choose_device("cuda", False, int(GIB), free(ram=64, disk=100))
    assert "--device cpu" in caught.value.fix


def test_read_free_resources_measures_the_nearest_existing_folder(tmp_path: Path) -> None:
    target = tmp_path / "not" / "yet" / "merged"
    found = read_free_resources(target, with_gpu=False)
    assert found.disk_path == str(tmp_path.resolve()) and found.disk_bytes > 0 and found.ram_bytes > 0
    assert found.vram_bytes is None


# --- where it may write --------------------------------------------------------------------------------


def test_destination_may_not_replace_the_run_or_the_base(tmp_path: Path) -> None:
    run, base = tmp_path / "runs" / "r1", tmp_path / "base"
    (run / "final").mkdir(parents=True)
    base.mkdir()
    protected = [run, run / "final", base]
    check_destination(run / "merged", protected)
    for bad in (run, run / "final", tmp_path / "runs", base, tmp_path):
        with pytest.raises(UserError, match="it would replace"):
            check_destination(bad, protected)


def test_destination_holding_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="does not hold a model"):
        check_destination(tmp_path, [])
    model = tmp_path / "old-merge"
    model.mkdir()
    (model / "config.json").write_text("{}")
    check_destination(model, [])  # an earlier merge is replaced
    check_destination(tmp_path / "empty-or-new", [])


def test_free_vram_is_read_from_the_gpu_torch_will_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tuiapp.core import hardware
    from tuiapp.core.hardware import GpuInfo

    gpus = tuple(
        GpuInfo(index=i, name=name, total_bytes=24 * GIB, used_bytes=(24 - free_gib) * GIB, free_bytes=free_gib * GIB)
        for i, (name, free_gib) in enumerate([("RTX 4090", 20), ("RTX 3090", 6)])
    )
    monkeypatch.setattr(hardware, "read_gpus", lambda: (gpus, None))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert read_free_resources(tmp_path, with_gpu=True).vram_bytes == 20 * GIB
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    found = read_free_resources(tmp_path, with_gpu=True)
    assert (found.vram_bytes, found.gpu_name) == (6 * GIB, "RTX 3090")
    assert read_free_resources(tmp_path, with_gpu=False).vram_bytes is None
    monkeypatch.setattr(
        hardware, "read_gpus", lambda: ((), "the NVIDIA driver library (libnvidia-ml) is not installed")
    )
    assert read_free_resources(tmp_path, with_gpu=True).vram_bytes is None
