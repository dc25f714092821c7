"""When the exact check is not worth running: a shape so large that no GPU could hold it, or so deep that
simulating it would take minutes. The closed form has already answered such a plan ("does not fit")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuiapp.core.units import GIB

if TYPE_CHECKING:
    from tuiapp.core.models.shape import ModelShape

FAR_PAST_FACTOR = 2
"""A closed-form peak this many times the largest catalogue GPU's memory decides nothing a simulation could."""
SIMULATED_LAYERS_MAX = 512
"""Deepest model simulated: the simulation builds and steps through every layer (about a second each on a
loaded laptop CPU); released models have at most ~160."""


def largest_gpu_bytes() -> tuple[str, int]:
    """(name, memory in bytes) of the catalogue GPU with the most memory."""
    from tuiapp.core.hardware.catalog import gpu_catalog

    biggest = max(gpu_catalog(), key=lambda spec: spec.memory_mib)
    return biggest.name, biggest.memory_mib * 1024**2


def simulation_skip_reason(shape: ModelShape, peak_alloc_bytes: int) -> str | None:
    """Why simulating this shape would be wasted or slow, in words; None when it is worth running."""
    name, memory = largest_gpu_bytes()
    if peak_alloc_bytes > FAR_PAST_FACTOR * memory:
        return (
            f"not simulated: the quick estimate, {peak_alloc_bytes / GIB:,.0f} GiB, is already far past the "
            f"largest GPU ({name}, {memory / GIB:.0f} GiB), so no simulation could change the answer"
        )
    if shape.num_layers > SIMULATED_LAYERS_MAX:
        return (
            f"not simulated: {shape.num_layers:,} layers would take minutes to simulate (released models have "
            f"at most a few hundred); the quick estimate stands"
        )
    return None


def request_skip_reason(request: dict[str, Any]) -> str | None:
    """simulation_skip_reason for an exact-check request (its config.json and setup); None when its shape
    cannot even be read, which the simulation then reports itself."""
    from tuiapp.core.estimate.closed_form import estimate_memory
    from tuiapp.core.estimate.sim_request import setup_from_request
    from tuiapp.core.models.shape import ModelShape
    from tuiapp.core.user_error import UserError

    try:
        shape = ModelShape.from_hf_config(request["hf_config"], name="model")
        setup = setup_from_request(request)
    except (UserError, KeyError, TypeError, ValueError):
        return None
    return simulation_skip_reason(shape, estimate_memory(shape, setup).peak_alloc_bytes)
