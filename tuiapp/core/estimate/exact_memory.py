"""The exact check's memory figures from its JSON answer: the simulated allocated peak, and reserved and
nvidia-smi as the allocator-model replay gave them (or the closed form's allocator term on that peak, for an
answer without them)."""

from __future__ import annotations

from typing import Any

from tuiapp.core.estimate.closed_form import nvidia_smi_bytes, reserved_bytes
from tuiapp.core.estimate.exact_check import ExactCheckError

ANSWER_CAP = 200  # characters of a malformed answer quoted in the message


def _whole(result: Any, key: str) -> int | None:
    value = result.get(key) if isinstance(result, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def simulated_peak(result: dict[str, Any]) -> int:
    """The child's measured peak (bytes allocated); an answer without a positive whole number is refused."""
    peak = _whole(result, "peak_bytes")
    if peak is None:
        raise ExactCheckError(f"the exact check answered without a peak in bytes: {str(result)[:ANSWER_CAP]}")
    return peak


def simulated_memory(result: dict[str, Any]) -> tuple[int, int, int]:
    """(allocated, reserved, nvidia-smi) bytes: the replayed figures where the answer has them, else the closed
    form's allocator term on the simulated peak."""
    peak = simulated_peak(result)
    reserved = _whole(result, "reserved_bytes") or reserved_bytes(peak)
    return peak, reserved, _whole(result, "nvidia_smi_bytes") or nvidia_smi_bytes(reserved)
