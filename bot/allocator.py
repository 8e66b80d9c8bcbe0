"""The C allocator's settings and hand-backs, on glibc (Linux); elsewhere every function does nothing.

glibc's malloc keeps memory a process freed unless told otherwise, and the bot frees a lot at once: a
flood's buffered events once the writer has them, a recompute's working set, the rows read at
start-up. Three settings, made once before the bot starts its threads (`tune`):

- `M_ARENA_MAX`: glibc gives each thread that allocates an arena of its own (up to 8 per core); the
  bot's threads (the SQLite connections' and the ingest writer's) each kept a few MB they had freed.
  Two arenas: the event loop's and one the other threads share (they allocate little and seldom at
  the same time).
- `M_MMAP_THRESHOLD` and `M_TRIM_THRESHOLD` fixed: by default glibc raises them each time a large
  block is freed, after which large blocks (a batch's lists, a dict of recent authors) come from the
  heap and stay there once freed. Fixed, a block of 256 KiB or more is its own mapping, returned when
  freed, and the heap's top is returned beyond 1 MiB of free space.

`trim` hands freed pages in the middle of the heaps back as well (`malloc_trim`), after the large
frees named above.

A recompute is the other way round: it builds and drops hundreds of arrays of tens of megabytes, and
with large blocks mapped and unmapped each time every one of them is faulted in page by page afresh
(on a virtual machine whose memory the host backs lazily, that costs more than the arithmetic on
it). Inside `reusing()` blocks up to 1 GiB come from the heap and stay there once freed, for the
next arrays to reuse (in the threads' shared arena, whose heaps glibc caps at 64 MiB, blocks up to
that); when the last such block ends, the settings above are back and the free pages are handed
back (`trim`), so an idle bot holds no more than before. At 50,000 members a full recompute faulted
1.1-1.4 million pages in without it and 24,000-66,000 with it, and took 10.1-10.3 s instead of
13.7-14.3 s (docs/trust.md, "The production recompute at 50,000 members").

Measured with bench/memory.py, the same code with and without `tune`: with the 1.3M-event database,
78–82 MB idle instead of 88–89 and 151–157 MB after `/voices recompute` instead of 178 (two runs
each; the recompute's worker threads no longer keep arenas of their own). After a 200,000-message
flood no difference beyond the run-to-run noise: emptying the writer's page cache and `trim` do the
work there.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

ARENAS = 2
MMAP_THRESHOLD = 256 * 1024
TRIM_THRESHOLD = 1024 * 1024
#: Inside `reusing()`: blocks up to this size come from the heap, and this much free memory stays
#: there (`mallopt` takes a C int).
REUSE_MMAP_THRESHOLD = 1 << 30
REUSE_TRIM_THRESHOLD = (1 << 31) - 1
#: Outside `reusing()` in a process that did not `tune`: glibc's initial values.
GLIBC_THRESHOLD = 128 * 1024


def _glibc() -> Any | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 - glibc only (not musl)
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _glibc()
_tuned = False
_lock = threading.Lock()
_reusing = 0


def tune() -> bool:
    """Set the allocator up for a long-running process with bursts of large frees (once; True when it
    was set, False on another C library or platform)."""
    global _tuned
    if _LIBC is None:
        return False
    if not _tuned:
        mallopt: Callable[[int, int], int] = _LIBC.mallopt
        ok = all(
            (
                mallopt(M_ARENA_MAX, ARENAS),
                mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD),
                mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD),
            )
        )
        if not ok:
            log.debug("glibc refused a malloc setting")
        _tuned = True
    return True


def reuse_open() -> bool:
    """Whether a `reusing` block is open in any thread (never on other C libraries, which have no
    such settings)."""
    return _LIBC is not None and _reusing > 0


def trim() -> None:
    """Return the free pages of every malloc arena to the operating system (glibc only)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


@contextmanager
def reusing() -> Iterator[None]:
    """Large blocks allocated inside come from the heap and stay there once freed, for later
    allocations inside to reuse (see the module docstring); when the last such block, of any
    thread, ends, the settings outside are back and the free pages are handed back (`trim`).
    Also a decorator (`@reusing()`): each call is such a block."""
    global _reusing
    libc = _LIBC
    if libc is None:
        yield
        return
    with _lock:
        if _reusing == 0:
            libc.mallopt(M_MMAP_THRESHOLD, REUSE_MMAP_THRESHOLD)
            libc.mallopt(M_TRIM_THRESHOLD, REUSE_TRIM_THRESHOLD)
        _reusing += 1
    try:
        yield
    finally:
        with _lock:
            _reusing -= 1
            if _reusing == 0:
                libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD if _tuned else GLIBC_THRESHOLD)
                libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD if _tuned else GLIBC_THRESHOLD)
                trim()
