"""A memory budget for per-community caches: keep the most recently used communities' state while
it fits, drop the coldest beyond it.

The trust ranking keeps, per community, an in-memory graph and live ranking state between recomputes
(bot/voices.py). That state is a cache, not the truth: it is rebuilt from the daily aggregates when it
is missing. `MemoryBudget` charges each community the bytes its state holds (`state_bytes`, measured
after each recompute) and evicts the least recently used communities until the total is within the
budget, so a process's memory stays bounded however many communities it serves.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import itertools
import sys
import types
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

MB = 1 << 20
_CODE = (type, types.FunctionType, types.MethodType, types.BuiltinFunctionType, types.ModuleType)
_SCALAR = (int, float, str, bytes)
_SAMPLE = 8


def _plain_bytes(item: Any, depth: int = 2) -> int | None:
    """Size of a scalar, or of a tuple of them (nested up to `depth` tuples deep, such as a listing's
    ((channel, share), ...) topics); None for anything else."""
    if isinstance(item, _SCALAR):
        return sys.getsizeof(item)
    if not isinstance(item, tuple) or depth == 0:
        return None
    total = sys.getsizeof(item)
    for x in item:
        size = _plain_bytes(x, depth - 1)
        if size is None:
            return None
        total += size
    return total


def _scalar_bytes(items: list[Any]) -> float | None:
    """Mean size of a container's sampled items when each is a scalar or a (nested) tuple of scalars
    (None otherwise): such a container is charged from its sample rather than walked item by item."""
    total = 0
    for item in items:
        size = _plain_bytes(item)
        if size is None:
            return None
        total += size
    return total / len(items) if items else 0.0


def state_bytes(*objects: object, max_depth: int = 8) -> int:
    """Bytes held by numpy arrays (and, roughly, the Python containers) reachable from `objects`.

    Walks attributes, slots, lists, tuples, sets and dict values; counts every array's buffer once
    (views share their base's). SciPy sparse matrices are walked through their attributes too. A
    container of scalars (or of tuples of scalars) is charged from a sample of its items, so the
    walk costs as much as the number of arrays and containers, not of the numbers they hold (it
    runs after every recompute).
    """
    # numpy is imported by the first recompute, not at start-up: before it, no state holds an array.
    numpy = sys.modules.get("numpy")
    array = numpy.ndarray if numpy is not None else ()
    seen: set[int] = set()
    total = 0
    stack: list[tuple[Any, int]] = [(o, 0) for o in objects]
    while stack:
        obj, depth = stack.pop()
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, array):
            base = obj
            while isinstance(base.base, array):
                base = base.base
            if id(base) not in seen or base is obj:
                seen.add(id(base))
                total += base.nbytes
            continue
        if isinstance(obj, _CODE):
            continue
        if isinstance(obj, int | float | str | bytes):
            total += sys.getsizeof(obj)
            continue
        if depth >= max_depth:
            continue
        if isinstance(obj, dict):
            total += sys.getsizeof(obj)
            keys = _scalar_bytes(list(itertools.islice(obj, _SAMPLE)))
            if keys is not None:
                total += int(keys * len(obj))
            values = _scalar_bytes(list(itertools.islice(obj.values(), _SAMPLE)))
            if values is not None:
                total += int(values * len(obj))
            else:
                stack.extend((v, depth + 1) for v in obj.values())
        elif isinstance(obj, list | tuple | set | frozenset):
            total += sys.getsizeof(obj)
            items = _scalar_bytes(list(itertools.islice(obj, _SAMPLE)))
            if items is not None:
                total += int(items * len(obj))
            else:
                stack.extend((v, depth + 1) for v in obj)
        else:
            attrs = getattr(obj, "__dict__", None)
            if attrs is not None:
                stack.extend((v, depth + 1) for v in attrs.values())
            for slot in getattr(type(obj), "__slots__", ()):
                if hasattr(obj, slot):
                    stack.append((getattr(obj, slot), depth + 1))
    return total


def _libc_trim() -> object | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc: freed memory goes back the allocator's own way
        return None


_MALLOC_TRIM = _libc_trim()


def release_freed_memory() -> None:
    """Hand memory freed by evicted state back to the operating system. The trust computation runs
    in worker threads, whose glibc malloc arenas otherwise keep freed blocks (and RSS) indefinitely."""
    gc.collect()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)  # type: ignore[operator]


class MemoryBudget:
    """Least-recently-used bookkeeping of per-key sizes within `limit_mb`; `evict(key)` drops one."""

    def __init__(self, limit_mb: float, evict: Callable[[int], bool]) -> None:
        self.limit = int(limit_mb * MB)
        self._evict = evict
        self._sizes: OrderedDict[int, int] = OrderedDict()
        self.evictions = 0

    @property
    def used(self) -> int:
        return sum(self._sizes.values())

    def __contains__(self, key: int) -> bool:
        return key in self._sizes

    def touch(self, key: int, size: int | None = None) -> list[int]:
        """Mark `key` as just used (with its new size, when measured) and evict the coldest keys
        beyond the budget; returns the keys evicted. `evict` may refuse (return False) for a key in
        use: it is skipped this time. The key just touched goes last, when it alone is too big."""
        if size is not None:
            self._sizes[key] = size
        elif key not in self._sizes:
            return []
        self._sizes.move_to_end(key)
        evicted: list[int] = []
        for candidate in [k for k in self._sizes if k != key] + [key]:
            if self.used <= self.limit:
                break
            if self._evict(candidate):
                self._sizes.pop(candidate, None)
                evicted.append(candidate)
                self.evictions += 1
        if evicted:
            release_freed_memory()
        return evicted

    def forget(self, key: int) -> None:
        """The key's state was dropped by its owner."""
        self._sizes.pop(key, None)
