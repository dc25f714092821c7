"""The caching-allocator model against sequences worked out by hand from CUDACachingAllocator.cpp's rules."""

from __future__ import annotations

import pytest

from tuiapp.core.estimate.caching_allocator import CachingAllocatorModel, replay, round_size, segment_size
from tuiapp.core.estimate.reserved import (
    CUDA_CONTEXT_BYTES,
    library_workspace_sizes,
    nvidia_smi_bytes,
    replay_step,
)

KIB, MIB = 1 << 10, 1 << 20


def test_requests_round_to_512_bytes_and_segments_follow_the_pools() -> None:
    assert [round_size(n) for n in (1, 512, 513, 1000)] == [512, 512, 1024, 1024]
    assert segment_size(1 * MIB) == 2 * MIB  # small pool
    assert segment_size(1 * MIB + 512) == 20 * MIB  # large, under 10 MiB: a 20 MiB segment to split
    assert segment_size(10 * MIB - 512) == 20 * MIB
    assert segment_size(10 * MIB) == 10 * MIB  # from 10 MiB: its own size, rounded to 2 MiB
    assert segment_size(10 * MIB + 1) == 12 * MIB


def test_small_requests_share_two_mib_segments() -> None:
    # 600 KiB each: 2048 - 2 x 600 = 848 KiB left holds a third; the fourth needs a second segment.
    events = [(i, 600 * KIB) for i in range(4)]
    peaks = replay(events, expandable_segments=False)
    assert peaks.reserved_bytes == 4 * MIB and peaks.allocated_bytes == 4 * 600 * KIB and peaks.segments == 2


def test_a_large_remainder_of_one_mib_or_less_is_not_split_off() -> None:
    # 3 MiB takes a 20 MiB segment and leaves 17 MiB cached; 16 MiB then takes it whole (1 MiB is not > 1 MiB).
    peaks = replay([(1, 3 * MIB), (2, 16 * MIB)], expandable_segments=False)
    assert peaks.reserved_bytes == 20 * MIB
    assert peaks.allocated_bytes == 20 * MIB  # the 16 MiB request holds 17 MiB
    split = replay([(1, 3 * MIB), (2, 15 * MIB)], expandable_segments=False)
    assert split.allocated_bytes == 18 * MIB  # 2 MiB left over is split off and stays free


def test_freed_neighbours_merge_into_one_block() -> None:
    # Three 3 MiB blocks from one 20 MiB segment, all freed: one 20 MiB block again, which holds 19 MiB.
    events = [(1, 3 * MIB), (2, 3 * MIB), (3, 3 * MIB), (2, -1), (1, -1), (3, -1), (4, 19 * MIB)]
    peaks = replay(events, expandable_segments=False)
    assert peaks.reserved_bytes == 20 * MIB and peaks.segments == 1


def test_a_slightly_bigger_request_needs_a_new_segment_unless_segments_expand() -> None:
    # The N+1 pattern of PyTorch's note on expandable segments: 100 MiB freed, then 102 MiB.
    events = [(1, 100 * MIB), (1, -1), (2, 102 * MIB)]
    assert replay(events, expandable_segments=False).reserved_bytes == 202 * MIB
    # Expandable: 100 MiB maps 5 pages of 20 MiB; the freed block is the free tail, 2 MiB more maps one page.
    assert replay(events, expandable_segments=True).reserved_bytes == 120 * MIB


def test_expandable_pages_are_20_mib_large_and_2_mib_small() -> None:
    assert replay([(1, 3 * MIB)], expandable_segments=True).reserved_bytes == 20 * MIB
    assert replay([(1, 1 * MIB), (2, 1 * MIB), (3, 512)], expandable_segments=True).reserved_bytes == 4 * MIB


