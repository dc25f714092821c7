"""The wheels the GPU check carries to a GPU machine that has no network, and the checks that they will do.

python benchmarks/gpucheck/wheels.py download [--set base|unsloth] [--dest wheels]   (scripts/gpu_wheels.sh)
python benchmarks/gpucheck/wheels.py check [--set base|unsloth] [--dest wheels]

The GPU machine (Python 3.12, x86-64) already has torch, transformers, peft, accelerate, pyarrow, pandas,
nvidia-ml-py, triton, PyYAML, psutil and the rest of ON_GPU_MACHINE; what our worker needs beyond them is
downloaded here, at the versions this checkout is tested with, plus our package built as a wheel. Everything
that travels in one call must stay under CARRY_LIMIT, and every requirement of a carried wheel must be
carried too or already be there.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from packaging.markers import Marker

ROOT = Path(__file__).resolve().parents[2]
CARRY_LIMIT = 64 * 2**20  # the working tree and carried paths of one device call, in all
TREE_ALLOWANCE = 8 * 2**20  # the checkout itself travels in the same 64 MiB
PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_24_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "manylinux1_x86_64",
)
WHEEL_SETS = {
    "base": {
        "bitsandbytes": "0.50.2",
        "trl": "1.16.0",
        "datasets": "4.8.5",
        "dill": "0.4.1",
        "multiprocess": "0.70.19",
        "pydantic": "2.14.4",
        "pydantic_core": "2.50.5",
        "annotated_types": "0.8.0",
        "typing_inspection": "0.4.5",
    },
    "unsloth": {
        "unsloth": "2026.10.9",
        "unsloth_zoo": "2026.10.9",
        "cut_cross_entropy": "25.1.1",
        "torchao": "0.18.0",
        "tyro": "1.0.17",
        "docstring_parser": "0.18.0",
        "typeguard": "4.6.1",
        "shtab": "1.13.0",
        "msgspec": "0.23.0",
        "hf_transfer": "0.1.9",
        "json5": "0.17.3",
        "nest_asyncio": "1.6.0",
        "structlog": "26.1.0",
    },
}
LEFT_OUT = {  # required by a carried wheel, deliberately not carried: why it is not needed
    "xformers": "a build tied to one torch; Unsloth sets xformers = None when it is missing (models/_utils.py)",
    "diffusers": "image models only; Unsloth only quiets its warnings when it is there",
}
OURS = "ftwizard"
GPU_MACHINE_ENV = {
    "python_version": "3.12",
    "python_full_version": "3.12.3",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "extra": "",
}
# What the GPU machine's image holds (/work/.library/device/KINDS.md, read 2026-11-17), by normalized name.
_IMAGE_PACKAGES = """
    absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs botorch build
    certifi charset-normalizer chex click cloudpickle cmake colorama contourpy coverage cuda-bindings cuda-core
    cuda-pathfinder cuda-toolkit cupy-cuda13x cycler cython diffrax e3nn einops equinox etils execnet filelock
    flatbuffers flax fonttools formulaic frozenlist fsspec gpytorch grpcio h11 h5py hf-xet httpcore httpx
    huggingface-hub humanize hypothesis idna imageio iniconfig interface-meta jax jax-cuda13-pjrt jax-
    cuda13-plugin jaxlib jaxtyping jinja2 joblib kiwisolver lazy-loader lightning lightning-utilities linear-
    operator lineax llvmlite lxml markdown markdown-it-py markupsafe matplotlib mdurl meson ml-dtypes mpi4py
    mpmath msgpack multidict multipledispatch mypy-extensions nanobind narwhals networkx ninja numba numba-cuda
    numpy numpyro nvidia-cublas nvidia-cuda-cupti nvidia-cuda-nvrtc nvidia-cuda-runtime nvidia-cudnn-cu13
    nvidia-cufft nvidia-cufile nvidia-curand nvidia-cusolver nvidia-cusparse nvidia-cusparselt-cu13 nvidia-ml-py
    nvidia-nccl-cu13 nvidia-nvjitlink nvidia-nvshmem-cu13 nvidia-nvtx onnx onnx-ir onnxruntime onnxscript
    opencv-python-headless optax opt-einsum opt-einsum-fx optimistix orbax-checkpoint packaging pandas pathspec
    patsy peft pillow pip pluggy portalocker prometheus-client propcache protobuf psutil pyarrow pybind11 py-
    cpuinfo pygments pyparsing pyproject-hooks pyre-extensions pytest pytest-benchmark pytest-cov pytest-mock
    pytest-timeout pytest-xdist python-dateutil pytorch-lightning pyyaml regex requests rich sacrebleu
    safetensors scikit-build-core scikit-image scikit-learn scipy seaborn sentencepiece sentence-transformers
    setuptools shellingham simplejson six sortedcontainers statsmodels sympy tabulate tensorboard tensorboard-
    data-server tensorstore threadpoolctl tifffile tiktoken timm tokenizers toolz torch torchaudio torchdiffeq
    torch-geometric torchmetrics torchvision tqdm transformers treescope triton typer typing-extensions typing-
    inspect urllib3 uvloop wadler-lindig werkzeug wheel wrapt xarray xxhash yarl zipp
