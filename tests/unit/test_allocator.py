"""The C allocator's settings: made on glibc (Linux), nothing elsewhere."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import allocator
from bot.ledger import EngagementEvent, MemberSighting
from bot.store import Store
from bot.trust import Voices


def test_tune_sets_glibc_up_on_linux_and_nothing_elsewhere():
    on_glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert allocator.tune() is on_glibc
    assert allocator.tune() is on_glibc  # once is enough; a second call changes nothing


#: Run in a fresh interpreter, set up as the bot is (`tune`): page faults when a 16 MiB block just
#: dropped is allocated and written again, in the main thread and in a worker thread, outside and
#: inside `reusing()` (a worker's block still open while the main thread tries again after its own
#: ended), and what the process held before and after the last block ended.
PROBE = r"""
import json, resource, threading
from bot import allocator

BLOCK = 16 << 20  # above the bot's mapping threshold, within a worker thread's 64 MiB heaps

def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()

def refaults():
    first = bytearray(BLOCK)
    first[:] = b"x" * BLOCK
    del first
    before = faults()
    again = bytearray(BLOCK)
    again[:] = b"y" * BLOCK
    out = faults() - before
    del again
    return out

def in_thread(work):
    found = []
    worker = threading.Thread(target=lambda: found.append(work()))
    worker.start()
    worker.join()
    return found[0]

allocator.tune()
out = {"outside": refaults(), "outside_thread": in_thread(refaults)}
with allocator.reusing():
    out["inside"] = refaults()
    out["inside_thread"] = in_thread(refaults)
    inside, leave = threading.Event(), threading.Event()
    def open_block():
        with allocator.reusing():
            inside.set()
            leave.wait(10)
    worker = threading.Thread(target=open_block)
    worker.start()
    inside.wait(10)
out["other_block_open"] = refaults()
leave.set()
worker.join()
out["after"] = refaults()
with allocator.reusing():
    scratch = bytearray(BLOCK)
    scratch[:] = b"z" * BLOCK
    del scratch
    kept = rss()
out["handed_back"] = kept - rss()
print(json.dumps(out))
"""


def test_reusing_serves_large_blocks_again_without_faulting_them_in_and_hands_them_back_after():
    if not allocator.tune():
        pytest.skip("glibc only")
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    out = json.loads(done.stdout)
    assert out["outside"] > 0 and out["outside_thread"] > 0  # tuned: every large block a new mapping
    assert out["inside"] == 0 and out["inside_thread"] == 0  # the same pages again
    assert out["other_block_open"] == 0  # another thread's block still open
    assert out["after"] > 0  # the last block ended: the bot's settings are back
    assert out["handed_back"] >= 8 << 20


async def test_a_recompute_reads_its_graph_inside_the_reuse_and_writes_outside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The graph read's text and arrays are freed before the ranking allocates its own: read inside
    the same reuse, the ranking takes those pages instead of faulting fresh ones in. The write is
    outside: what it frees (and the memory budget's evictions after it) is handed back at once."""
    if not allocator.tune():
        pytest.skip("the reuse is glibc's (Linux) only")
    t0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        people = range(1, 12)
        await store.record(
            [
                EngagementEvent("discord", 1, 10, a, "reply", f"{a}:{b}", t0, b)
                for a in people
                for b in people
                if a != b
            ],
            [
                MemberSighting("discord", 1, m, t0 - timedelta(90), joined_at=t0 - timedelta(90))
                for m in people
            ],
        )
        read, write = store.engagement_columns, store.replace_trust_scores
        seen: dict[str, list[bool]] = {"read": [], "write": []}

        async def reading(*args: Any, **kwargs: Any) -> Any:
            seen["read"].append(allocator.reuse_open())
            return await read(*args, **kwargs)

        async def writing(*args: Any, **kwargs: Any) -> Any:
            seen["write"].append(allocator.reuse_open())
            return await write(*args, **kwargs)

        monkeypatch.setattr(store, "engagement_columns", reading)
        monkeypatch.setattr(store, "replace_trust_scores", writing)
        voices = Voices(store, clock=lambda: t0 + timedelta(hours=1))
        assert (await voices.recompute(1)).ranked > 0
        assert seen == {"read": [True], "write": [False]}
        assert not allocator.reuse_open()  # and over once the recompute is
    finally:
        await store.close()
