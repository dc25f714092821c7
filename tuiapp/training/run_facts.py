"""Library versions and hardware for the `started` event, so a run's log says what it ran on."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from typing import Any

LIBRARIES = ("torch", "transformers", "trl", "peft", "datasets", "accelerate", "bitsandbytes", "unsloth")


def library_versions() -> dict[str, str]:
    """Python and the training libraries that are installed, by name."""
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def hardware_facts() -> dict[str, Any]:
    """The device training runs on: each CUDA GPU's name, memory and compute capability, or the CPU."""
    import torch

    facts: dict[str, Any] = {"device": "cuda" if torch.cuda.is_available() else "cpu", "cpu_count": os.cpu_count()}
    if torch.cuda.is_available():
        gpus = []
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            gpus.append(
                {
                    "name": props.name,
                    "memory_bytes": props.total_memory,
                    "capability": f"{props.major}.{props.minor}",
                }
            )
        facts["gpus"] = gpus
        facts["cuda"] = torch.version.cuda
    return facts
