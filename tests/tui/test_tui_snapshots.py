"""Snapshot tests of every scene at 80x24 and 120x40 (update with --snapshot-update)."""

from __future__ import annotations

import pytest
from tui_scenes import SCENES, SIZES


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
@pytest.mark.parametrize("name", sorted(SCENES))
def test_scene_snapshot(snap_compare, name: str, size: tuple[int, int]) -> None:
    scene = SCENES[name]
    assert snap_compare(scene.make_app(), run_before=scene.play, terminal_size=size)
