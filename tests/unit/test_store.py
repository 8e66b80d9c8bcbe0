from __future__ import annotations

import asyncio
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.ledger import ChannelInfo, EngagementEvent, MemberSighting, iso
from bot.store import MIGRATIONS_DIR, MigrationError, Store, discover_migrations
from bot.trust import KINDS, CommunityEdges, Voices

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GUILD = 100


def ev(
    kind: str, actor: int, source: str, *, target: int | None = None, channel: int = 10, at: datetime = T0
):
    return EngagementEvent("discord", GUILD, channel, actor, kind, source, at, target)  # type: ignore[arg-type]


@pytest.fixture
async def store(database: str | Path):
    """A fresh store on each backend (tests/conftest.py)."""
    s = await Store.open(database)
    yield s
    await s.close()


async def test_fresh_database_reaches_latest_version(store: Store):
    assert await store.schema_version() == len(discover_migrations())
    if store.dialect == "sqlite":  # in WAL mode, foreign keys enforced
        assert await store.scalar("PRAGMA journal_mode") == "wal"
        assert await store.scalar("PRAGMA foreign_keys") == 1


async def test_older_database_is_migrated_forward(tmp_path: Path):
    old = tmp_path / "old_migrations"
    old.mkdir()
    shutil.copy(MIGRATIONS_DIR / "0001_init.sql", old)
    s = await Store.open(tmp_path / "db.sqlite3", migrations=old)
    # Written as the first version of the bot did (the batch statements of today's `record` feed
    # aggregates that later migrations add).
    await s.db.execute(
        "INSERT INTO events (platform, community_id, channel_id, actor_id, target_id, kind, source_id,"
        " is_self, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ev("reply", 1, "500", target=2).row(),
    )
    assert await s.schema_version() == 1
    await s.close()
    s = await Store.open(tmp_path / "db.sqlite3")
    assert await s.schema_version() == len(discover_migrations())
    assert await s.scalar("SELECT count(*) FROM events") == 1
    # the aggregates added later were filled from what was already recorded
    assert await s.scalar("SELECT sum(n) FROM report_channel_days") == 1
    assert await s.scalar("SELECT last_message_id FROM channel_cursors") == 500
    await s.close()


async def test_failing_migration_leaves_nothing_behind(tmp_path: Path):
    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(MIGRATIONS_DIR / "0001_init.sql", bad)
    (bad / "0002_broken.sql").write_text(
        "-- Reason: test\nCREATE TABLE half (x);\nSELECT nonsense FROM nowhere;\n"
    )
    with pytest.raises(MigrationError, match="0002_broken"):
        await Store.open(tmp_path / "db.sqlite3", migrations=bad)
    (bad / "0002_broken.sql").unlink()
    s = await Store.open(tmp_path / "db.sqlite3", migrations=bad)
    assert await s.schema_version() == 1
    assert await s.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'half'") == 0
    await s.close()


def test_misnumbered_migrations_are_refused(tmp_path: Path):
    (tmp_path / "0001_a.sql").write_text("")
    (tmp_path / "0003_c.sql").write_text("")
    with pytest.raises(MigrationError, match="without gaps"):
        discover_migrations(tmp_path)


async def test_duplicates_are_ignored_and_counted_once(store: Store):
    batch = [ev("message", 1, "500"), ev("reply", 2, "501", target=1)]
    assert await store.record(batch) == 2
    assert await store.record(batch) == 0
    assert await store.scalar("SELECT count(*) FROM events") == 2
    # the daily aggregate saw the reply exactly once
    assert await store.scalar("SELECT sum(n) FROM engagement_daily") == 1


async def test_engagement_daily_skips_self_and_retracts_removed_reactions(store: Store):
    await store.record(
        [
            ev("message", 1, "500"),
            ev("reaction", 1, "500:👍", target=1),  # self-reaction: not engagement
            ev("reaction", 2, "500:👍", target=1),
            ev("reaction", 3, "500:👍", target=1),
        ]
    )
    assert await store.scalar("SELECT is_self FROM events WHERE actor_id = 1 AND kind = 'reaction'") == 1
    assert await store.scalar("SELECT sum(n) FROM engagement_daily WHERE kind = 'reaction'") == 2
    await store.record([ev("unreaction", 3, "500:👍", target=1, at=T0 + timedelta(days=2))])
    rows = await (
        await store.db.execute("SELECT actor_id, day, n FROM engagement_daily ORDER BY actor_id")
    ).fetchall()
    day = (T0.date() - datetime(1970, 1, 1).date()).days
    assert [tuple(r) for r in rows] == [(2, day, 1), (3, day, 0)]


async def test_thread_messages_count_as_thread_replies(store: Store):
    await store.record([ev("message", 2, "600", target=1, channel=77)])
    assert await store.scalar("SELECT kind FROM engagement_daily") == "thread_reply"


async def test_members_keep_earliest_sighting_and_known_join(store: Store):
    later = T0 + timedelta(days=1)
    await store.record([], [MemberSighting("discord", GUILD, 5, later, joined_at=None)])
    await store.record([], [MemberSighting("discord", GUILD, 5, T0, joined_at=T0 - timedelta(days=90))])
    await store.record([], [MemberSighting("discord", GUILD, 5, later + timedelta(days=1))])
    row = await (await store.db.execute("SELECT first_seen, joined_at FROM members")).fetchone()
    assert row[0].startswith("2026-03-01T12:00") and row[1].startswith("2025-12-01")


