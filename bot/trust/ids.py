"""Dense member ids: 64-bit ids (snowflakes) mapped to positions 0..n-1, vectorized.

np.searchsorted over millions of rows is several times slower than one or two hashed gathers, and
np.unique on millions of int64 is slower still, so the ranking maps ids with `IdIndex`, a
vectorized open-addressing hash table, and deduplicates with `sorted_unique`. Guarantees: a lookup
returns exactly the value stored for an id, or -1 for an id that was not stored, whatever the order
or repetition of the queries.
"""

from __future__ import annotations

import math

import numpy as np

_FIB = np.int64(0x9E3779B97F4A7C15 - (1 << 64))  # Fibonacci hashing multiplier, as int64


class IdIndex:
    """Maps unique int64 ids to a value (default: their position), vectorized.

    Linear probing at load factor <= 1/8; values must be >= -2 (-1 means absent).
    """

    def __init__(self, ids: np.ndarray, values: np.ndarray | None = None) -> None:
        size_bits = max(4, math.ceil(math.log2(max(1, len(ids)) * 8)))
        self._shift = 64 - size_bits
        self._mask = (1 << size_bits) - 1
        self._keys = np.zeros(1 << size_bits, np.int64)
        self._vals = np.full(1 << size_bits, -1, np.int64)
        home = self._hash(ids)
        where = np.full(1 << size_bits, -1, np.int64)  # which id occupies each slot
        pending = np.arange(len(ids), dtype=np.int64)
        probe = 0
        while pending.size:
            slot = (home[pending] + probe) & self._mask
            free = where[slot] < 0
            cand, cslot = pending[free], slot[free]
            where[cslot] = cand  # with duplicate slots one write wins; losers probe on
            won = where[cslot] == cand
            placed = np.zeros(len(ids), np.bool_)
            placed[cand[won]] = True
            pending = pending[~placed[pending]]
            probe += 1
        occupied = where >= 0
        self._keys[occupied] = ids[where[occupied]]
        values = np.arange(len(ids), dtype=np.int64) if values is None else values
        self._vals[occupied] = values[where[occupied]]
        self._occupied = occupied

    def _hash(self, ids: np.ndarray) -> np.ndarray:
        # int64 products wrap around; the arithmetic shift's sign bits are masked off again.
        return ((ids * _FIB) >> self._shift) & self._mask

    def lookup(self, query: np.ndarray) -> np.ndarray:
        """Position of each query id, -1 when absent."""
        if len(query) > 65536:
            # Rows in the store's primary-key order repeat actors (and channels) in runs: looking up
            # one value per run is much cheaper. A sample decides, so random order pays nothing.
            sample = query[:65536]
            if np.count_nonzero(sample[1:] != sample[:-1]) < 32768:
                change = np.empty(len(query), np.bool_)
                change[0] = True
                np.not_equal(query[1:], query[:-1], out=change[1:])
                heads = np.flatnonzero(change)
                return self._lookup(query[heads])[np.cumsum(change) - 1]
        return self._lookup(query)

    def _lookup(self, query: np.ndarray) -> np.ndarray:
        home = self._hash(query)
        out = self._vals[home]  # -1 in empty slots
        collided = np.flatnonzero(self._keys[home] != query)
        if collided.size:
            # An empty home slot means absent (its value is already -1); an occupied one means another
            # id got there first, so probe on. At load <= 1/8 this touches few rows.
            out[collided] = -1
            pending = collided[self._occupied[home[collided]]]
            probe = 1
            while pending.size:
                slot = (home[pending] + probe) & self._mask
                used = self._occupied[slot]
                hit = used & (self._keys[slot] == query[pending])
                out[pending[hit]] = self._vals[slot[hit]]
                pending = pending[used & ~hit]
                probe += 1
        return out


def run_heads(ordered: np.ndarray) -> np.ndarray:
    """Start positions of the runs of equal values in a sorted array."""
    start = np.empty(len(ordered), np.bool_)
    if len(ordered):
        start[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=start[1:])
    return np.flatnonzero(start)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique via np.sort: np.unique is far slower on large int64 arrays in current numpy (numpy
    2.4 hashes them: 717 ms for a million distinct int64 against 54 ms here)."""
    if len(values) == 0:
        return values
    ordered = np.sort(values)
    return ordered[run_heads(ordered)]
