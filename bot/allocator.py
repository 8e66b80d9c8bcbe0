"""Handing memory the process freed back to the operating system, on glibc (Linux); elsewhere `trim`
does nothing.

glibc's malloc keeps what a process freed in its arenas, and the bot frees a lot at once: a flood's
buffered events and the ingest writer's page cache once the backlog is written, the rows read at
start-up or by a gap fill. `trim` (`malloc_trim(0)`) returns the free pages of every arena, the
middle of the heap included, after those large frees. With the writer's page cache emptied, it took
about 13 MB off the resident memory after a 200,000-message flood (bench/ingest_throughput.py).

Measured and not kept: `mallopt` settings made at start-up (two arenas instead of eight per core,
fixed mmap and trim thresholds) changed nothing measurable once `trim` runs after the large frees.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from typing import Any


def _glibc() -> Any | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc only (not musl)
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _glibc()


def available() -> bool:
    """Whether freed memory can be handed back explicitly here (glibc)."""
    return _LIBC is not None


def trim() -> None:
    """Return the free pages of every malloc arena to the operating system (glibc only)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
