"""Model shapes: what a model's config.json says about its size, without downloading weights."""

from __future__ import annotations

from tuiapp.core.models.families import UnsupportedModelError
from tuiapp.core.models.shape import LinearSpec, ModelShape

__all__ = ["LinearSpec", "ModelShape", "UnsupportedModelError"]
