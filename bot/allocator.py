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
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

ARENAS = 2
MMAP_THRESHOLD = 256 * 1024
TRIM_THRESHOLD = 1024 * 1024


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


def trim() -> None:
    """Return the free pages of every malloc arena to the operating system (glibc only)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
