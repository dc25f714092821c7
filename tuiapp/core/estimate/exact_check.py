"""Launch the exact memory check (`tuiapp.training.memory_sim`) in a child process, with a disk cache.

The core never imports torch: the simulation runs in `sys.executable -m tuiapp.training.memory_sim`,
request in on stdin, result out on stdout, both JSON. Results are cached by a hash of the request and
of the library versions that decide the answer, so a repeated check costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from tuiapp.core.child_env import child_env
from tuiapp.core.user_error import UserError

SIM_VERSION = 2  # bump when the simulator's answers change, to retire cached results
DEPENDENCIES = ("torch", "transformers", "peft", "bitsandbytes")


class ExactCheckError(UserError):
    """The exact check could not answer; the message says why, in words."""


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/ftwizard/memory_sim`, or `~/.cache/ftwizard/memory_sim`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ftwizard" / "memory_sim"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "missing"


def request_key(request: dict[str, Any]) -> str:
    """A stable hash of the request plus the simulator and library versions."""
    try:
        body = json.dumps(request, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ExactCheckError(f"the exact-check request is not plain JSON data: {exc}") from None
    versions = {name: _version(name) for name in DEPENDENCIES}
    stamp = json.dumps({"sim": SIM_VERSION, "versions": versions, "request": body}, sort_keys=True)
    return hashlib.sha256(stamp.encode()).hexdigest()[:32]


def _read_cache(path: Path) -> dict[str, Any] | None:
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return cached if isinstance(cached, dict) and "peak_bytes" in cached else None


def _write_cache(path: Path, result: dict[str, Any]) -> None:
    """Write atomically; a cache that cannot be written only costs a rerun later."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(result), encoding="utf-8")
        partial.replace(path)
    except OSError:
        pass


def _child_env() -> dict[str, str]:
    """The worker's environment, with the Hub left alone: the simulation needs no download."""
    env = child_env()
    env.setdefault("HF_HUB_OFFLINE", "1")
    return env


def _parse_child(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    lines = proc.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if lines else None
    except ValueError:
        answer = None
    if isinstance(answer, dict) and "error" in answer:
        raise ExactCheckError(f"exact check failed: {answer['error']}")
    if proc.returncode != 0 or not isinstance(answer, dict):
        detail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ExactCheckError(f"exact check failed (exit status {proc.returncode}): {detail}")
    return answer


def run_exact_check(request: dict[str, Any], timeout_s: float = 120, cache_dir: Path | None = None) -> dict[str, Any]:
    """Simulate one training step of `request` in a child process (or reuse a cached answer).

    Raises ExactCheckError when the shape is not worth simulating (sim_guard), the request is rejected, the
    child fails or it runs past `timeout_s`.
    """
    from tuiapp.core.estimate.sim_guard import request_skip_reason

    skipped = request_skip_reason(request)
    if skipped is not None:
        raise ExactCheckError(skipped)
    path = (cache_dir or default_cache_dir()) / f"{request_key(request)}.json"
    cached = _read_cache(path)
    if cached is not None:
        return cached
    command = [sys.executable, "-m", "tuiapp.training.memory_sim"]
    try:
        proc = subprocess.run(
            command,
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=_child_env(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ExactCheckError(
            f"the exact check took longer than {timeout_s:g} s and was stopped; "
            "try a shorter sequence or rely on the quick estimate"
        ) from None
    except OSError as exc:
        raise ExactCheckError(f"could not start the exact check ({sys.executable}): {exc}") from None
    result = _parse_child(proc)
    _write_cache(path, result)
    return result
