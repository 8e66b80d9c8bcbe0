"""The C allocator's settings: made on glibc (Linux), nothing elsewhere."""

from __future__ import annotations

import platform
import sys

from bot import allocator


def test_tune_sets_glibc_up_on_linux_and_nothing_elsewhere():
    on_glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert allocator.tune() is on_glibc
    assert allocator.tune() is on_glibc  # once is enough; a second call changes nothing
