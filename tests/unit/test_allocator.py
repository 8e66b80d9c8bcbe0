"""Handing freed memory back: possible on glibc (Linux), a no-op elsewhere."""

from __future__ import annotations

import platform
import sys

from bot import allocator


def test_freed_memory_is_handed_back_explicitly_only_on_glibc():
    on_glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert allocator.available() is on_glibc
    allocator.trim()  # safe to call anywhere, at any time
