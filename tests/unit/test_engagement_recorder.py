"""The recorder's rules for reactions, in memory and through a real store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.engagement import EngagementRecorder, SeenMessage, SeenReaction, StreamClock
from bot.ingest import Ingest
from bot.store import Store

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
GUILD, CHANNEL, OTHER = 10, 20, 11
ALICE, BOB, BOT = 1, 2, 99


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "db.sqlite3")
    yield s
    await s.close()


def reaction(user: int, message: int, **fields: object) -> SeenReaction:
    base: dict[str, object] = dict(
        community_id=GUILD, channel_id=CHANNEL, message_id=message, user_id=user, emoji="🔥", added=True
    )
    return SeenReaction(**{**base, **fields})  # type: ignore[arg-type]


async def events(store: Store) -> list[tuple[object, ...]]:
    async with store.db.execute("SELECT kind, actor_id, target_id, source_id FROM events ORDER BY id") as cur:
        return [tuple(r) for r in await cur.fetchall()]


async def test_reactions_target_the_author_from_payload_cache_or_ledger(store: Store):
    ingest = Ingest(store)
    recorder = EngagementRecorder(ingest)
    recorder.message(SeenMessage(GUILD, CHANNEL, 500, ALICE, NOW))
    await ingest.flush()
    fresh = Ingest(store)  # an empty author cache: the writer finds message 500 in the ledger
    again = EngagementRecorder(fresh)
    again.reaction(reaction(BOB, 500), NOW)
    again.reaction(reaction(BOB, 501, message_author_id=ALICE, emoji="42"), NOW)
    again.reaction(reaction(BOB, 500, added=False), NOW)
    await fresh.flush()
    assert await events(store) == [
        ("message", ALICE, None, "500"),
        ("reaction", BOB, ALICE, "500:🔥"),
        ("reaction", BOB, ALICE, "501:42"),
        ("unreaction", BOB, ALICE, "500:🔥"),
    ]


async def test_bots_reactions_are_not_engagement_and_mark_the_bot(store: Store):
    ingest = Ingest(store)
    recorder = EngagementRecorder(ingest)
    recorder.reaction(reaction(BOT, 500, member_known=True, user_is_bot=True), NOW)
    assert recorder.is_bot(BOT)
    recorder.reaction(reaction(BOT, 501, added=False), NOW)  # no member on removal: known from before
    recorder.me = 7
    recorder.reaction(reaction(7, 502), NOW)
    await ingest.flush()
    assert await events(store) == []


async def test_a_reaction_to_a_bots_message_engages_nobody(store: Store):
    """A bot learned from a command answer (not an ordinary message, sent by webhook) or from an
    ordinary message: a member's reaction to its message is recorded engaging nobody, and the bot
    is never made a member by it."""
    ingest = Ingest(store)
    recorder = EngagementRecorder(ingest)
    answer = SeenMessage(GUILD, CHANNEL, 600, BOT, NOW, author_is_bot=True, ordinary=False, from_webhook=True)
    recorder.message(answer)
    assert recorder.is_bot(BOT)
    recorder.reaction(reaction(ALICE, 600, message_author_id=BOT, emoji="🎉"), NOW)
    recorder.reaction(reaction(ALICE, 601, message_author_id=BOB), NOW)
    await ingest.flush()
    assert await events(store) == [("reaction", ALICE, None, "600:🎉"), ("reaction", ALICE, BOB, "601:🔥")]


async def test_a_reacting_member_is_sighted_with_their_join_date(store: Store):
    ingest = Ingest(store)
    joined = datetime(2024, 1, 1, tzinfo=UTC)
    EngagementRecorder(ingest).reaction(
        reaction(BOB, 500, member_known=True, joined_at=joined, message_author_id=ALICE), NOW
    )
    await ingest.flush()
    assert await store.scalar("SELECT joined_at FROM members WHERE member_id = ?", (BOB,)) == (
        "2024-01-01T00:00:00.000+00:00"
    )


async def test_a_busy_member_carries_one_sighting_per_batch_unless_a_later_one_says_more(store: Store):
    ingest = Ingest(store)
    recorder = EngagementRecorder(ingest)
    later = datetime(2026, 5, 1, 13, tzinfo=UTC)
    joined = datetime(2025, 1, 1, tzinfo=UTC)
    recorder.message(SeenMessage(GUILD, CHANNEL, 600, ALICE, later))
    recorder.message(SeenMessage(GUILD, CHANNEL, 601, ALICE, later))  # nothing new: no sighting built
    key = ("discord", GUILD, ALICE)
    assert ingest.has_sighting(key, later, None)
    assert not ingest.has_sighting(key, NOW, None)  # an earlier sighting says more
    assert not ingest.has_sighting(key, later, joined)  # so does one with the join time
    recorder.message(SeenMessage(GUILD, CHANNEL, 602, ALICE, later, joined_at=joined))
    recorder.message(SeenMessage(GUILD, CHANNEL, 603, ALICE, NOW))  # earlier, without the join time
    assert ingest.has_sighting(key, later, joined)  # merged: the earliest time and the join time
    await ingest.flush()
    row = await (
        await store.db.execute("SELECT first_seen, joined_at FROM members WHERE member_id = ?", (ALICE,))
    ).fetchone()
    assert row is not None and row[0].startswith("2026-05-01T12:00") and row[1].startswith("2025-01-01")
    assert not ingest.has_sighting(key, later, None)  # the next batch starts empty
    assert [r[3] for r in await events(store)] == ["600", "601", "602", "603"]


def test_live_stream_dates_reactions_now():
    clock = StreamClock()
    assert clock.time(GUILD, NOW) == NOW  # nothing seen yet
    clock.message(GUILD, NOW - timedelta(seconds=2), NOW)  # sent two seconds ago: live
    assert clock.time(GUILD, NOW + timedelta(hours=5)) == NOW + timedelta(hours=5)


def test_a_replayed_history_dates_reactions_at_the_streams_position():
    clock = StreamClock()
    week_ago = NOW - timedelta(days=7)
    clock.message(GUILD, week_ago, NOW)
    assert clock.time(GUILD, NOW) == week_ago
    assert clock.time(GUILD, NOW + timedelta(seconds=3)) == week_ago + timedelta(seconds=3)
    assert clock.time(OTHER, NOW) == NOW  # another community's stream is its own
    # An older message later in the stream does not move it back; a newer one moves it on.
    clock.message(GUILD, week_ago - timedelta(days=1), NOW + timedelta(seconds=4))
    assert clock.time(GUILD, NOW + timedelta(seconds=4)) == week_ago + timedelta(seconds=4)
    clock.message(GUILD, week_ago + timedelta(days=2), NOW + timedelta(seconds=5))
    assert clock.time(GUILD, NOW + timedelta(seconds=5)) == week_ago + timedelta(days=2)
    # Never later than now, and once the stream is live again, now.
    clock.message(GUILD, NOW + timedelta(seconds=6), NOW + timedelta(seconds=6))
    assert clock.time(GUILD, NOW + timedelta(seconds=7)) == NOW + timedelta(seconds=7)


@given(
    steps=st.lists(
        st.tuples(st.booleans(), st.integers(0, 30 * 86_400), st.integers(0, 600)), min_size=1, max_size=40
    )
)
def test_reactions_dated_by_the_stream_never_go_back_nor_past_now(steps: list[tuple[bool, int, int]]):
    """Whatever the messages' times, a community's reactions are dated in order (a removal after its
    reaction is dated after it) and never later than now."""
    clock = StreamClock()
    now, dated = NOW - timedelta(days=60), []
    for is_message, sent_ago, wait in steps:
        now += timedelta(seconds=wait)
        if is_message:
            clock.message(GUILD, now - timedelta(seconds=sent_ago), now)
        else:
            at = clock.time(GUILD, now)
            assert at <= now
            dated.append(at)
    assert dated == sorted(dated)


async def test_the_recorder_dates_reactions_by_the_live_stream_only(store: Store):
    ingest = Ingest(store)
    recorder = EngagementRecorder(ingest)
    recorder.me = BOT
    sent = NOW - timedelta(days=3)
    recorder.message(SeenMessage(GUILD, CHANNEL, 501, ALICE, sent), arrived=NOW)  # a replayed message
    recorder.message(SeenMessage(GUILD, CHANNEL, 500, ALICE, NOW - timedelta(days=1)))  # the gap fill's
    recorder.message(SeenMessage(GUILD, CHANNEL, 502, BOT, NOW, author_is_bot=True), arrived=NOW)  # its own
    recorder.reaction(reaction(BOB, 501, message_author_id=ALICE), NOW)
    recorder.reaction(reaction(ALICE, 601, message_author_id=BOB, community_id=OTHER), NOW)
    await ingest.flush()
    async with store.db.execute("SELECT source_id, created_at FROM events WHERE kind = 'reaction'") as cur:
        rows = {str(s): datetime.fromisoformat(c) for s, c in await cur.fetchall()}
    assert rows == {"501:🔥": sent, "601:🔥": NOW}
