"""PrivacyService on a real store (temporary SQLite file), with the real ingest buffer and rankings."""

from __future__ import annotations

import asyncio
import gzip
import json
import random
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.community import CommunityService
from bot.errors import InvalidInput
from bot.ingest import Ingest
from bot.ledger import EngagementEvent, MemberSighting
from bot.privacy import PrivacyService, parse_member_id
from bot.store import Store
from bot.trust import Voices

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GUILD, OTHER = 100, 200


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def ev(
    kind: str, actor: int, source: str, *, target: int | None = None, at: datetime = T0, guild: int = GUILD
):
    return EngagementEvent("discord", guild, 10, actor, kind, source, at, target)  # type: ignore[arg-type]


@pytest.fixture
async def store(database: str | Path):
    s = await Store.open(database)
    yield s
    await s.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ingest(store: Store) -> Ingest:
    return Ingest(store)


@pytest.fixture
def voices(store: Store, clock: Clock) -> Voices:
    return Voices(store, clock=clock)


@pytest.fixture
def privacy(store: Store, ingest: Ingest, voices: Voices, clock: Clock) -> PrivacyService:
    return PrivacyService(store, ingest, voices, clock=clock, default_retention_days=180)


async def test_export_includes_buffered_events_and_redacts_other_members(
    privacy: PrivacyService, ingest: Ingest
):
    ingest.add(ev("message", 1, "1001"))
    ingest.add(ev("reply", 2, "1002", target=1))  # about member 1, written by member 2
    ingest.add(ev("message", 1, "1003", guild=OTHER))
    export = await privacy.export(GUILD, 1)
    assert ingest.pending == 0
    assert export.filename == f"microvoice-{GUILD}-1.json"
    document = json.loads(export.data)
    events = document["tables"]["events"]
    assert [(e["source_id"], e["actor_id"], e["target_id"]) for e in events] == [
        ("1001", "1", None),
        ("1002", None, "1"),
    ]
    assert export.rows == sum(len(rows) for rows in document["tables"].values())
    assert document["member_id"] == "1" and document["exported_at"].startswith("2026-03-01T12:00")


async def test_large_exports_are_gzipped(store: Store, ingest: Ingest, voices: Voices, clock: Clock):
    small = PrivacyService(store, ingest, voices, clock=clock, default_retention_days=180, gzip_over=10)
    ingest.add(ev("message", 1, "1001"))
    export = await small.export(GUILD, 1)
    assert export.filename.endswith(".json.gz")
    assert json.loads(gzip.decompress(export.data))["tables"]["events"][0]["source_id"] == "1001"


async def test_erase_deletes_buffered_and_stored_events_and_drops_the_cached_graph(
    privacy: PrivacyService, store: Store, ingest: Ingest, voices: Voices
):
    await store.record([ev("message", 1, "1001"), ev("reply", 2, "1002", target=1)])
    await voices.recompute(GUILD)
    assert voices.cached_graph(GUILD) is not None
    ingest.add(ev("reaction", 1, "1002:x", target=2))
    counts = await privacy.erase(GUILD, 1)
    assert counts["events_deleted"] == 2 and counts["events_unlinked"] == 1
    assert voices.cached_graph(GUILD) is None
    assert await store.scalar("SELECT count(*) FROM events WHERE actor_id = 1 OR target_id = 1") == 0
    assert await store.scalar("SELECT count(*) FROM events") == 1  # member 2's reply, unlinked
    exported = json.loads((await privacy.export(GUILD, 1)).data)
    assert set(exported["tables"]) == {"consent_log"}  # only the erasure tombstone is left