"""
ON_GPU_MACHINE = frozenset(_IMAGE_PACKAGES.split())
OPTIONAL_FOR_US = frozenset({"textual", "textual-plotext"})  # the TUI's: the worker never imports them


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(wheel: Path) -> list[str]:
    """The wheel's Requires-Dist names, without the ones behind an extra."""
    with zipfile.ZipFile(wheel) as archive:
        meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        lines = archive.read(meta).decode("utf-8", "replace").splitlines()
    names = []
    for line in lines:
        if not line.startswith("Requires-Dist:"):
            continue
        spec = line.split(":", 1)[1].strip()
        marker = spec.split(";", 1)[1] if ";" in spec else None
        if marker is not None and not Marker(marker).evaluate(GPU_MACHINE_ENV):
            continue  # an extra's, or another platform's (Windows, macOS) or Python's
        names.append(normalized(re.split(r"[\s;<>=!~\[(]", spec, maxsplit=1)[0]))
    return names


def wheel_name(wheel: Path) -> str:
    return normalized(wheel.name.split("-", 1)[0])


def problems(folder: Path, set_name: str, limit: int = CARRY_LIMIT - TREE_ALLOWANCE) -> list[str]:
    """What is wrong with the wheels in `folder` for `set_name`: missing, two versions, too big, unmet needs."""
    wheels = sorted(folder.glob("*.whl"))
    found = [wheel_name(w) for w in wheels]
    wanted = [normalized(n) for n in WHEEL_SETS[set_name]] + ([OURS] if set_name == "base" else [])
    issues = [f"missing: {name}" for name in wanted if name not in found]
    issues += [f"two versions of {name}: keep one" for name in sorted(set(found)) if found.count(name) > 1]
    total = sum(w.stat().st_size for w in wheels)
    if total > limit:
        issues.append(f"{total / 2**20:.1f} MiB of wheels, over the {limit / 2**20:.0f} MiB that can travel")
    there = ON_GPU_MACHINE | set(found) | (set(_base_names()) if set_name != "base" else set())
    for wheel in wheels:
        allowed = there | set(LEFT_OUT) | (OPTIONAL_FOR_US if wheel_name(wheel) == OURS else set())
        unmet = sorted({r for r in requirements(wheel) if r not in allowed})
        if unmet:
            issues.append(f"{wheel.name} needs {', '.join(unmet)}: neither carried nor on the GPU machine")
    return issues


def _base_names() -> list[str]:
    return [normalized(n) for n in WHEEL_SETS["base"]] + [OURS]


def download(folder: Path, set_name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    platform_args = [arg for p in PLATFORMS for arg in ("--platform", p)]
    specs = [f"{name}=={version}" for name, version in WHEEL_SETS[set_name].items()]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--python-version",
            "3.12",
            "--implementation",
            "cp",
            *platform_args,
            "-d",
            str(folder),
            *specs,
        ],
        check=True,
    )
    if set_name == "base":
        for old in folder.glob(f"{OURS}-*.whl"):
            old.unlink()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--no-deps",
                "--no-build-isolation",
                "-w",
                str(folder),
                str(ROOT),
            ],
            check=True,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("download", "check"))
    parser.add_argument("--set", dest="set_name", choices=sorted(WHEEL_SETS), default="base")
    parser.add_argument("--dest", type=Path, help="the folder (default wheels/, or wheels-unsloth/)")
    args = parser.parse_args(argv)
    folder = args.dest or ROOT / ("wheels" if args.set_name == "base" else "wheels-unsloth")
    if args.action == "download":
        download(folder, args.set_name)
    issues = problems(folder, args.set_name)
    total = sum(w.stat().st_size for w in folder.glob("*.whl")) if folder.is_dir() else 0
    for issue in issues:
        print(f"{folder}: {issue}", file=sys.stderr)
    print(
        f"{folder}: {len(list(folder.glob('*.whl')))} wheels, {total / 2**20:.1f} MiB; {'NOT ' if issues else ''}ready"
    )
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main())