async def test_channel_cursors_hold_todays_nineteen_digit_snowflakes(store: Store):
    """Where the gap fill resumes: the newest message id of each channel, on both backends, for the
    snowflakes Discord gives today (19 digits)."""
    await store.record(
        [ev("message", 1, "1578655616044498945"), ev("reply", 2, "1578655616149356544", target=1)]
    )
    assert await store.channel_cursors("discord") == [(GUILD, 10, 1578655616149356544)]


async def test_lookups_and_counts(store: Store):
    await store.record(
        [ev("message", 1, "500"), ev("reply", 2, "501", target=1), ev("message", 3, "502", channel=11)],
        channels=[
            ChannelInfo("discord", GUILD, 10, None, 0, "general"),
            ChannelInfo("discord", GUILD, 11, 10, 11, "t", 3),
        ],
    )
    assert await store.message_author("discord", 501) == 2
    assert await store.message_author("discord", 999) is None
    assert await store.thread_owner("discord", GUILD, 11) == 3
    since = T0 - timedelta(days=1)
    assert await store.event_counts(GUILD, since) == {"message": 2, "reply": 1}
    assert await store.channel_counts(GUILD, since) == [(10, "general", 2), (11, "t", 1)]
    assert await store.channel_names(GUILD, [11, 10, 11, 999]) == {10: "general", 11: "t"}
    assert await store.channel_names(GUILD, []) == {} and await store.channel_names(GUILD + 1, [10]) == {}
    assert await store.channel_counts(GUILD, since, 1) == [(10, "general", 2)]  # the busiest only
    assert await store.distinct_actors(GUILD, since) == 3