async def test_an_old_event_that_arrives_while_the_member_is_erased_is_not_recorded(
    store: Store, ingest: Ingest, voices: Voices, clock: Clock
):
    """While the erasure takes the member's roles back (Discord calls), a gap fill or a Reddit
    stream read again hands over a message of theirs from three days before: it is refused, not
    written after their rows were deleted."""

    async def before_erase(community_id: int, member_id: int) -> list[int]:
        ingest.add(ev("message", 1, "5555", at=T0 - timedelta(days=3)))
        ingest.add(ev("reply", 2, "5556", target=1, at=T0 - timedelta(days=3)))  # engaging them
        return []

    privacy = PrivacyService(
        store, ingest, voices, clock=clock, default_retention_days=180, before_erase=before_erase
    )
    await store.record([ev("message", 1, "1001", at=T0 - timedelta(days=4))])
    await privacy.erase(GUILD, 1)
    await ingest.flush()
    assert await store.scalar("SELECT count(*) FROM events WHERE actor_id = 1 OR target_id = 1") == 0
    assert await store.scalar("SELECT count(*) FROM members WHERE member_id = 1") == 0
    assert await store.scalar("SELECT count(*) FROM events WHERE actor_id = 2") == 1  # unlinked


async def ranked_community(store: Store, voices: Voices, *, seed: int) -> int:
    """Forty members replying to each other for two months, a few of them popular, ranked: the
    member ranked first."""
    rnd = random.Random(seed)
    members = list(range(1, 41))
    events = []
    for day in range(1, 60):
        for k in range(60):
            a, b = rnd.sample(members, 2)
            b = rnd.choice(members[:8]) if rnd.random() < 0.5 and a > 8 else b  # a few popular members
            events.append(ev("reply", a, f"{day}-{k}", target=b, at=T0 - timedelta(days=day)))
    long_ago = T0 - timedelta(days=300)
    await store.record(
        events, [MemberSighting("discord", GUILD, m, long_ago, joined_at=long_ago) for m in members]
    )
    await voices.recompute(GUILD)
    return int(await store.scalar("SELECT member_id FROM trust_scores WHERE scope = 'all' AND rank = 1"))


async def test_an_erasure_during_a_running_recompute_does_not_bring_the_ranking_back(
    privacy: PrivacyService, store: Store, voices: Voices, clock: Clock
):
    """A recompute reads the graph, ranks in a worker thread, then writes: an erasure that comes in
    between must not see the member's rows written back by it."""
    victim = await ranked_community(store, voices, seed=1)
    await voices.invalidate(GUILD)  # the next recompute reads everything again
    ranking, resume = threading.Event(), threading.Event()
    compute = voices._compute

    def paused(*args: object, **kwargs: object) -> object:
        ranking.set()
        resume.wait(10)
        return compute(*args, **kwargs)

    voices._compute = paused  # type: ignore[method-assign]
    running = asyncio.create_task(voices.recompute(GUILD))
    assert await asyncio.to_thread(ranking.wait, 10)
    voices._compute = compute  # type: ignore[method-assign]
    await privacy.erase(GUILD, victim)
    resume.set()
    result = await running
    assert result.scopes >= 1  # it computed again, from what is left
    assert await store.scalar("SELECT count(*) FROM trust_scores WHERE member_id = :m", dict(m=victim)) == 0
    assert await store.scalar("SELECT count(*) FROM trust_scores") > 0


async def test_an_erasure_while_a_recompute_writes_never_leaves_the_member_ranked(
    privacy: PrivacyService, store: Store, voices: Voices
):
    """The recompute has checked that nothing was erased and is about to write its ranking when the
    erasure comes in: the erasure waits for the write, then deletes what it wrote."""
    victim = await ranked_community(store, voices, seed=2)
    write = store.replace_trust_scores
    erasing: list[asyncio.Task[object]] = []

    async def racing(*args: object, **kwargs: object) -> object:
        if not erasing:
            erasing.append(asyncio.create_task(privacy.erase(GUILD, victim)))
            await asyncio.sleep(0.2)  # the erasure runs now, unless it has to wait for this write
        return await write(*args, **kwargs)

    store.replace_trust_scores = racing  # type: ignore[method-assign]
    await voices.invalidate(GUILD)  # a full recompute, so that it writes
    await voices.recompute(GUILD)
    store.replace_trust_scores = write  # type: ignore[method-assign]
    await erasing[0]
    assert await store.scalar("SELECT count(*) FROM trust_scores WHERE member_id = :m", dict(m=victim)) == 0