def test_holes_still_fragment_an_expandable_segment() -> None:
    # A 12 MiB [0,12) and B 12 MiB [12,24) in two pages, tail [24,40) free; A freed. C 14 MiB: A's hole is too
    # small, the tail holds it: 40 MiB. Without expandable segments C takes a third segment: 12+12+14 = 38 MiB.
    events = [(1, 12 * MIB), (2, 12 * MIB), (1, -1), (3, 14 * MIB)]
    assert replay(events, expandable_segments=True).reserved_bytes == 40 * MIB
    assert replay(events, expandable_segments=False).reserved_bytes == 38 * MIB


def test_best_fit_passes_over_the_growing_tail() -> None:
    # One 20 MiB page: A 12 MiB [0,12), B 2 MiB [12,14), free tail [14,20) of 6 MiB. A freed. C 5 MiB: the
    # tail is the smallest fit, but it can grow, so C goes into A's 12 MiB hole, [0,5) (get_free_block's
    # expandable_size). D 6 MiB then finds the tail still whole, and nothing new is mapped.
    model = CachingAllocatorModel(expandable_segments=True)
    for key, size in ((1, 12 * MIB), (2, 2 * MIB)):
        model.alloc(key, size)
    model.free(1)
    model.alloc(3, 5 * MIB)
    model.alloc(4, 7 * MIB)  # the rest of A's hole, exactly
    model.alloc(5, 6 * MIB)  # the tail, exactly
    assert model.reserved == 20 * MIB and model.allocated == 20 * MIB


def test_peak_allocated_and_reserved_only_grow() -> None:
    events = [(1, 50 * MIB), (2, 50 * MIB), (1, -1), (2, -1), (3, 10 * MIB)]
    for expandable in (True, False):
        peaks = replay(events, expandable_segments=expandable)
        assert peaks.allocated_bytes == 100 * MIB and peaks.reserved_bytes == 100 * MIB


def test_a_bad_sequence_is_refused() -> None:
    with pytest.raises(ValueError, match="not live"):
        replay([(1, -512)])
    with pytest.raises(ValueError, match="already live"):
        replay([(1, 512), (1, 512)])
    assert replay([(1, 0)]).reserved_bytes == 0  # an empty storage: nothing reserved


def test_a_long_sequence_replays_in_bounded_memory() -> None:
    # 200,000 events, never more than 64 live: the model keeps only blocks, never the sequence.
    def events():  # a generator: nothing holds the sequence
        for i in range(100_000):
            yield i, (1 + i % 97) * 64 * KIB
            if i >= 64:
                yield i - 64, -1

    model = CachingAllocatorModel(expandable_segments=False)
    for key, size in events():
        model.alloc(key, size) if size >= 0 else model.free(key)
    assert len(model._live) == 64
    assert model.reserved < 64 * 20 * MIB


def test_a_step_replays_twice_with_the_workspaces() -> None:
    # Weights 100 MiB (key 0); the step allocates an activation of 30 MiB and frees it.
    keys, sizes = [0, 1, 1], [100 * MIB, 30 * MIB, -30 * MIB]
    replayed = replay_step(keys, sizes, step_start=1)
    workspaces = sum(library_workspace_sizes())  # 2 x (32 + 1) MiB
    assert replayed.allocated_bytes == 100 * MIB + workspaces + 30 * MIB
    # Expandable: 100 MiB -> 5 pages; the two 32 MiB workspaces 2 x 2 pages... all in one large segment, in
    # 20 MiB pages: 100 + 64 + 30 = 194 MiB of large requests -> 200 MiB; the two 1 MiB ones, 2 MiB small.
    assert replayed.reserved_bytes == 200 * MIB + 2 * MIB
    assert replayed.nvidia_smi_bytes == nvidia_smi_bytes(replayed.reserved_bytes)
    assert replayed.nvidia_smi_bytes == replayed.reserved_bytes + CUDA_CONTEXT_BYTES
    # Not expandable: segments of 100, 32, 32 and 30 MiB, and one small one of 2 MiB.
    assert replayed.reserved_bytes_no_expandable == 194 * MIB + 2 * MIB