async def test_members_active_since_a_day_follow_each_members_newest_event(store: Store):
    day = timedelta(days=1)
    await store.record([ev("message", 1, "600", at=T0 - 9 * day), ev("message", 2, "601", at=T0 - 9 * day)])
    await store.record([ev("reaction", 2, "601:x", at=T0 - 2 * day), ev("message", 3, "602", at=T0)])
    await store.record([ev("message", 2, "603", at=T0 - 20 * day)])  # older news never moves a day back
    assert await store.distinct_actors(GUILD, T0 - 7 * day) == 2  # members 2 and 3
    assert await store.distinct_actors(GUILD, T0 - 10 * day) == 3
    assert await store.distinct_actors(GUILD, T0 + day) == 0
    await store.record([ev("message", 2, "601", at=T0 - 9 * day)])  # a replay: nothing changes
    assert await store.distinct_actors(GUILD, T0 - 3 * day) == 2
    # Each member's newest day beside the community's (what `/voices member` counts idleness from).
    today = int(T0.timestamp() // 86_400)
    assert await store.last_active_days(GUILD, 1) == (today - 9, today)
    assert await store.last_active_days(GUILD, 2) == (today - 2, today)
    assert await store.last_active_days(GUILD, 99) == (None, today)
    assert await store.last_active_days(GUILD + 1, 1) == (None, None)


async def test_settings_upsert_only_given_columns(store: Store):
    assert (await store.get_settings(GUILD, default_locale="he")).locale == "he"
    await store.update_settings(GUILD, {"locale": "ar"}, by=9, now=T0)
    await store.update_settings(GUILD, {"retention_days": 30}, by=9, now=T0)
    s = await store.get_settings(GUILD)
    assert (s.locale, s.retention_days, s.mod_role_id) == ("ar", 30, None)
    with pytest.raises(ValueError):
        await store.update_settings(GUILD, {"drop table": 1}, by=9, now=T0)


# -- the trust graph kept in memory (bot.trust.graph) -------------------------------------------------


def _graph_rows(edges) -> list[tuple[int, ...]]:
    cols = (edges.channel, edges.actor, edges.target, edges.day, edges.kind, edges.n.astype(int))
    return sorted(t for t in zip(*(c.tolist() for c in cols), strict=True) if t[5] > 0)


def _post_counts(posts) -> dict[tuple[int, int, int], int]:
    out: dict[tuple[int, int, int], int] = {}
    for key, n in zip(
        zip(posts.member.tolist(), posts.channel.tolist(), posts.day.tolist(), strict=True),
        posts.n.tolist(),
        strict=True,
    ):
        out[key] = out.get(key, 0) + int(n)
    return out


async def _fresh_graph(store: Store) -> CommunityEdges:
    columns = await store.engagement_columns(GUILD, 0, KINDS, workers=2)
    return CommunityEdges(columns, await store.thread_parents(GUILD), 0)


async def test_graph_kept_up_to_date_equals_a_fresh_read(store: Store):
    threads = [
        ChannelInfo("discord", GUILD, 10, None, 0, "general"),
        ChannelInfo("discord", GUILD, 11, 10, 11, "t", 3),
    ]
    await store.record(
        [
            ev("message", 1, "500"),
            ev("reply", 2, "501", target=1),
            ev("reaction", 3, "500:👍", target=1),
            ev("reaction", 4, "500:👍", target=1),
            ev("message", 5, "502", target=3, channel=11),  # in a thread: folded into channel 10
        ],
        channels=threads,
    )
    graph = await _fresh_graph(store)
    rows = await store.engagement_rows(GUILD, 0)
    folded = sorted((c, a, t, d, KINDS.index(k), n) for c, a, t, d, k, n in rows)
    assert _graph_rows(graph.edges()) == folded
    assert any(r[0] == 10 and r[4] == KINDS.index("thread_reply") for r in folded)

    later = T0 + timedelta(days=1)
    await store.record(
        [
            ev("unreaction", 3, "500:👍", target=1, at=later),  # retracts on the day of the reaction
            # a removal whose message the writer could not resolve (Discord names no author in it):
            # taken back from the member the reaction engaged
            ev("unreaction", 4, "500:👍", at=later),
            ev("reply", 2, "503", target=1, at=later),
            ev("reply", 6, "504", target=2, channel=11, at=later),
            ev("message", 2, "505", at=later),
        ]
    )
    changes = await store.engagement_changes(GUILD, graph.upto_id, KINDS)
    assert changes is not None and graph.apply(changes)
    assert graph.apply(changes)  # applying the same change again counts nothing twice
    fresh = await _fresh_graph(store)
    assert _graph_rows(graph.edges()) == _graph_rows(fresh.edges())
    assert _post_counts(graph.posts()) == _post_counts(fresh.posts())
    assert graph.upto_id == fresh.upto_id
    assert not [r for r in _graph_rows(graph.edges()) if r[1] in (3, 4) and r[5] > 0]  # both taken back

    # Deleted events (ids may be reused): the graph cannot be brought up to date in place.
    await store.db.execute("DELETE FROM events WHERE id > 3")
    assert await store.engagement_changes(GUILD, graph.upto_id, KINDS) is None


async def test_voices_invalidate_drops_the_cached_graph(store: Store):
    people = range(1, 8)
    await store.record(
        [ev("reply", a, f"{a}:{b}", target=b) for a in people for b in people if a != b],
        [
            MemberSighting("discord", GUILD, m, T0 - timedelta(days=90), joined_at=T0 - timedelta(days=90))
            for m in people
        ],
    )
    voices = Voices(store, clock=lambda: T0 + timedelta(hours=1))
    await voices.recompute(GUILD)
    graph = voices.cached_graph(GUILD)
    assert graph is not None and len(graph) > 0
    await voices.absorb([GUILD])  # nothing new: nothing changes
    assert voices.cached_graph(GUILD) is graph
    await voices.invalidate(GUILD)
    assert voices.cached_graph(GUILD) is None
    await store.db.execute("DELETE FROM engagement_daily WHERE actor_id = 1")
    await voices.recompute(GUILD)
    assert 1 not in voices.cached_graph(GUILD).edges().actor.tolist()


async def test_a_subreddit_is_ranked_from_its_first_week(store: Store):
    """Reddit shows no join date, and a subreddit's records begin when it is bound: its regulars,
    first seen that day, were there before and vouch at once; before any subreddit is bound (or for
    a sighting days after the binding) a first sighting is an arrival."""
    from bot.subreddits.ids import REDDIT_BIT

    bound_at = T0 - timedelta(days=7)
    regulars = [REDDIT_BIT | n for n in range(1, 9)]
    events = [
        EngagementEvent("reddit", GUILD, 5, a, "comment", f"t1_{i}_{j}_{d}", bound_at + timedelta(days=d), b)
        for i, a in enumerate(regulars)
        for j, b in enumerate(regulars)
        for d in range(7)
        if (j - i) % len(regulars) in (1, 2, 3, 4, 5)
    ]
    await store.record(events, [MemberSighting("reddit", GUILD, m, bound_at) for m in regulars])
    voices = Voices(store, clock=lambda: T0)
    await voices.recompute(GUILD)
    assert (await voices.top(GUILD, "all")).total == 0  # no subreddit bound: everyone just arrived
    subreddit = REDDIT_BIT | 999
    await store.bind_subreddit(GUILD, subreddit, "VeganCooking", by=1, now=bound_at, bot_moderates=True)
    await voices.recompute(GUILD)
    page = await voices.top(GUILD, "all", per_page=10)
    assert page.total == len(regulars) and {e.member_id for e in page.entries} == set(regulars)


async def test_a_subreddits_moderators_are_told_once_unless_telling_failed(store: Store):
    """The first post that shows the bot cannot feature posts tells the moderators (the claim is taken
    once); a message Reddit did not take gives the claim back, so the next post tells them."""
    from bot.subreddits.ids import REDDIT_BIT

    subreddit = REDDIT_BIT | 998
    await store.bind_subreddit(GUILD, subreddit, "VeganCooking", by=1, now=T0, bot_moderates=False)
    assert await store.mark_mods_told(subreddit, T0)
    assert not await store.mark_mods_told(subreddit, T0)
    await store.unmark_mods_told(subreddit)
    assert await store.mark_mods_told(subreddit, T0 + timedelta(hours=1))
    assert not await store.mark_mods_told(subreddit, T0 + timedelta(hours=2))


async def test_a_subreddit_read_back_begins_its_records_at_its_oldest_item(store: Store):
    """Items read back from before the binding move the start of the subreddit's records back to the
    oldest of them (never forward, and never for an item posted after the binding); the ranking's
    records of Reddit accounts begin there."""
    from bot.subreddits.ids import REDDIT_BIT
    from bot.trust.service import reddit_records_from

    subreddit = REDDIT_BIT | 999
    await store.bind_subreddit(GUILD, subreddit, "VeganCooking", by=1, now=T0, bot_moderates=True)
    (bound,) = await store.bound_subreddits(GUILD)
    assert bound.records_from is None and bound.records_begin == bound.added_at == iso(T0)
    oldest = iso(T0 - timedelta(days=20))
    for at in (
        T0 - timedelta(days=5),
        T0 - timedelta(days=20),
        T0 - timedelta(days=9),
        T0 + timedelta(hours=1),
    ):
        await store.records_reach_back({subreddit: iso(at)})
    (bound,) = await store.bound_subreddits(GUILD)
    assert bound.records_from == bound.records_begin == oldest
    day = (T0 - timedelta(days=20) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() / 86_400
    assert reddit_records_from([bound.records_begin]) == pytest.approx(day)


async def reddit_activation(store: Store, subreddit: int) -> int:
    """A pending giveaway in the subreddit (a Reddit activation's channel is its subreddit)."""
    brand = await store.create_brand(GUILD, "Oat Co", [], [], by=1, now=T0)
    await store.set_brand_status(GUILD, brand.id, expected="pending", status="approved", by=1, now=T0)
    return await store.insert_activation(
        community_id=GUILD,
        brand_id=brand.id,
        kind="giveaway",
        connection="paid",
        title="Giveaway",
        channel_id=subreddit,
        starts_at=T0 + timedelta(days=1),
        ends_at=T0 + timedelta(days=2),
        locale="en",
        config={},
        created_by=1,
        now=T0,
    )


async def test_a_subreddit_is_not_unbound_by_the_store_while_one_of_its_activations_is_open(store: Store):
    """The refusal is the unbinding statement's own condition: an activation approved after a caller
    looked (here: the store asked directly) still keeps the subreddit bound."""
    from bot.subreddits.ids import REDDIT_BIT

    subreddit = REDDIT_BIT | 999
    await store.bind_subreddit(GUILD, subreddit, "VeganCooking", by=1, now=T0, bot_moderates=True)
    await store.bind_subreddit(GUILD + 1, REDDIT_BIT | 998, "Other", by=1, now=T0, bot_moderates=True)
    activation = await reddit_activation(store, subreddit)
    assert await store.transition_activation(GUILD, activation, "pending", "scheduled", actor=1, now=T0)
    await store.set_reddit_cursors({(subreddit, "comments"): "t1_a"}, T0)

    kept = await store.unbind_subreddit(GUILD, "vegancooking")
    assert kept is not None and kept.kept_by == (activation,) and kept.subreddit.subreddit_id == subreddit
    assert [b.name for b in await store.bound_subreddits(GUILD)] == ["VeganCooking"]
    assert await store.reddit_cursors() == {(subreddit, "comments"): "t1_a"}
    assert await store.transition_activation(GUILD, activation, "scheduled", "live", actor=1, now=T0)
    kept = await store.unbind_subreddit(GUILD, "VeganCooking")
    assert kept is not None and kept.kept_by == (activation,)

    assert await store.transition_activation(GUILD, activation, "live", "ended", actor=1, now=T0)
    assert await store.unbind_subreddit(GUILD + 1, "VeganCooking") is None  # not that community's
    gone = await store.unbind_subreddit(GUILD, "VeganCooking")
    assert gone is not None and gone.kept_by == ()
    assert await store.bound_subreddits(GUILD) == [] and await store.reddit_cursors() == {}
    assert [b.name for b in await store.bound_subreddits(GUILD + 1)] == ["Other"]


async def test_concurrent_writes_never_join_another_tasks_transaction(store: Store):
    """A single write issued while another task's transaction is open waits for it, so that
    transaction's rollback cannot take the write with it (one aiosqlite connection is shared)."""
    import asyncio

    opened = asyncio.Event()

    async def failing_transaction() -> None:
        async with store.transaction() as db:
            await db.execute("INSERT INTO bot_state (key, value) VALUES ('doomed', '1')")
            opened.set()
            await asyncio.sleep(0.05)
            raise RuntimeError("rolled back")

    async def other_writer() -> None:
        await opened.wait()
        await store.set_state("kept", "1")

    results = await asyncio.gather(failing_transaction(), other_writer(), return_exceptions=True)
    assert isinstance(results[0], RuntimeError) and results[1] is None
    assert await store.get_state("kept") == "1"
    assert await store.get_state("doomed") is None

    # and two transactions started together both commit, one after the other
    async def txn(key: str) -> None:
        async with store.transaction() as db:
            await db.execute("INSERT INTO bot_state (key, value) VALUES (?, '1')", (key,))
            await asyncio.sleep(0.01)

    await asyncio.gather(txn("a"), txn("b"))
    assert await store.get_state("a") == "1" and await store.get_state("b") == "1"


async def test_trend_compares_with_the_ranking_a_period_ago_not_the_last_recompute(store: Store):
    import json

    people = range(1, 8)
    await store.record(
        [ev("reply", a, f"{a}:{b}", target=b) for a in people for b in people if a != b],
        [
            MemberSighting("discord", GUILD, m, T0 - timedelta(days=90), joined_at=T0 - timedelta(days=90))
            for m in people
        ],
    )
    now = [T0 + timedelta(hours=1)]
    voices = Voices(store, clock=lambda: now[0])

    async def trend_keys() -> set[str]:
        rows = await store.fetch_all("SELECT why FROM trust_scores WHERE scope = 'all'")
        return {
            key for (why,) in rows for key, _ in json.loads(why)["parts"] if "trend" in key or "new" in key
        }

    await voices.recompute(GUILD)
    await voices.recompute(GUILD)  # minutes later: still no period to compare with
    assert await trend_keys() == set()
    for day in range(1, 8):  # a recompute every day for a week: one snapshot a day
        now[0] = T0 + timedelta(days=day, hours=1)
        await voices.recompute(GUILD)
    # a week on, the trend compares with the snapshot taken a week earlier
    assert await trend_keys() == {"trust.why.trend_flat"}
    days = [d for (d,) in await store.fetch_all("SELECT DISTINCT day FROM trust_snapshots ORDER BY day")]
    assert len(days) == 8 and days == list(range(days[0], days[0] + 8))
    # snapshots older than two periods are dropped
    now[0] = T0 + timedelta(days=30, hours=1)
    await voices.recompute(GUILD)
    oldest = await store.scalar("SELECT min(day) FROM trust_snapshots")
    assert oldest is not None and oldest >= days[0] + 30 - 14


async def test_recompute_after_new_events_runs_in_place_and_equals_a_full_one(store: Store):
    people = range(1, 12)
    sightings = [
        MemberSighting("discord", GUILD, m, T0 - timedelta(days=90), joined_at=T0 - timedelta(days=90))
        for m in people
    ]
    await store.record(
        [ev("reply", a, f"{a}:{b}", target=b) for a in people for b in people if a != b and (a + b) % 3],
        sightings,
    )
    clock = [T0 + timedelta(hours=2)]
    voices = Voices(store, clock=lambda: clock[0])
    first = await voices.recompute(GUILD)
    assert not first.in_place and first.ranked > 0
    # new engagement, written as Ingest writes it (then its after-write hook updates the graph)
    await store.record(
        [ev("reply", a, f"more:{a}:{b}", target=b) for a in people for b in (1, 2) if a != b]
        + [ev("reaction", a, "1:2", target=1) for a in (3, 4, 5)],
        [],
    )
    await voices.absorb([GUILD])
    second = await voices.recompute(GUILD)
    assert second.in_place
    query = (
        "SELECT scope, rank, member_id, distinct_peers, trusted_peers, score, why FROM trust_scores"
        " ORDER BY scope, rank"
    )
    kept = await store.fetch_all(query)
    voices.forget_state(GUILD)
    third = await voices.recompute(GUILD)
    assert not third.in_place
    full = await store.fetch_all(query)
    assert [r[:5] for r in kept] == [r[:5] for r in full]
    assert all(abs(a[5] - b[5]) < 1e-9 for a, b in zip(kept, full, strict=True))
    assert kept != [] and {r[0] for r in kept} >= {"all"}

    # Nothing new since: the stored rows stay as they are, only the runs are marked current.
    written = await store.fetch_all("SELECT DISTINCT computed_at FROM trust_scores")
    clock[0] += timedelta(minutes=15)
    again = await voices.recompute(GUILD)
    assert again.in_place and again.ranked == third.ranked
    assert await store.fetch_all("SELECT DISTINCT computed_at FROM trust_scores") == written
    runs = await store.fetch_all("SELECT DISTINCT computed_at FROM trust_runs")
    assert runs == [(iso(clock[0]),)] != written
    assert await store.fetch_all(query) == full


async def test_a_withdrawn_first_reaction_is_followed_in_place_from_the_pairs_rows(store: Store):
    """Member 3 first engaged member 1 with a reaction ten days ago and replied to them since; the
    reaction is withdrawn. The kept ranking state cannot tell that pair's next day from its own
    counts, so it reads the pair's rows from the kept graph: the recompute still runs in place and
    stores what a full one stores."""
    people = range(1, 12)
    sightings = [
        MemberSighting("discord", GUILD, m, T0 - timedelta(days=90), joined_at=T0 - timedelta(days=90))
        for m in people
    ]
    earlier = T0 - timedelta(days=10)
    await store.record(
        [ev("reply", a, f"{a}:{b}", target=b) for a in people for b in people if a != b and (a + b) % 3]
        + [ev("message", 1, "700", at=earlier), ev("reaction", 3, "700:👍", target=1, at=earlier)],
        sightings,
    )
    clock = [T0 + timedelta(hours=2)]
    voices = Voices(store, clock=lambda: clock[0])
    assert not (await voices.recompute(GUILD)).in_place
    await store.record([ev("unreaction", 3, "700:👍", target=1, at=T0 + timedelta(hours=1))], [])
    await voices.absorb([GUILD])
    second = await voices.recompute(GUILD)
    assert second.in_place
    query = "SELECT scope, rank, member_id, distinct_peers, score FROM trust_scores ORDER BY scope, rank"
    kept = await store.fetch_all(query)
    voices.forget_state(GUILD)
    assert not (await voices.recompute(GUILD)).in_place
    full = await store.fetch_all(query)
    assert [r[:4] for r in kept] == [r[:4] for r in full] != []
    assert all(abs(a[4] - b[4]) < 1e-9 for a, b in zip(kept, full, strict=True))


async def test_member_days_are_day_numbers_with_nan_for_unknown(store: Store, tmp_path: Path):
    joined = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    await store.record(
        [ev("message", 1, "m1")],
        [
            MemberSighting("discord", GUILD, 1, T0, joined_at=joined, account_created_at=joined),
            MemberSighting("discord", GUILD, 2, T0, is_bot=True),
        ],
    )
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    await store.member_left(GUILD, 2, T0 + timedelta(hours=6))
    days = await store.member_days(GUILD)
    by_id = dict(zip(days.member_id.tolist(), range(len(days.member_id)), strict=True))
    one, two = by_id[1], by_id[2]
    assert np.isnan(days.left_day[one])
    assert days.left_day[two] == pytest.approx((T0 + timedelta(hours=6) - epoch).total_seconds() / 86400)
    assert days.joined_day[one] == pytest.approx((joined - epoch).total_seconds() / 86400)
    assert days.account_created_day[one] == days.joined_day[one]
    assert days.first_seen_day[two] == pytest.approx((T0 - epoch).total_seconds() / 86400)
    assert np.isnan(days.joined_day[two]) and np.isnan(days.account_created_day[two])
    assert days.is_bot.tolist() == [i == two for i in range(len(days.member_id))]
    assert len((await store.member_days(GUILD + 1)).member_id) == 0
    # the in-memory store (no separate reader connections) gives the same columns
    memory = await Store.open(":memory:")
    try:
        await memory.record(
            [ev("message", 1, "m1")],
            [
                MemberSighting("discord", GUILD, 1, T0, joined_at=joined, account_created_at=joined),
                MemberSighting("discord", GUILD, 2, T0, is_bot=True),
            ],
        )
        again = await memory.member_days(GUILD)
        order = np.argsort(again.member_id)
        mine = np.argsort(days.member_id)
        for field in ("member_id", "joined_day", "account_created_day", "first_seen_day", "is_bot"):
            np.testing.assert_array_equal(getattr(again, field)[order], getattr(days, field)[mine])
    finally:
        await memory.close()


@pytest.mark.parametrize("where", ["file", "memory"])
async def test_member_days_since_an_earlier_read_fetch_only_changes(tmp_path: Path, where: str):
    """Given an earlier read, only members added or changed since are fetched and merged in; the
    result always equals a full read, an unchanged community returns the earlier read itself, and a
    removal (erasure) reads everyone again."""
    store = await Store.open(tmp_path / "db.sqlite3" if where == "file" else ":memory:")
    later = T0 + timedelta(days=3)
    try:

        def sight(member: int, seen: datetime = T0, **kw: object) -> MemberSighting:
            return MemberSighting("discord", GUILD, member, seen, **kw)  # type: ignore[arg-type]

        def same(a, b) -> None:  # type: ignore[no-untyped-def]
            order_a, order_b = np.argsort(a.member_id), np.argsort(b.member_id)
            names = ("member_id", "joined_day", "account_created_day", "first_seen_day", "is_bot", "left_day")
            for name in names:
                np.testing.assert_array_equal(getattr(a, name)[order_a], getattr(b, name)[order_b])

        await store.record([], [sight(m) for m in range(1, 6)])
        first = await store.member_days(GUILD)
        assert len(first.member_id) == 5
        # seen again, later, with nothing new: no change, the earlier read is current
        await store.record([], [sight(1, later), sight(2, later)])
        assert await store.member_days(GUILD, first) is first
        # a newcomer, a join time learned, a bot flag, an earlier sighting
        await store.record(
            [], [sight(6), sight(2, joined_at=later), sight(3, is_bot=True), sight(4, T0 - timedelta(days=1))]
        )
        second = await store.member_days(GUILD, first)
        assert second.version > first.version
        same(second, await store.member_days(GUILD))
        assert second.is_bot[second.member_id.tolist().index(3)]
        # a departure is a change (the day it happened), and so is the return their engagement shows
        await store.member_left(GUILD, 4, later)
        gone = await store.member_days(GUILD, second)
        assert gone.version > second.version
        same(gone, await store.member_days(GUILD))
        left = dict(zip(gone.member_id.tolist(), gone.left_day.tolist(), strict=True))
        assert left[4] == pytest.approx((later - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() / 86400)
        assert all(np.isnan(day) for m, day in left.items() if m != 4)
        await store.record([], [sight(4, later + timedelta(hours=1))])
        back = await store.member_days(GUILD, gone)
        assert np.isnan(back.left_day).all()
        same(back, await store.member_days(GUILD))
        second = back
        # an erasure: everyone is read again (the removed member is gone)
        await store.forget_member(GUILD, 5, pseudonym=-5, now=later)
        third = await store.member_days(GUILD, second)
        assert 5 not in third.member_id.tolist() and len(third.member_id) == 5
        same(third, await store.member_days(GUILD))
        assert await store.member_days(GUILD, third) is third
        assert len((await store.member_days(GUILD + 1)).member_id) == 0
        # members stored before versions were kept (a migrated database) are read in full
        await store.write("UPDATE members SET version = 0")
        await store.write("DELETE FROM member_versions")
        same(await store.member_days(GUILD), third)
    finally:
        await store.close()


async def test_a_listing_keeps_the_bar_a_member_not_listed_is_told(store: Store):
    """Ten helpers whom 32 members answer every week, who answer each other three apiece, and a
    member whom six of them answer: the established voices have 32 engagers, so the confidence bar
    asks ten (a third of them, well above the fixed five), and the stored run keeps it. (With ten
    members above it, the listing is as deep as `listed_min_depth` without filling.)"""
    helpers, askers, quiet = list(range(1, 11)), list(range(11, 43)), 99
    events = []
    for d in (1, 8, 15):
        at = T0 - timedelta(days=d)
        events += [ev("reply", a, f"{a}:{h}:{d}", target=h, at=at) for h in helpers for a in askers]
        events += [
            ev("reply", a, f"{a}:asker{s}:{d}", target=askers[(i + s) % len(askers)], at=at)
            for i, a in enumerate(askers)
            for s in (1, 2, 3)
        ]
        events += [ev("reply", a, f"{a}:q:{d}", target=quiet, at=at) for a in askers[:6]]
        events += [ev("message", m, f"{m}:said:{d}", at=at) for m in [*helpers, quiet]]
    joined = T0 - timedelta(days=200)
    sightings = [
        MemberSighting("discord", GUILD, m, joined, joined_at=joined) for m in [*helpers, *askers, quiet]
    ]
    await store.record(events, sightings)
    voices = Voices(store, clock=lambda: T0 + timedelta(hours=1))
    assert await voices.listing_bar(GUILD) == 5  # nothing stored yet: the fixed minimum
    await voices.recompute(GUILD)
    page = await voices.top(GUILD, "all", per_page=100)
    assert {e.member_id for e in page.entries} == set(helpers)
    assert await voices.listing_bar(GUILD) == await store.trust_bar(GUILD, "all") == 10
    assert await store.trust_bar(GUILD, "channel:404") is None


async def test_a_read_left_between_its_steps_holds_no_snapshot_a_write_must_wait_for(tmp_path: Path):
    """A read on the main connection is run to its end in one step, whatever its caller fetches: one
    task's read left between `execute` and its fetches, while the ingest writer's own connection
    commits, holds no old snapshot that another task's write would have to wait for (SQLite refuses
    such a write at once, SQLITE_BUSY_SNAPSHOT)."""
    import asyncio
    import sqlite3

    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        await store.record([ev("message", m, f"s{m}") for m in range(1, 60)], [], [])
        other = sqlite3.connect(tmp_path / "db.sqlite3")
        async with store.db.execute("SELECT id FROM events ORDER BY id") as cur:
            assert await cur.fetchone() is not None
            other.execute("INSERT INTO guild_settings (community_id, locale) VALUES (7, 'he')")
            other.commit()  # the ingest writer's connection commits meanwhile
            write = store.write("INSERT INTO guild_settings (community_id, locale) VALUES (8, 'ar')")
            await asyncio.wait_for(write, timeout=2)  # at once, the read still unfinished
            rest = await cur.fetchall()
        assert len(rest) == 58
        assert await store.scalar("SELECT locale FROM guild_settings WHERE community_id = 8") == "ar"
        other.close()
    finally:
        await store.close()


async def test_a_write_waits_for_the_ingest_writers_batch_while_another_task_reads(tmp_path: Path):
    """Activations advance side by side on the one connection, so one task's read and another's
    write take turns on it, here while the ingest writer's own connection is in the middle of a
    batch. The write waits for the batch (the busy timeout) instead of being refused at once with
    "database is locked", which SQLite does to a connection that holds a read open."""
    import asyncio
    import sqlite3

    store = await Store.open(tmp_path / "db.sqlite3")
    ingest = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None, check_same_thread=False)
    try:
        await store.record([ev("message", m, f"s{m}") for m in range(1, 60)], [], [])
        ingest.execute("BEGIN IMMEDIATE")
        ingest.execute("INSERT INTO guild_settings (community_id, locale) VALUES (7, 'he')")
        # On the connection's queue: the read's statement, the write, then the read's fetch.
        read = asyncio.create_task(store.fetch_all("SELECT id FROM events ORDER BY id"))
        write = asyncio.create_task(
            store.write("INSERT INTO guild_settings (community_id, locale) VALUES (8, 'ar')")
        )
        done, _ = await asyncio.wait({read, write}, timeout=0.2)
        assert write not in done  # waiting for the batch, not refused
        ingest.execute("COMMIT")
        assert len(await read) == 59
        await write
        rows = await store.fetch_all("SELECT community_id, locale FROM guild_settings ORDER BY 1")
        assert rows == [(7, "he"), (8, "ar")]
    finally:
        ingest.close()
        await store.close()


async def test_every_statement_a_ledger_batch_runs_reads_the_batch_by_rowid(tmp_path: Path):
    """Each aggregate a batch feeds reads the batch's own rows (ids above the last before it), never
    the whole ledger: a plan that scans `events` (an index picked for a GROUP BY, say) costs a full
    pass over millions of rows per batch."""
    import sqlite3

    from bot.store.ledger import AFTER_INSERT

    store = await Store.open(tmp_path / "db.sqlite3")
    await store.close()
    db = sqlite3.connect(tmp_path / "db.sqlite3")
    try:
        for sql in AFTER_INSERT:
            plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + str(sql), dict(after=0))]
            scans = [step for step in plan if step.startswith("SCAN") and step != "SCAN gone"]
            assert not scans, (str(sql)[:120], plan)
    finally:
        db.close()


