"""Giveaway controls as services, on a real store and the in-memory platform: ending now with a draw,
community giveaways (no brand), the role ping, the listing, and the audit lines they produce."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.activations import disclosure
from bot.activations import draw as fairdraw
from bot.activations.giveaways import GiveawayService, GiveawayTerms
from bot.activations.service import ActivationService, Actor, Proposal
from bot.audit import AuditLog
from bot.errors import Forbidden, InvalidInput, MicrovoiceError
from bot.ingest import Ingest
from bot.platform import Member
from bot.scheduler import Scheduler
from bot.store import Store
from tests.unit.fakes import FakePlatform

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
GUILD, CHANNEL, AUDIT = 100, 500, 900
MOD, CONTACT, FAN = 1, 2, 4
ROLE = 77


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class Lines:
    """Audit lines as posted (the poster half of the audit log)."""

    def __init__(self) -> None:
        self.posted: list[str] = []

    async def post_audit(self, community_id: int, channel_id: int, text: str) -> None:
        self.posted.append(text)

    def mention(self, member_id: int) -> str:
        return f"@{member_id}"

    def channel_link(self, channel_id: int) -> str:
        return f"#{channel_id}"


class World:
    def __init__(self, store: Store, brand: int) -> None:
        self.store, self.brand = store, brand
        self.clock, self.platform, self.lines = Clock(), FakePlatform(), Lines()
        audit = AuditLog(store)
        audit.attach(self.lines)
        self.engine = ActivationService(store, self.platform, Scheduler(), clock=self.clock, audit=audit)
        self.giveaways = GiveawayService(self.engine, Ingest(store))
        self.engine.register("giveaway", self.giveaways)

    def actor(self, member: int) -> Actor:
        return Actor(GUILD, member, is_moderator=member == MOD)

    def proposal(self, brand: int | None, start: timedelta = H) -> Proposal:
        return Proposal(brand, CHANNEL, NOW + start, NOW + start + 2 * H, "A cookbook", "gifted")


@pytest.fixture
async def world(database: str | Path) -> AsyncIterator[World]:
    store = await Store.open(database)
    brand = await store.create_brand(GUILD, "Acme", [CONTACT], [], by=MOD, now=NOW)
    await store.set_brand_status(GUILD, brand.id, expected="pending", status="approved", by=MOD, now=NOW)
    await store.update_settings(
        GUILD, {"audit_channel_id": AUDIT, "max_sponsored_per_week": 1}, by=MOD, now=NOW
    )
    w = World(store, brand.id)
    try:
        yield w
    finally:
        w.giveaways.close()
        await w.engine.close()
        await store.close()


TERMS = GiveawayTerms(rules="One entry each.", winners=1)


async def test_end_now_draws_once_and_the_end_job_finds_nothing(world: World):
    w = world
    activation, _ = await w.giveaways.create(w.actor(CONTACT), w.proposal(w.brand), TERMS)
    await w.engine.approve(w.actor(MOD), activation.id)
    w.clock.now = NOW + H
    assert await w.engine.run_due() == 1
    fans = [10, 11, 12]
    for fan in fans:
        await w.giveaways.enter(w.actor(fan), activation.id, Member(fan))
    with pytest.raises(Forbidden):
        await w.giveaways.end_now(w.actor(CONTACT), activation.id)  # its brand's contact: not a moderator
    ended = await w.giveaways.end_now(w.actor(MOD), activation.id)
    assert ended.state == "ended"
    draws = await w.store.giveaway_draws(activation.id)
    seed = await w.store.scalar("SELECT seed FROM giveaway_secrets WHERE activation_id = ?", (activation.id,))
    assert [list(d.winners) for d in draws] == [fairdraw.draw(seed, fans, 1)]
    w.clock.now = NOW + 4 * H
    assert await w.engine.run_due() == 0
    with pytest.raises(MicrovoiceError):
        await w.giveaways.end_now(w.actor(MOD), activation.id)
    assert [line.split(" ")[0] for line in w.lines.posted] == [
        "Activation",
        "Activation",
        "Activation",
        "Giveaway",
    ]
    assert "ended early by @1" in w.lines.posted[2] and "1 winner drawn from 3 entrants" in w.lines.posted[3]


async def test_a_community_giveaway_is_brandless_unsponsored_and_pings_one_role(world: World):
    w = world
    community = w.proposal(None, start=timedelta(0))
    with pytest.raises(Forbidden):
        await w.giveaways.create_community(w.actor(CONTACT), community, TERMS, no_brand=True)
    with pytest.raises(InvalidInput, match="statement_required"):
        await w.giveaways.create_community(w.actor(MOD), community, TERMS, no_brand=False)
    with pytest.raises(MicrovoiceError, match="ping_moderators"):
        await w.giveaways.create(
            w.actor(CONTACT), w.proposal(w.brand), GiveawayTerms("x", 1, ping_role_id=ROLE)
        )
    terms = GiveawayTerms(rules="One entry each.", winners=1, ping_role_id=ROLE)
    approval, _ = await w.giveaways.create_community(w.actor(MOD), community, terms, no_brand=True)
    assert approval.starts_now and approval.activation.brand_id is None
    assert await w.store.community_statement(approval.activation.id) is not None
    await w.engine.advance(approval.activation.id)
    [opening] = w.platform.posts_in(CHANNEL)
    assert opening.post.content.startswith("**Community giveaway**")
    assert not opening.post.content.startswith(tuple(f"**{m}" for m in disclosure.marks()))
    assert opening.post.notify_roles == (ROLE,) and opening.post.notify == ()
    assert "No brand provided this prize: @1 stated so" in opening.post.card.description
    # Not sponsored: a brand activation in the same hours still fits a limit of one a week.
    sponsored, _ = await w.giveaways.create(w.actor(CONTACT), w.proposal(w.brand), TERMS)
    await w.engine.approve(w.actor(MOD), sponsored.id)
    # Never attached to a brand afterwards, and only a giveaway runs without one.
    with pytest.raises(sqlite3.IntegrityError, match="cannot be attached"):
        await w.store.write(
            "UPDATE activations SET brand_id = ? WHERE id = ?", (w.brand, approval.activation.id)
        )
    with pytest.raises(InvalidInput, match="community_kind"):
        await w.engine.create(w.actor(MOD), "qa", community, config={})
    running, recent = await w.giveaways.listing(w.actor(FAN), "en")
    assert len(running) == 1 and "Community giveaway" in running[0] and recent == []
    _, recent = await w.giveaways.listing(w.actor(MOD), "en")
    assert len(recent) == 1 and "Acme" in recent[0]
