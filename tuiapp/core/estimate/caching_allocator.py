"""A model of PyTorch's CUDA caching allocator, to turn a sequence of allocations into peak reserved memory.

Read from c10/cuda/CUDACachingAllocator.cpp (pytorch/pytorch, the DeviceCachingAllocator) with the default
settings of c10/core/AllocatorConfig.h (max_split_size unlimited, no power-of-two rounding, no garbage
collection). One device, one stream, no CUDA graphs, no OOM retry (which would release cached segments):

- every request is rounded up to 512 bytes (`round_size`, kMinBlockSize); 0 bytes allocate nothing;
- requests up to 1 MiB (kSmallSize) use the small pool, larger ones the large pool;
- a request takes the smallest cached free block of its pool that holds it (`get_free_block`, a set ordered
  by size then address);
- without one, a new segment: 2 MiB for the small pool (kSmallBuffer), 20 MiB for requests under 10 MiB
  (kLargeBuffer, kMinLargeAlloc), else the request rounded up to 2 MiB (kRoundLarge) (`get_allocation_size`);
- the block found is split when what remains is at least 512 bytes (small pool, or any pool with
  expandable segments) or more than 1 MiB (large pool) (`should_split`); otherwise the request holds it all;
- a freed block merges with free neighbours of its segment (`free_block`, `try_merge_blocks`); segments
  are never given back while the program runs, so reserved memory only grows.

With expandable segments (`expandable_segments:True`) each pool has one segment of virtual address space that
grows at its end in pages of 2 MiB (small pool) or 20 MiB (large pool) (`find_expandable_block`, `map_block`):
a request no free block holds maps just enough pages after the segment's free tail and merges with it; the
best-fit search passes over that tail while another free block holds the request (`get_free_block`'s
`expandable_size`).

Cost: O(log k) comparisons and O(k) memory moves per event for k cached free blocks (a sorted list), memory
in proportion to the live and cached blocks, never to the length of the sequence.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

MIN_BLOCK = 512  # kMinBlockSize: every size is rounded up to this
SMALL_SIZE = 1 << 20  # kSmallSize: largest request of the small pool
SMALL_BUFFER = 2 << 20  # kSmallBuffer: a small-pool segment (and an expandable small-pool page)
LARGE_BUFFER = 20 << 20  # kLargeBuffer: a segment for requests under MIN_LARGE_ALLOC (and a large page)
MIN_LARGE_ALLOC = 10 << 20  # kMinLargeAlloc: requests from here on get a segment of their own size
ROUND_LARGE = 2 << 20  # kRoundLarge: large segments are rounded up to this
ADDRESS_SPACE = 1 << 48  # an expandable segment's virtual range (1 1/8 of the GPU's memory): never filled here


def round_size(nbytes: int) -> int:
    """Bytes the allocator hands out for a request of `nbytes` (`round_size`)."""
    return max(MIN_BLOCK, -(-nbytes // MIN_BLOCK) * MIN_BLOCK)


def segment_size(size: int) -> int:
    """Bytes of the new segment made for a rounded request that no cached block holds (`get_allocation_size`)."""
    if size <= SMALL_SIZE:
        return SMALL_BUFFER
    if size < MIN_LARGE_ALLOC:
        return LARGE_BUFFER
    return -(-size // ROUND_LARGE) * ROUND_LARGE


class _Block:
    """A stretch of one segment: handed out or cached; `prev`/`next` are its neighbours in the segment."""

    __slots__ = ("addr", "free", "next", "prev", "size", "small")

    def __init__(self, addr: int, size: int, small: bool) -> None:
        self.addr, self.size, self.free, self.small = addr, size, True, small
        self.prev: _Block | None = None
        self.next: _Block | None = None


class _Pool:
    """The small or the large pool: its cached free blocks by (size, address), and its segments."""

    def __init__(self, small: bool, expandable: bool) -> None:
        self.small, self.expandable = small, expandable
        self.free_keys: list[tuple[int, int]] = []
        self.free_blocks: dict[int, _Block] = {}
        self.page = SMALL_BUFFER if small else LARGE_BUFFER
        self.tail: _Block | None = None  # the expandable segment's last mapped block

    def cache(self, block: _Block) -> None:
        block.free = True
        bisect.insort(self.free_keys, (block.size, block.addr))
        self.free_blocks[block.addr] = block

    def uncache(self, block: _Block) -> None:
        del self.free_keys[bisect.bisect_left(self.free_keys, (block.size, block.addr))]
        del self.free_blocks[block.addr]
        block.free = False

    def best_fit(self, size: int) -> _Block | None:
        """The smallest cached block that holds `size`; with expandable segments the segment's free tail only
        when no other block does (it can grow, so it counts as larger than any)."""
        at = bisect.bisect_left(self.free_keys, (size, -1))
        if at == len(self.free_keys):
            return None
        block = self.free_blocks[self.free_keys[at][1]]
        if self.expandable and block is self.tail and at + 1 < len(self.free_keys):
            block = self.free_blocks[self.free_keys[at + 1][1]]
        return block

    def should_split(self, block: _Block, size: int) -> bool:
        remaining = block.size - size
        return remaining >= MIN_BLOCK if self.small or self.expandable else remaining > SMALL_SIZE


@dataclass(frozen=True)
class AllocatorPeaks:
    """What torch.cuda.max_memory_allocated and max_memory_reserved would report after the sequence."""

    allocated_bytes: int
    reserved_bytes: int
    segments: int
    """cudaMalloc calls (or page mappings, with expandable segments) made."""


class CachingAllocatorModel:
    """Replays allocations and frees, keeping the allocator's blocks; `peaks()` says what it reserved."""

    def __init__(self, expandable_segments: bool = True) -> None:
        self.expandable_segments = expandable_segments
        self._pools = (_Pool(True, expandable_segments), _Pool(False, expandable_segments))
        self._live: dict[int, _Block] = {}
        self._next_addr = 0  # a new segment starts here; segments never touch, so they never merge
        self.allocated = self.peak_allocated = self.reserved = self.segments = 0

    def _new_segment(self, pool: _Pool, nbytes: int) -> _Block:
        block = _Block(self._next_addr, nbytes, pool.small)
        self._next_addr += nbytes + ROUND_LARGE  # a gap: blocks of different segments are not neighbours
        self.reserved += nbytes
        self.segments += 1
        return block

    def _grow(self, pool: _Pool, size: int) -> _Block:
        """Map pages at the end of the pool's expandable segment until its free tail holds `size`."""
        tail = pool.tail
        have = tail.size if tail is not None and tail.free else 0
        pages = -(-(size - have) // pool.page) * pool.page
        self.reserved += pages
        self.segments += 1
        if have:
            pool.uncache(tail)  # type: ignore[arg-type]
            tail.size += pages  # type: ignore[union-attr]
            return tail  # type: ignore[return-value]
        if tail is None:  # the pool's first mapping reserves the segment's whole address space
            block = _Block(self._next_addr, pages, pool.small)
            self._next_addr += ADDRESS_SPACE
        else:
            block = _Block(tail.addr + tail.size, pages, pool.small)
            block.prev, tail.next = tail, block
        pool.tail = block
        return block

    def alloc(self, key: int, nbytes: int) -> None:
        """Allocate `nbytes` for `key` (a tensor storage's identity); 0 bytes allocate nothing."""
        if key in self._live:
            raise ValueError(f"allocation {key} is already live")
        if nbytes <= 0:  # PyTorch hands out no block for an empty storage; it is never freed either
            return
        size = round_size(nbytes)
        pool = self._pools[0] if size <= SMALL_SIZE else self._pools[1]
        block = pool.best_fit(size)
        if block is not None:
            pool.uncache(block)
        elif pool.expandable:
            block = self._grow(pool, size)
        else:
            block = self._new_segment(pool, segment_size(size))
        if pool.should_split(block, size):
            rest = _Block(block.addr + size, block.size - size, pool.small)
            rest.prev, rest.next = block, block.next
            if block.next is not None:
                block.next.prev = rest
            block.next, block.size = rest, size
            if pool.tail is block:
                pool.tail = rest
            pool.cache(rest)
        block.free = False
        self._live[key] = block
        self.allocated += block.size
        self.peak_allocated = max(self.peak_allocated, self.allocated)

    def free(self, key: int) -> None:
        """Free `key`'s block back into its pool, merged with free neighbours; an unknown key is an error."""
        block = self._live.pop(key, None)
        if block is None:
            raise ValueError(f"allocation {key} is not live")
        pool = self._pools[0] if block.small else self._pools[1]
        self.allocated -= block.size
        for neighbour in (block.prev, block.next):
            if neighbour is not None and neighbour.free:
                pool.uncache(neighbour)
                self._merge(pool, block, neighbour)
        pool.cache(block)

    def _merge(self, pool: _Pool, block: _Block, other: _Block) -> None:
        if other is block.prev:
            block.addr, block.prev = other.addr, other.prev
            if other.prev is not None:
                other.prev.next = block
        else:
            block.next = other.next
            if other.next is not None:
                other.next.prev = block
        block.size += other.size
        if pool.tail is other:
            pool.tail = block

    def peaks(self) -> AllocatorPeaks:
        return AllocatorPeaks(self.peak_allocated, self.reserved, self.segments)


def replay(events: Iterable[tuple[int, int]], expandable_segments: bool = True) -> AllocatorPeaks:
    """Peaks of a sequence of `(key, nbytes)` events: nbytes > 0 allocates for `key`, < 0 frees it (an empty
    storage is left out of a sequence: it takes no block)."""
    model = CachingAllocatorModel(expandable_segments)
    for key, nbytes in events:
        if nbytes >= 0:
            model.alloc(key, nbytes)
        else:
            model.free(key)
    return model.peaks()
