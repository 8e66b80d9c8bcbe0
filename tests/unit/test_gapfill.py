"""Gap fill after a downtime, on a real store, through an in-memory channel history (a fake platform)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import gapfill
from bot.engagement import EngagementRecorder, SeenMessage
from bot.gapfill import GapFill, HistoryUnavailable
from bot.ingest import Ingest
from bot.store import Store

GUILD, OTHER_GUILD = 1, 2
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FakeHistory:
    """Channels' messages by id; serves pages the way Discord's GET .../messages?after= does."""

    def __init__(self) -> None:
        self.channels: dict[int, list[SeenMessage]] = {}
        self.unreadable: set[int] = set()
        self.requests: list[tuple[int, int, int]] = []
        self.forgotten_after: list[int] = []  # how many requests had been made at each `forget`

    def post(self, channel: int, message_id: int, author: int, **extra: object) -> SeenMessage:
        m = SeenMessage(
            community_id=int(extra.pop("guild", GUILD)),  # type: ignore[call-overload]
            channel_id=channel,
            message_id=message_id,
            author_id=author,
            created_at=extra.pop("at", T0 + timedelta(seconds=message_id % 10_000)),  # type: ignore[arg-type]
            **extra,  # type: ignore[arg-type]
        )
        self.channels.setdefault(channel, []).append(m)
        return m

    def forget(self) -> None:
        self.forgotten_after.append(len(self.requests))

    async def messages_after(self, channel_id: int, after_id: int, limit: int) -> Sequence[SeenMessage]:
        assert 1 <= limit <= 100
        self.requests.append((channel_id, after_id, limit))
        if channel_id in self.unreadable:
            raise HistoryUnavailable(channel_id)
        newer = sorted(
            (m for m in self.channels.get(channel_id, []) if m.message_id > after_id),
            key=lambda m: m.message_id,
        )
        return newer[:limit]


@pytest.fixture
async def store(tmp_path: Path):
    s = await Store.open(tmp_path / "db.sqlite3")
    yield s
    await s.close()


@pytest.fixture
def history() -> FakeHistory:
    return FakeHistory()


def fill(store: Store, history: FakeHistory, **bounds: int) -> tuple[GapFill, Ingest]:
    ingest = Ingest(store)
    recorder = EngagementRecorder(ingest)
    return GapFill(store, recorder, history, **bounds), ingest


async def record_live(store: Store, history: FakeHistory, *messages: SeenMessage) -> None:
    """What the bot recorded before it went down."""
    ingest = Ingest(store)
    recorder = EngagementRecorder(ingest)
    for m in messages:
        recorder.message(m)
    await ingest.flush()


async def test_messages_and_replies_sent_while_down_are_recorded_once(store: Store, history: FakeHistory):
    before = history.post(10, 100, author=5)
    await record_live(store, history, before)
    history.post(10, 101, author=6, reply_to=100)  # reply to a message from before the downtime
    history.post(10, 102, author=7)
    history.post(10, 103, author=5, reply_to=102)
    history.post(10, 104, author=8, author_is_bot=True)  # a bot: known as a bot, not recorded
    gap, ingest = fill(store, history)
    report = await gap.run({GUILD})
    await ingest.flush()
    assert report.fetched == 4 and report.channels == 1
    assert history.requests == [(10, 100, 100)]
    rows = await store.fetch_all("SELECT source_id, kind, actor_id, target_id FROM events ORDER BY id")
    assert rows == [
        ("100", "message", 5, None),
        ("101", "reply", 6, 5),  # resolved from the ledger by the writer
        ("102", "message", 7, None),
        ("103", "reply", 5, 7),  # resolved from the recent-author cache
    ]
    assert await store.known_bots("discord") == {8}
    # A second run (another session lost) starts after the newest message written and records
    # nothing new (only the bot's message is read again).
    again, ingest = fill(store, history)
    assert (await again.run({GUILD})).fetched == 1
    await ingest.flush()
    assert history.requests[-1] == (10, 103, 100)
    assert await store.scalar("SELECT count(*) FROM events") == 4


async def test_each_channel_and_the_run_are_bounded_busiest_channel_first(store: Store, history: FakeHistory):
    await record_live(store, history, history.post(10, 1_000, author=1), history.post(20, 5_000, author=1))
    history.post(30, 9_000, author=1, guild=OTHER_GUILD)  # a server the bot is not in any more
    await record_live(store, history, history.channels[30][0])
    for i in range(1, 251):
        history.post(10, 1_000 + i, author=2)
        history.post(20, 5_000 + i, author=3)
    gap, ingest = fill(store, history, per_channel=150, total=200)
    report = await gap.run({GUILD})
    await ingest.flush()
    # channel 20 holds the newest message: it goes first and takes its bound; channel 10 gets the rest
    assert [r[0] for r in history.requests] == [20, 20, 10]
    assert [r[2] for r in history.requests] == [100, 50, 50]
    assert report.fetched == 200 and report.hit_total is False
    assert report.truncated == [20, 10]
    assert await store.scalar("SELECT count(*) FROM events WHERE channel_id = 20") == 151
    assert await store.scalar("SELECT count(*) FROM events WHERE channel_id = 10") == 51
    assert all(r[0] != 30 for r in history.requests)


async def test_what_reading_left_behind_is_forgotten_as_the_run_goes(
    store: Store, history: FakeHistory, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(gapfill, "FORGET_EVERY", 2)
    await record_live(store, history, *(history.post(c, 100 * c, author=1) for c in range(10, 15)))
    gap, ingest = fill(store, history)
    report = await gap.run({GUILD})
    await ingest.flush()
    assert report.channels == len(history.requests) == 5
    assert history.forgotten_after == [2, 4, 5]  # after every second channel read, and at the end


async def test_unreadable_channels_are_skipped(store: Store, history: FakeHistory):
    await record_live(store, history, history.post(10, 100, author=1), history.post(20, 200, author=1))
    history.unreadable.add(20)
    history.post(10, 101, author=2)
    gap, ingest = fill(store, history)
    report = await gap.run({GUILD})
    await ingest.flush()
    assert report.unavailable == 1 and report.fetched == 1
    assert history.forgotten_after == [len(history.requests)]  # once, after the run's last read
    assert await store.fetch_all("SELECT source_id FROM events WHERE channel_id = 10 ORDER BY id") == [
        ("100",),
        ("101",),
    ]