async def test_retention_purge_uses_each_communitys_window_and_is_idempotent(
    privacy: PrivacyService, store: Store, voices: Voices, clock: Clock, ingest: Ingest
):
    clock.now = T0 + timedelta(days=100)
    await store.record(
        [
            ev("message", 1, "1", at=T0),
            ev("reply", 2, "2", target=1, at=clock.now - timedelta(days=10)),
            ev("message", 1, "3", at=T0, guild=OTHER),
        ]
    )
    await CommunityService(store, ingest, clock=clock).update(GUILD, {"retention_days": 30}, by=9)
    await voices.recompute(GUILD)
    assert voices.cached_graph(GUILD) is not None
    assert await privacy.purge_expired() == {GUILD: 1}  # OTHER keeps the default 180 days
    assert voices.cached_graph(GUILD) is None
    assert await store.fetch_all("SELECT source_id FROM events ORDER BY source_id") == [("2",), ("3",)]
    assert await store.scalar("SELECT sum(n) FROM activity_daily") == 3  # aggregates stay
    assert await privacy.purge_expired() == {}


async def test_member_days_outliving_a_communitys_last_events_are_purged_the_next_day(
    privacy: PrivacyService, store: Store, clock: Clock
):
    """The purge keeps who was active on the day its cutoff falls on. When it deletes a community's
    last events, those rows are still purged the next day: before, a community without raw events
    was no longer purged at all, and its members' active days stayed for good."""
    await store.record([ev("message", 1, "1", at=T0.replace(hour=10))])
    clock.now = T0.replace(hour=12) + timedelta(days=180)  # the cutoff: T0 at 12:00
    assert await privacy.purge_expired() == {GUILD: 1}
    assert await store.scalar("SELECT count(*) FROM report_member_days") == 1  # the cutoff's day
    clock.now += timedelta(days=1)
    await privacy.purge_expired()
    assert await store.scalar("SELECT count(*) FROM report_member_days") == 0
    assert await store.scalar("SELECT count(*) FROM member_last_active") == 0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("123456789012345678", 123456789012345678),
        (" <@!123456789012345678> ", 123456789012345678),
        ("\u200b123456789012345678\u202e", 123456789012345678),
        ("carol", None),
        ("12345", None),
        ("¹²³⁴⁵⁶⁷⁸⁹¹²³⁴⁵⁶⁷⁸", None),  # digits to a reader, not to int()
        ("١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨", None),
        ("99999999999999999999", None),  # beyond a 64-bit id
    ],
)
def test_member_ids_typed_by_moderators(raw: str, expected: int | None):
    if expected is not None:
        assert parse_member_id(raw) == expected
    else:
        with pytest.raises(InvalidInput, match=r"privacy\.bad_member_id"):
            parse_member_id(raw)


async def test_a_stored_pattern_is_exported_with_the_member_and_erased_with_them(
    privacy: PrivacyService, store: Store
):
    """What the ranking saw in a member's engagement while not listing them (`trust_patterns`) is
    data about them: in their export, and gone after their erasure."""
    await store.replace_trust_scores(GUILD, {"all": []}, T0, patterns={7: (0.6, "woke"), 8: (0.3, "one")})
    exported = json.loads((await privacy.export(GUILD, 7)).data)
    assert [row["reason"] for row in exported["tables"]["trust_patterns"]] == ["woke"]
    await privacy.erase(GUILD, 7)
    assert await store.trust_pattern(GUILD, 7) is None
    assert await store.trust_pattern(GUILD, 8) == (0.3, "one")