async def test_an_activation_is_not_approved_in_a_subreddit_no_longer_bound(store: Store):
    """The approval's UPDATE checks the binding itself: an unbinding that committed first is seen."""
    from bot.subreddits.ids import REDDIT_BIT

    subreddit = REDDIT_BIT | 999
    await store.bind_subreddit(GUILD, subreddit, "VeganCooking", by=1, now=T0, bot_moderates=True)
    activation = await reddit_activation(store, subreddit)
    gone = await store.unbind_subreddit(GUILD, "VeganCooking")
    assert gone is not None and gone.kept_by == ()
    approve = dict(by=1, now=T0, check_windows=lambda _: None)
    assert not await store.approve_activation(GUILD, activation, **approve)
    assert (await store.get_activation(GUILD, activation)).state == "pending"
    await store.bind_subreddit(GUILD + 1, subreddit, "VeganCooking", by=1, now=T0, bot_moderates=True)
    assert not await store.approve_activation(GUILD, activation, **approve)  # bound, but elsewhere
    await store.unbind_subreddit(GUILD + 1, "VeganCooking")
    await store.bind_subreddit(GUILD, subreddit, "VeganCooking", by=1, now=T0, bot_moderates=True)
    assert await store.approve_activation(GUILD, activation, **approve)


async def test_a_reaction_added_again_after_its_removal_counts_and_a_replay_does_not(store: Store):
    """Discord sends a reaction added again after its removal with the same message, emoji and
    member: the natural key ignored it, and the member's engagement was lost. It now counts (on its
    own day), a later removal takes it back again, and a batch delivered twice counts once."""
    day = (T0.date() - datetime(1970, 1, 1).date()).days
    m = timedelta(minutes=1)
    first = [
        ev("message", 1, "500"),
        ev("reaction", 3, "500:👍", target=1),
        ev("reaction", 4, "500:👍", target=1),
    ]
    await store.record(first)
    await store.record([ev("unreaction", 3, "500:👍", target=1, at=T0 + m)])
    again = [ev("reaction", 3, "500:👍", target=1, at=T0 + timedelta(days=1))]
    assert await store.record(again) == 1
    assert await store.record(again) == 0  # delivered twice
    await store.record(first)  # a replay of the first batch: its reaction was removed after it
    rows = await store.fetch_all("SELECT actor_id, day, n FROM engagement_daily ORDER BY actor_id, day")
    assert [tuple(r) for r in rows] == [(3, day, 0), (3, day + 1, 1), (4, day, 1)]
    standing = await store.standing_reactions("discord", GUILD, T0, prefix="500:")
    assert sorted(actor for actor, *_ in standing) == [3, 4]
    # removed again, then added and removed within one batch
    await store.record([ev("unreaction", 3, "500:👍", target=1, at=T0 + timedelta(days=2))])
    await store.record(
        [
            ev("reaction", 4, "500:👍", target=1, at=T0 + timedelta(days=2)),  # a duplicate: it stands
            ev("unreaction", 4, "500:👍", target=1, at=T0 + timedelta(days=2, minutes=1)),
            ev("reaction", 4, "500:👍", target=1, at=T0 + timedelta(days=2, minutes=2)),
            ev("unreaction", 4, "500:👍", target=1, at=T0 + timedelta(days=2, minutes=3)),
        ]
    )
    total = await store.fetch_all(
        "SELECT actor_id, sum(n) FROM engagement_daily GROUP BY actor_id ORDER BY 1"
    )
    assert [tuple(r) for r in total] == [(3, 0), (4, 0)]
    assert not await store.standing_reactions("discord", GUILD, T0, prefix="500:")
    reactions = await store.scalar(
        "SELECT sum(CASE kind WHEN 'reaction' THEN n ELSE 0 END) FROM report_channel_days"
    )
    assert reactions == 0


