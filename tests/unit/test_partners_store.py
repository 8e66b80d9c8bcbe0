"""Partner, brand and privacy SQL on a temporary database (no Discord)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.errors import InvalidInput
from bot.ledger import EngagementEvent
from bot.partners import name_key
from bot.store import Store

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GUILD, OTHER = 100, 200
DEFAULT = "The built-in terms, as shown."


def ev(
    kind: str, actor: int, source: str, *, target: int | None = None, at: datetime = T0, guild: int = GUILD
):
    return EngagementEvent("discord", guild, 10, actor, kind, source, at, target)  # type: ignore[arg-type]


@pytest.fixture
async def store(database: str | Path):
    s = await Store.open(database)
    yield s
    await s.close()


async def test_brand_creation_is_all_or_nothing(store: Store):
    brand = await store.create_brand(GUILD, "Oat Co", [1, 2], [10], by=9, now=T0)
    assert (brand.status, brand.contacts, brand.topics) == ("pending", (1, 2), (10,))
    assert await store.get_brand(OTHER, brand.id) is None  # the community is part of every lookup
    with pytest.raises(InvalidInput, match=r"brand\.name_taken"):
        await store.create_brand(GUILD, "OAT CO", [3], [], by=9, now=T0)
    # a contact listed twice violates the contacts key: the brand row is rolled back with it
    with pytest.raises(Exception, match="UNIQUE"):
        await store.create_brand(GUILD, "Half", [4, 4], [], by=9, now=T0)
    assert [b.name for b in await store.list_brands(GUILD)] == ["Oat Co"]
    assert await store.scalar("SELECT count(*) FROM brand_contacts") == 2
    assert await store.create_brand(OTHER, "Oat Co", [1], [], by=9, now=T0)  # names are per community


async def test_brands_stored_without_a_name_key_get_theirs_on_first_lookup(store: Store):
    """Brands stored before name keys existed: keyed when the bot first looks a name up; of two live
    names that are now the same name, the older brand keeps it and the newer stays reachable by id."""
    rows = [(GUILD, "Émile", "approved"), (GUILD, "émile", "pending"), (GUILD, "Straße", "removed")]
    rows.append((OTHER, "ÉMILE", "pending"))
    ids = []
    for community, name, status in rows:
        [(brand_id,)] = await store.write_returning(
            "INSERT INTO brands (community_id, name, status, created_by, created_at, updated_at)"
            " VALUES (?, ?, ?, 9, 'x', 'x') RETURNING id",
            (community, name, status),
        )
        ids.append(int(brand_id))
    found = await store.find_brand(GUILD, name_key("ÉMILE"))
    assert found is not None and found.id == ids[0]
    assert await store.scalar("SELECT count(*) FROM brands WHERE name_key IS NULL") == 0
    assert (await store.get_brand(GUILD, ids[1])) is not None  # kept, reachable by id
    removed = await store.find_brand(GUILD, "strasse")
    assert removed is not None and removed.id == ids[2]
    assert (other := await store.find_brand(OTHER, "émile")) is not None and other.id == ids[3]
    with pytest.raises(InvalidInput, match=r"brand\.name_taken"):
        await store.create_brand(GUILD, "ÉMILE", [1], [], by=9, now=T0)
    assert await store.create_brand(GUILD, "STRASSE", [1], [], by=9, now=T0)  # a removed brand's name is free
    assert await store.fill_brand_name_keys() == 0


async def test_the_roles_a_contact_may_hold_are_those_of_their_brands(store: Store):
    oat = await store.create_brand(GUILD, "Oat Co", [1, 2], [], by=9, now=T0)
    rye = await store.create_brand(GUILD, "Rye Ltd", [1], [], by=9, now=T0)
    await store.create_brand(GUILD, "Spelt", [1], [], by=9, now=T0)  # no role
    await store.set_brand_role(GUILD, oat.id, 77, now=T0)
    await store.set_brand_role(GUILD, rye.id, 78, now=T0)
    await store.set_brand_status(GUILD, rye.id, expected="pending", status="suspended", by=9, now=T0)
    assert await store.contact_brand_roles(GUILD, 1) == [77, 78]
    assert await store.contact_brand_roles(GUILD, 2) == [77]
    assert await store.contact_brand_roles(OTHER, 1) == []
    await store.forget_member(GUILD, 1, pseudonym=-5, now=T0)
    assert await store.contact_brand_roles(GUILD, 1) == []  # why they are taken back before erasure


async def test_guarded_status_changes_and_managers(store: Store):
    brand = await store.create_brand(GUILD, "Oat Co", [1], [], by=9, now=T0)
    assert await store.managed_brand_ids(GUILD, 1) == []
    assert await store.set_brand_status(GUILD, brand.id, expected="pending", status="approved", by=9, now=T0)
    assert not await store.set_brand_status(
        GUILD, brand.id, expected="pending", status="approved", by=9, now=T0
    )
    assert await store.managed_brand_ids(GUILD, 1) == [brand.id]
    assert await store.ranking_exclusions(GUILD) == {1}


async def test_consent_is_logged_and_leaving_is_immediate(store: Store):
    assert await store.accept_terms(GUILD, 5, 0, now=T0, default_text=DEFAULT)
    assert await store.accept_terms(
        GUILD, 5, 0, now=T0 + timedelta(minutes=1), default_text=DEFAULT
    )  # double click: logged once
    assert await store.is_partner(GUILD, 5)
    assert not await store.accept_terms(
        GUILD, 6, 1, now=T0, default_text=DEFAULT
    )  # version 1 does not exist yet
    assert await store.add_terms(GUILD, "New terms for everyone here.", by=9, now=T0) == 1
    assert await store.accept_terms(GUILD, 5, 1, now=T0 + timedelta(days=1), default_text=DEFAULT)
    partner = await store.get_partner(GUILD, 5)
    assert partner is not None and (partner.terms_version, partner.opted_in_at) == (
        1,
        T0.isoformat(timespec="milliseconds"),
    )
    assert await store.end_partnership(GUILD, 5, "left", now=T0 + timedelta(days=2))
    assert not await store.end_partnership(GUILD, 5, "left", now=T0 + timedelta(days=3))
    assert not await store.is_partner(GUILD, 5)
    assert [(e.action, e.terms_version) for e in await store.consent_history(GUILD, 5)] == [
        ("accepted", 0),
        ("accepted", 1),
        ("left", 1),
    ]
    # Each acceptance keeps the text accepted: the default as shown, or the version moderators wrote.
    assert [e.terms_text for e in await store.consent_history(GUILD, 5)] == [
        DEFAULT,
        "New terms for everyone here.",
        None,
    ]
    with pytest.raises(Exception, match="append-only"):
        await store.db.execute("UPDATE consent_log SET action = 'declined'")


async def test_forget_keeps_aggregate_counts_and_leaves_a_tombstone(store: Store):
    await store.record(
        [
            ev("message", 1, "m1"),
            ev("reply", 2, "m2", target=1),
            ev("reaction", 1, "m2", target=2),
            ev("reply", 1, "m3", target=2, guild=OTHER),
        ]
    )
    await store.accept_terms(GUILD, 1, 0, now=T0, default_text=DEFAULT)
    sums = "SELECT kind, day, sum(n), count(*) FROM {} GROUP BY kind, day ORDER BY 1, 2"
    before = [await store.fetch_all(sums.format(t)) for t in ("engagement_daily", "activity_daily")]
    counts = await store.forget_member(GUILD, 1, pseudonym=-42, now=T0)
    assert counts["events_deleted"] == 2 and counts["events_unlinked"] == 1
    assert [await store.fetch_all(sums.format(t)) for t in ("engagement_daily", "activity_daily")] == before
    data = await store.member_data(GUILD, 1)
    data["consent_log"][0].pop("id")
    assert data == {
        "consent_log": [
            {
                "community_id": GUILD,
                "member_id": 1,
                "action": "erased",
                "terms_version": None,
                "at": T0.isoformat(timespec="milliseconds"),
                "terms_text": None,
            }
        ]
    }
    # the other community is untouched
    assert (
        await store.scalar("SELECT count(*) FROM events WHERE community_id = ? AND actor_id = 1", (OTHER,))
        == 1
    )
    assert -42 in await store.ranking_exclusions(GUILD)


async def test_export_and_forget_cover_a_departed_contact_and_the_terms_text_accepted(store: Store):
    """The records added since the first erasure rules (a contact's departure, the text of the terms
    accepted) are exported to the member and gone after their erasure, leaving only the tombstone."""
    brand = await store.create_brand(GUILD, "Oat Co", [1, 2], [10], by=9, now=T0)
    await store.accept_terms(GUILD, 1, 0, now=T0, default_text=DEFAULT)
    assert await store.contact_left(GUILD, 1, now=T0 + timedelta(days=1)) == [brand.id]
    data = await store.member_data(GUILD, 1)
    assert data["brand_contacts_left"] == [
        {
            "brand_id": brand.id,
            "community_id": GUILD,
            "member_id": 1,
            "left_at": (T0 + timedelta(days=1)).isoformat(timespec="milliseconds"),
        }
    ]
    assert [(r["action"], r["terms_text"]) for r in data["consent_log"]] == [("accepted", DEFAULT)]
    counts = await store.forget_member(GUILD, 1, pseudonym=-42, now=T0 + timedelta(days=2))
    assert counts["brand_contacts_left_deleted"] == 1
    assert set(await store.member_data(GUILD, 1)) == {"consent_log"}
    assert await store.fetch_all("SELECT action, terms_text FROM consent_log WHERE member_id = 1") == [
        ("erased", None)
    ]
    assert await store.member_data(GUILD, 2) != {}  # the other contact is untouched


async def test_retention_purge_uses_each_communitys_window(store: Store):
    now = T0 + timedelta(days=100)
    await store.record(
        [
            ev("message", 1, "a", at=T0),
            ev("message", 1, "b", at=now - timedelta(days=10)),
            ev("message", 1, "c", at=T0, guild=OTHER),
        ]
    )
    await store.update_settings(GUILD, {"retention_days": 30}, by=9, now=T0)
    assert await store.retention_targets(180) == [(GUILD, 30), (OTHER, 180)]
    assert await store.purge_events_before(GUILD, now - timedelta(days=30), chunk=1) == 1
    assert await store.scalar("SELECT group_concat(source_id) FROM events") == "b,c"
    assert await store.scalar("SELECT sum(n) FROM activity_daily") == 3


async def test_forget_erases_entries_of_finished_activations_only(store: Store):
    brand = await store.create_brand(GUILD, "Oat Co", [1], [], by=9, now=T0)
    stamp = T0.isoformat(timespec="milliseconds")
    later = (T0 + timedelta(days=1)).isoformat(timespec="milliseconds")
    ids = {}
    for state in ("ended", "live"):
        [(ids[state],)] = await store.write_returning(
            "INSERT INTO activations (community_id, brand_id, kind, state, title, channel_id, starts_at,"
            " ends_at, created_by, created_at, updated_at)"
            " VALUES (?, ?, 'giveaway', ?, 't', 10, ?, ?, 9, ?, ?) RETURNING id",
            (GUILD, brand.id, state, stamp, later, stamp, stamp),
        )
        await store.db.execute(
            "INSERT INTO giveaway_entries (activation_id, community_id, member_id, entered_at)"
            " VALUES (?, ?, 5, ?)",
            (ids[state], GUILD, stamp),
        )
    exported = await store.member_data(GUILD, 5)
    assert len(exported["giveaway_entries"]) == 2
    counts = await store.forget_member(GUILD, 5, pseudonym=-1, now=T0)
    assert counts["giveaway_entries_deleted"] == 1
    assert await store.fetch_all("SELECT activation_id FROM giveaway_entries") == [(ids["live"],)]
