"""The ingest writer on a real SQLite file: its own thread and connection, flushes by size and by
time without anyone asking, a bounded buffer with back-pressure logged once, and replies resolved
by the writer. Then the same writer on PostgreSQL, through the store's `record` on a pool of its own.
Last, a database that cannot be reached: how soon writing resumes once it is back, how long `stop`
keeps trying, and a Reddit item the full buffer could not take."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import ingest as ingest_module
from bot.ingest import Ingest, RecentAuthors
from bot.ledger import EngagementEvent, MemberSighting
from bot.store import Store
from bot.subreddits import RecordingDeferred
from bot.subreddits.ids import SUBREDDIT, ledger_id
from bot.subreddits.items import RedditItem
from bot.subreddits.service import SubredditService

GUILD = 7
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def message(i: int, actor: int = 1, *, target_message: int | None = None) -> EngagementEvent:
    kind = "reply" if target_message is not None else "message"
    return EngagementEvent(
        "discord", GUILD, 10, actor, kind, str(1000 + i), T0, target_message_id=target_message  # type: ignore[arg-type]
    )


async def eventually_true(condition: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def committed(path: Path) -> int:
    """Rows another process would see now (a connection of its own)."""
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM events").fetchone()[0])


@pytest.fixture
async def store(tmp_path: Path):
    s = await Store.open(tmp_path / "db.sqlite3")
    yield s
    await s.close()


async def until(condition, what: str, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


async def test_a_full_batch_is_written_without_a_flush_while_the_loop_stays_busy(store: Store):
    ingest = Ingest(store, batch_size=100, flush_ms=60_000)
    ingest.start()
    try:
        for i in range(250):
            ingest.add(message(i))
        # The event loop is not given a turn: the writer thread works on its own.
        threading.Event().wait(0.5)
        assert committed(store.path) >= 200
        assert ingest.pending <= 50  # the rest waits for the window (60 s here)
    finally:
        await ingest.stop()
    assert committed(store.path) == 250  # stop writes the remainder


async def test_a_partial_batch_is_written_within_the_flush_window(store: Store):
    ingest = Ingest(store, batch_size=10_000, flush_ms=100)
    ingest.start()
    try:
        ingest.add(message(1), members=(MemberSighting("discord", GUILD, 1, T0),))
        started = time.monotonic()
        await until(lambda: committed(store.path) == 1, "the time-based flush")
        assert time.monotonic() - started < 1.0
        assert await store.scalar("SELECT count(*) FROM members") == 1
    finally:
        await ingest.stop()


async def test_a_hold_keeps_timed_writes_back_until_released(store: Store):
    """While held (a new session's cursors being read), what arrives waits in the buffer past the
    flush window; released, it is written at once."""
    ingest = Ingest(store, batch_size=10_000, flush_ms=50)
    ingest.start()
    try:
        ingest.hold()
        ingest.add(message(1), members=(MemberSighting("discord", GUILD, 1, T0),))
        await asyncio.sleep(0.3)  # six flush windows
        assert committed(store.path) == 0
        ingest.release()
        await until(lambda: committed(store.path) == 1, "the write once released")
    finally:
        await ingest.stop()


async def test_flush_waits_for_everything_handed_over(store: Store):
    ingest = Ingest(store, batch_size=10_000, flush_ms=60_000)
    ingest.start()
    try:
        for i in range(30):
            ingest.add(message(i))
        assert await ingest.flush() == 30
        assert committed(store.path) == 30
        assert await ingest.flush() == 0
    finally:
        await ingest.stop()


def test_recent_authors_keep_at_least_the_last_half_and_never_more_than_the_size():
    recent = RecentAuthors(10)
    for i in range(1, 24):
        recent.put(i, 100 + i % 3)
        assert len(recent) <= 10
    assert [recent.get(i) for i in range(19, 24)] == [100 + i % 3 for i in range(19, 24)]
    assert recent.get(1) is None and recent.get(10) is None
    recent.put(23, 7)  # the same message again: its latest author, no new entry
    assert recent.get(23) == 7 and len(recent) <= 10


async def test_recent_authors_are_kept_per_platform(store: Store):
    ingest = Ingest(store, cache_size=4)
    ingest.remember_author("discord", 5, 50)
    ingest.remember_author("reddit", 5, 60)
    assert ingest.cached_author("discord", 5) == 50
    assert ingest.cached_author("reddit", 5) == 60
    assert ingest.cached_author("discord", 6) is None


async def test_a_reply_to_an_uncached_message_is_resolved_by_the_writer(store: Store):
    await store.record([message(1, actor=5)])  # written by an earlier run: not in this cache
    ingest = Ingest(store, batch_size=10_000, flush_ms=60_000)
    ingest.start()
    try:
        assert ingest.cached_author("discord", 1001) is None
        ingest.add(message(2, actor=6, target_message=1001))
        ingest.add(message(3, actor=6, target_message=999_999))  # unknown (a bot's, or expired)
        await ingest.flush()
    finally:
        await ingest.stop()
    rows = await store.fetch_all("SELECT source_id, target_id FROM events WHERE kind = 'reply' ORDER BY id")
    assert rows == [("1002", 5), ("1003", None)]
    assert await store.scalar("SELECT sum(n) FROM engagement_daily") == 1


async def test_the_writer_hands_memory_back_once_a_backlog_is_written_not_after_every_batch(store: Store):
    ingest = Ingest(store, batch_size=50, flush_ms=60_000, capacity=100)
    ingest.start()
    try:
        for i in range(30):
            ingest.add(message(i))
        await ingest.flush()
        assert ingest.stats.releases == 0  # a small batch: the page cache stays warm
        for i in range(30, 1030):  # twenty batches' worth: a backlog
            ingest.add(message(i))
        await ingest.flush()
        await eventually_true(lambda: ingest.stats.releases >= 1)
        assert committed(store.path) == 1030
        releases = ingest.stats.releases
        for i in range(1030, 1060):  # the writer goes on with its connection as before
            ingest.add(message(i))
        await ingest.flush()
        assert committed(store.path) == 1060
        assert ingest.stats.releases == releases
    finally:
        await ingest.stop()


async def test_a_full_buffer_pauses_a_pausable_source_instead_of_holding_the_loop(store: Store):
    ingest = Ingest(store, batch_size=50, flush_ms=60_000, capacity=100)
    calls: list[bool] = []
    ingest.pause_source = lambda pause: calls.append(pause) or True
    ingest.start()
    blocker = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")  # the writer waits on SQLite's lock with its first batch
    try:
        for i in range(50):
            ingest.add(message(i))
        await eventually_true(lambda: ingest._in_flight == 50)
        started = time.monotonic()
        for i in range(50, 250):  # past the capacity, up to twice of it: buffered, the source paused
            ingest.add(message(i))
        # Without the pause, add would wait for room the blocked writer cannot make (a hang).
        assert time.monotonic() - started < 5, "add held the event loop although the source paused"
        assert calls and calls[0] is True and False not in calls
        assert ingest.stats.full_waits == 1 and len(ingest._buffer.events) <= 200
        blocker.execute("COMMIT")
        await eventually_true(lambda: False in calls)  # resumed once the writer took the buffer
        await ingest.flush()
    finally:
        await ingest.stop()
        blocker.close()
    assert committed(store.path) == 250 and ingest.stats.dropped == 0


async def test_a_full_buffer_holds_the_caller_until_the_writer_made_room_and_says_so_once(
    store: Store, caplog: pytest.LogCaptureFixture
):
    ingest = Ingest(store, batch_size=50, flush_ms=60_000, capacity=100)
    ingest.start()
    # Another writer holds the database for a moment: our writer waits on SQLite's lock (busy timeout).
    blocker = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    threading.Timer(0.3, lambda: blocker.execute("COMMIT")).start()
    caplog.set_level(logging.WARNING, logger="bot.ingest")
    try:
        started = time.monotonic()
        for i in range(400):
            ingest.add(message(i))
        held = time.monotonic() - started
        assert held >= 0.2, "add returned at once although the buffer was full"
        assert len(ingest._buffer.events) <= 100
        await ingest.flush()
    finally:
        await ingest.stop()
        blocker.close()
    assert committed(store.path) == 400  # nothing dropped: the writer was slow, not failing
    notices = [r for r in caplog.records if "buffer full" in r.getMessage()]
    assert len(notices) == 1, [r.getMessage() for r in notices]
    assert ingest.stats.full_waits > 1 and ingest.stats.dropped == 0


async def test_a_failing_writer_keeps_memory_bounded_and_logs_once(
    store: Store, caplog: pytest.LogCaptureFixture
):
    await store.db.execute("DROP TABLE channel_cursors")  # every batch fails from now on
    ingest = Ingest(store, batch_size=10, flush_ms=60_000, capacity=50)
    caplog.set_level(logging.DEBUG, logger="bot.ingest")
    ingest.start()
    try:
        for i in range(10):
            ingest.add(message(i))
        await until(lambda: ingest.stats.failures >= 1, "a failed write")
        for i in range(10, 500):
            ingest.add(message(i))
        assert len(ingest._buffer.events) <= 50 + 10
        assert ingest.stats.dropped >= 440
    finally:
        with pytest.raises(sqlite3.OperationalError):
            await asyncio.wait_for(ingest.flush(), 5)
        task = asyncio.create_task(ingest.stop())
        await asyncio.wait({task}, timeout=0.2)
        await store.db.execute(
            "CREATE TABLE channel_cursors (platform TEXT NOT NULL, community_id INTEGER NOT NULL,"
            " channel_id INTEGER NOT NULL, last_message_id INTEGER NOT NULL,"
            " PRIMARY KEY (platform, community_id, channel_id)) WITHOUT ROWID"
        )
        await asyncio.wait_for(task, 10)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "kept for the next attempt" in errors[0].getMessage()
    assert committed(store.path) == 500 - ingest.stats.dropped  # kept events written once it recovered


async def test_memory_database_writes_on_the_callers_path(tmp_path: Path):
    store = await Store.open(":memory:")
    try:
        ingest = Ingest(store)
        with pytest.raises(ValueError, match="database file"):
            ingest.start()
        ingest.add(message(1))
        assert await ingest.flush() == 1
        assert await store.scalar("SELECT count(*) FROM events") == 1
    finally:
        await store.close()


async def test_on_postgresql_the_writer_thread_writes_through_the_stores_pool(pg):
    """Each batch goes through `record` on the writer's own pool and loop, and the database's triggers
    keep the daily aggregates and the channel cursors."""
    store = await Store.open(pg.migrated())
    try:
        await store.record([message(1, actor=5)])
        # A buffer smaller than what is added: the loop waits for the writer, which needs no turn of it.
        ingest = Ingest(store, batch_size=20, flush_ms=60_000, capacity=25)
        ingest.start()
        try:
            for i in range(2, 50):
                ingest.add(message(i))
            ingest.add(message(50, actor=6, target_message=1001))
            await ingest.flush()
            assert ingest.stats.dropped == 0
            assert await ingest.flush() == 0
        finally:
            await ingest.stop()
        assert await store.scalar("SELECT count(*) FROM events") == 50
        reply = await store.fetch_all("SELECT target_id FROM events WHERE kind = 'reply'")
        assert reply == [(5,)]  # resolved from the ledger by the writer
        assert await store.scalar("SELECT sum(n) FROM engagement_daily") == 1
        assert await store.scalar("SELECT sum(n) FROM activity_daily") == 50
        assert await store.scalar("SELECT sum(n) FROM report_channel_days") == 50
        assert await store.channel_cursors("discord") == [(GUILD, 10, 1050)]
        assert await store.distinct_actors(GUILD, T0) == 3
    finally:
        await store.close()


class Outage:
    """The store's writer, failing as a database that cannot be reached does while `down` is set; with
    `hang` set, a write waits for it to be cleared (a statement that never ends) instead."""

    def __init__(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        self.down = True
        self.hang = threading.Event()
        self.released = threading.Event()
        self.attempts: list[float] = []
        real = store.ledger_writer

        def writer() -> object:
            inner = real()
            write = inner.write

            def failing(*args: object, **kwargs: object) -> int:
                self.attempts.append(time.monotonic())
                if self.hang.is_set():
                    self.released.wait(5.0)  # at most 5 s: a stop that waits for it fails, not hangs
                if self.down:
                    raise ConnectionError("connection refused (the database is down)")
                return write(*args, **kwargs)

            inner.write = failing  # type: ignore[method-assign]
            return inner

        monkeypatch.setattr(store, "ledger_writer", writer)


async def test_writing_resumes_within_the_reconnect_backoff_once_the_database_is_back(
    store: Store, monkeypatch: pytest.MonkeyPatch
):
    """A lost connection is retried at most `RECONNECT_RETRY_SECONDS` apart (shortened here), however
    long the outage lasted; events beyond the buffer are dropped only until then."""
    monkeypatch.setattr(ingest_module, "RECONNECT_RETRY_SECONDS", 0.2)
    outage = Outage(store, monkeypatch)
    ingest = Ingest(store, batch_size=10, flush_ms=20, capacity=20)
    ingest.start()
    try:
        for i in range(10):
            ingest.add(message(i))
        await until(lambda: ingest.stats.failures >= 1, "a failed write")
        await asyncio.sleep(1.5)  # long enough for a doubling backoff to reach 1.6 s between attempts
        gaps = [b - a for a, b in zip(outage.attempts, outage.attempts[1:], strict=False)]
        assert gaps and max(gaps) < 0.4, gaps
        outage.down = False
        back = time.monotonic()
        await until(lambda: committed(store.path) == 10, "the kept events to be written")
        assert time.monotonic() - back < 0.5
        assert ingest.add(message(100))  # accepted again
    finally:
        await ingest.stop()


async def test_a_full_disk_is_retried_less_often_than_a_lost_connection(
    store: Store, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(ingest_module, "RECONNECT_RETRY_SECONDS", 0.1)
    ingest = Ingest(store)
    full, lost = sqlite3.OperationalError("database or disk is full"), ConnectionResetError()
    assert ingest._write_failed(ingest_module._Batch(), lost, 0.1) == 0.1
    assert ingest._write_failed(ingest_module._Batch(), full, 20.0) == ingest_module.MAX_RETRY_SECONDS


async def test_stop_during_an_outage_gives_up_within_its_bound(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    monkeypatch.setattr(ingest_module, "STOP_SECONDS", 0.5)
    Outage(store, monkeypatch)
    ingest = Ingest(store, batch_size=10, flush_ms=20)
    ingest.start()
    for i in range(5):
        ingest.add(message(i))
    await until(lambda: ingest.stats.failures >= 1, "a failed write")
    caplog.set_level(logging.ERROR, logger="bot.ingest")
    started = time.monotonic()
    await ingest.stop()
    assert time.monotonic() - started < 1.2
    assert ingest.stats.failures >= 2  # it kept trying until the bound
    assert any("5 events that could not be written" in r.getMessage() for r in caplog.records)


async def test_stop_leaves_a_write_that_never_ends_behind_within_its_bound(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    monkeypatch.setattr(ingest_module, "STOP_SECONDS", 0.3)
    outage = Outage(store, monkeypatch)
    outage.hang.set()
    ingest = Ingest(store, batch_size=10, flush_ms=20)
    ingest.start()
    for i in range(3):
        ingest.add(message(i))
    await until(lambda: ingest._in_flight == 3, "the write to start")
    caplog.set_level(logging.ERROR, logger="bot.ingest")
    started = time.monotonic()
    try:
        await ingest.stop()
        assert time.monotonic() - started < 2.0
    finally:
        outage.released.set()
    assert any("3 events that could not be written" in r.getMessage() for r in caplog.records)


class Directory:
    username = "microvoicebot"


async def test_a_reddit_item_dropped_by_a_full_failing_buffer_is_read_again_not_skipped(
    store: Store, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(ingest_module, "RECONNECT_RETRY_SECONDS", 0.1)
    outage = Outage(store, monkeypatch)
    ingest = Ingest(store, batch_size=2, flush_ms=20, capacity=3)
    ingest.start()
    sub = "t5_2qh1i"
    await store.bind_subreddit(42, ledger_id(sub, SUBREDDIT), "testsub", by=1, now=T0, bot_moderates=True)
    service = SubredditService(store, ingest, Directory(), clock=lambda: T0)
    await service.load()
    item = RedditItem(
        fullname="t1_zzz1", subreddit_fullname=sub, subreddit_name="testsub",
        author_name="alice", author_fullname="t2_abc1", created_utc=T0.timestamp(),
    )
    try:
        for i in range(3):  # Discord's events fill the buffer while the database is down
            assert ingest.add(message(i))
        await until(lambda: ingest.stats.failures >= 1, "a failed write")
        accepting = asyncio.create_task(service.accept([item]))
        await asyncio.sleep(0.05)
        outage.down = False  # back before the writer's next attempt: a flush now would succeed
        with pytest.raises(RecordingDeferred):
            await accepting
        assert ingest.stats.dropped == 1
        assert await store.reddit_cursors() == {}  # the stream reads the item again
        await until(lambda: committed(store.path) == 3, "the kept events to be written")
        assert await service.accept([item]) == 1  # read again: recorded, and the cursor moves
        assert await store.reddit_cursors() == {(ledger_id(sub, SUBREDDIT), "comments"): "t1_zzz1"}
    finally:
        await ingest.stop()
    assert await store.scalar("SELECT count(*) FROM events WHERE platform = 'reddit'") == 1