async def test_a_reaction_whose_removal_came_first_counts(store: Store):
    """A member removes a reaction made before the bot saw it (the removal takes nothing back), then
    adds it again in the same batch: the reaction counts, and a later removal takes it back."""
    await store.record(
        [
            ev("message", 1, "500"),
            ev("unreaction", 3, "500:👍", target=1),
            ev("reaction", 3, "500:👍", target=1, at=T0 + timedelta(minutes=1)),
        ]
    )
    assert await store.scalar("SELECT sum(n) FROM engagement_daily") == 1
    await store.record([ev("unreaction", 3, "500:👍", target=1, at=T0 + timedelta(minutes=2))])
    assert await store.scalar("SELECT sum(n) FROM engagement_daily") == 0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(2, 4), st.sampled_from(["500:👍", "500:🔥", "501:👍"]), st.booleans()),
        min_size=1,
        max_size=30,
    ),
    st.lists(st.integers(1, 6), min_size=1, max_size=30),
    st.lists(st.booleans(), max_size=30),
)
def test_reactions_and_removals_in_any_batches_leave_what_stands_counted(
    steps: list[tuple[int, str, bool]], sizes: list[int], replays: list[bool]
) -> None:
    """Members add and remove reactions (each step an add or a removal, a few minutes apart over
    days), written in batches of any size, some batches delivered twice: every reaction standing at
    the end counts once, nothing else counts, nothing is negative, the standing reactions are those
    a deleted message's retraction would take back, and the trust graph kept up to date batch by
    batch equals a fresh read."""

    async def run(path: Path) -> None:
        s = await Store.open(path)
        try:
            await s.record([ev("message", 1, "500"), ev("message", 1, "501")])
            events = [
                ev(
                    "reaction" if add else "unreaction",
                    actor,
                    source,
                    target=1,
                    at=T0 + timedelta(minutes=1 + 397 * i),
                )
                for i, (actor, source, add) in enumerate(steps)
            ]
            at, batches = 0, []
            for size in sizes:
                if at >= len(events):
                    break
                batches.append(events[at : at + size])
                at += size
            if at < len(events):
                batches.append(events[at:])
            graph = await _fresh_graph(s)
            for i, batch in enumerate(batches):
                await s.record(batch)
                if i < len(replays) and replays[i]:
                    await s.record(batch)
                changes = await s.engagement_changes(GUILD, graph.upto_id, KINDS)
                assert changes is not None and graph.apply(changes)
            assert _graph_rows(graph.edges()) == _graph_rows((await _fresh_graph(s)).edges())
            stands: dict[tuple[int, str], bool] = {}
            for actor, source, add in steps:
                if add or (actor, source) in stands:
                    stands[(actor, source)] = add
            expected = {a: sum(1 for (b, _), on in stands.items() if b == a and on) for a in (2, 3, 4)}
            rows = await s.fetch_all(
                "SELECT actor_id, sum(n), min(n) FROM engagement_daily GROUP BY actor_id"
            )
            got = {a: 0 for a in (2, 3, 4)}
            for actor, total, least in rows:
                assert least >= 0
                got[int(actor)] = int(total)
            assert got == expected
            standing = set()
            for prefix in ("500:", "501:"):
                for actor, source, *_ in await s.standing_reactions("discord", GUILD, T0, prefix=prefix):
                    standing.add((int(actor), str(source)))
            assert standing == {key for key, on in stands.items() if on}
        finally:
            await s.close()

    with tempfile.TemporaryDirectory() as d:
        asyncio.run(run(Path(d) / "db.sqlite3"))
