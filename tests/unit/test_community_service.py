"""CommunityService on a real store (temporary SQLite file): settings, recent activity, overrides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import i18n
from bot.community import LOCALE_TTL, RETENTION_MAX, CommunityService
from bot.errors import InvalidInput
from bot.ingest import Ingest
from bot.ledger import EngagementEvent
from bot.store import Store

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GUILD = 100


def ev(
    kind: str, actor: int, source: str, *, channel: int = 10, at: datetime = T0, target: int | None = None
):
    return EngagementEvent("discord", GUILD, channel, actor, kind, source, at, target)  # type: ignore[arg-type]


@pytest.fixture
async def store(database: str | Path):
    s = await Store.open(database)
    yield s
    await s.close()


@pytest.fixture
def ingest(store: Store) -> Ingest:
    return Ingest(store)


@pytest.fixture
def communities(store: Store, ingest: Ingest) -> CommunityService:
    return CommunityService(store, ingest, clock=lambda: T0, default_locale="he")


async def test_update_writes_checked_settings_and_refreshes_the_language(
    communities: CommunityService, store: Store
):
    assert await communities.lang(GUILD) == "he"  # the operator's default until moderators choose
    assert await communities.lang(None) == "he"
    await communities.update(GUILD, {"locale": "ar", "retention_days": 30, "mod_role_id": 5}, by=9)
    assert await communities.lang(GUILD) == "ar"
    settings = await communities.get(GUILD)
    assert (settings.locale, settings.retention_days, settings.mod_role_id) == ("ar", 30, 5)
    assert await store.scalar("SELECT updated_by FROM guild_settings") == 9


async def test_a_first_setting_keeps_the_installations_language_and_retention(store: Store, ingest: Ingest):
    communities = CommunityService(
        store, ingest, clock=lambda: T0, default_locale="ar", default_retention_days=30
    )
    assert (await communities.get(GUILD)).retention_days == 30  # what /microvoice status shows
    await communities.update(GUILD, {"max_sponsored_per_week": 3}, by=9)
    await communities.set_audit_channel(GUILD + 1, 77, by=9)
    for community in (GUILD, GUILD + 1):
        settings = await communities.get(community)
        assert (settings.locale, settings.retention_days) == ("ar", 30)  # not the schema's en / 180
    await store.record([ev("message", 1, "1")])
    assert await store.retention_targets(180) == [(GUILD, 30)]  # the purge keeps to the operator's 30
    await communities.update(GUILD, {"locale": "he"}, by=9)
    assert (await communities.get(GUILD)).max_sponsored_per_week == 3  # a later change keeps the rest


async def test_a_language_changed_by_another_process_is_read_again_within_a_minute(
    store: Store, ingest: Ingest
):
    now = [T0]
    communities = CommunityService(store, ingest, clock=lambda: now[0], default_locale="en")
    other = CommunityService(store, ingest, clock=lambda: now[0], default_locale="en")  # another shard's
    assert await communities.lang(GUILD) == "en"
    await other.update(GUILD, {"locale": "he"}, by=9)
    now[0] += timedelta(seconds=30)
    assert await communities.lang(GUILD) == "en"  # kept a little while: no database read per reply
    now[0] += LOCALE_TTL
    assert await communities.lang(GUILD) == "he"


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"locale": "fr"}, "error.bad_locale"),
        ({"retention_days": 0}, "error.bad_retention"),
        ({"retention_days": RETENTION_MAX + 1}, "error.bad_retention"),
        ({"max_sponsored_per_week": 51}, "error.bad_sponsored"),
        ({"min_gap_hours": -1}, "error.bad_gap"),
        ({"locale": "ar", "min_gap_hours": 721}, "error.bad_gap"),
    ],
)
async def test_a_refused_setting_writes_nothing(
    communities: CommunityService, store: Store, changes: dict[str, object], key: str
):
    with pytest.raises(InvalidInput) as refused:
        await communities.update(GUILD, changes, by=9)
    assert refused.value.key == key
    assert await store.scalar("SELECT count(*) FROM guild_settings") == 0
    assert await communities.lang(GUILD) == "he"


async def test_activity_counts_the_last_days_including_buffered_events(
    communities: CommunityService, store: Store, ingest: Ingest
):
    assert (await communities.activity(GUILD, 7)).total == 0
    await store.record([ev("message", 1, "1", at=T0 - timedelta(days=8))])  # too old
    # seven UTC days, today's included: the day before them is not counted, however few hours ago
    start = T0.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=6)
    await store.record([ev("message", 1, "0", at=start - timedelta(minutes=1))])
    ingest.add(ev("message", 1, "2", at=T0 - timedelta(days=1)))
    ingest.add(ev("reply", 2, "3", target=1, at=T0 - timedelta(hours=1)))
    ingest.add(ev("message", 3, "4", channel=11, at=T0 - timedelta(hours=1)))
    activity = await communities.activity(GUILD, 7)
    assert activity.kinds == {"message": 2, "reply": 1}
    assert (activity.total, activity.members) == (3, 3)
    assert [(channel, n) for channel, _, n in activity.channels] == [(10, 2), (11, 1)]


async def test_trust_overrides_pin_exclude_and_clear(communities: CommunityService, store: Store):
    await communities.set_trust_override(GUILD, 5, "pin", by=9)
    await communities.set_trust_override(GUILD, 6, "exclude", by=9)
    assert await store.trust_overrides(GUILD) == {5: "pin", 6: "exclude"}
    await communities.set_trust_override(GUILD, 5, "clear", by=9)
    assert await store.trust_overrides(GUILD) == {6: "exclude"}
    with pytest.raises(ValueError):
        await communities.set_trust_override(GUILD, 6, "boost", by=9)


async def test_the_languages_offered_after_a_refused_locale_are_listed_as_the_reader_lists_them(
    communities: CommunityService,
):
    """The choices go with the error as a list, written in the reader's language when the reply is
    made: the Arabic comma in Arabic (a service cannot know who reads it)."""
    with pytest.raises(InvalidInput) as refused:
        await communities.update(GUILD, {"locale": "fr"}, by=9)
    error = refused.value
    assert "\u060c ".join(i18n.LANGUAGES) in i18n.t("ar", error.key, **error.params)
    assert ", ".join(i18n.LANGUAGES) in i18n.t("en", error.key, **error.params)
