"""The shared activation lifecycle through the sandbox: bad input, permissions, the saturation guard,
approve/reject/cancel/list/show, and scheduling across restarts (missed starts and ends caught up once)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from bot import i18n
from bot.activations import disclosure
from bot.activations.service import MISSED
from bot.ledger import iso
from tests.e2e.activation_helpers import (
    EPHEMERAL,
    activation_messages,
    approve,
    assert_disclosed,
    assert_no_mass_mentions,
    create,
    engine,
    reply,
    seed_brand,
    seed_partner,
    set_locale,
    when,
)
from tests.e2e.conftest import BASIC, MANAGE_GUILD, Harness


def qa_options(h: Harness, brand: int, *, start: timedelta, end: timedelta, title: str = "Ask us") -> dict:
    return {
        "brand": brand,
        "channel": h.world.cooking,
        "title": title,
        "starts": when(h, start),
        "ends": when(h, end),
    }


async def test_bad_input_gets_a_clear_ephemeral_error_and_nothing_is_created(harness: Harness):
    h, w = harness, harness.world
    brand = await seed_brand(h, "Acme", contacts=[w.alice])
    pending = await seed_brand(h, "Pending Co", status="pending", contacts=[w.alice])
    hour = timedelta(hours=1)
    cases = [
        ("qa", w.alice, qa_options(h, brand, start=3 * hour, end=2 * hour), "end must be after the start"),
        ("qa", w.alice, qa_options(h, brand, start=-3 * hour, end=2 * hour), "start is in the past"),
        (
            "qa",
            w.alice,
            qa_options(h, brand, start=hour, end=2 * hour, title="x" * 2000),
            "title is too long",
        ),
        ("qa", w.alice, qa_options(h, pending, start=hour, end=2 * hour), "is not approved"),
        ("qa", w.alice, qa_options(h, 999_999, start=hour, end=2 * hour), "no brand #999999"),
        ("qa", w.bob, qa_options(h, brand, start=hour, end=2 * hour), "Only moderators and brand managers"),
        ("qa", w.alice, qa_options(h, brand, start=hour, end=40 * 24 * hour), "at most 30 days"),
        (
            "qa",
            w.alice,
            dict(qa_options(h, brand, start=hour, end=2 * hour), starts="tomorrowish"),
            "could not read",
        ),
        (
            "takeover",
            w.alice,
            dict(qa_options(h, brand, start=hour, end=2 * hour), taker=w.carol),
            "must be an opted-in partner",
        ),
    ]
    for kind, user, options, expected in cases:
        data, created = await create(h, kind, user, options, permissions=BASIC)
        assert created is None, (expected, data)
        assert data["flags"] & EPHEMERAL, expected
        assert expected in data["content"], (expected, data["content"])
    assert await h.scalar("SELECT count(*) FROM activations") == 0
    assert await h.scalar("SELECT count(*) FROM activation_transitions") == 0
    assert_no_mass_mentions(h)


async def test_saturation_guard_refuses_approval_and_names_the_next_free_slot(harness: Harness):
    h, w = harness, harness.world
    setup = await h.slash(
        "microvoice",
        w.owner,
        {"max_sponsored_per_week": 1, "min_gap_hours": 24},
        subcommand="setup",
        permissions=MANAGE_GUILD,
    )
    assert "at most 1 sponsored" in (await reply(setup))["content"]
    too_many = await h.slash(
        "microvoice", w.owner, {"max_sponsored_per_week": 51}, subcommand="setup", permissions=MANAGE_GUILD
    )
    assert "between 0 and 50" in (await reply(too_many))["content"]
    assert await h.rows("SELECT max_sponsored_per_week, min_gap_hours FROM guild_settings") == [(1, 24)]
    brand = await seed_brand(h, "Acme", contacts=[w.alice])
    hour = timedelta(hours=1)
    _, first = await create(
        h, "qa", w.alice, qa_options(h, brand, start=hour, end=2 * hour), permissions=BASIC
    )
    _, second = await create(
        h, "qa", w.alice, qa_options(h, brand, start=50 * hour, end=51 * hour), permissions=BASIC
    )
    assert first and second
    assert "approved" in (await approve(h, first))["content"]
    refused = await approve(h, second)
    assert refused["flags"] & EPHEMERAL
    first_start = datetime.fromisoformat(
        await h.scalar("SELECT starts_at FROM activations WHERE id = ?", first)
    )
    next_free = first_start + timedelta(days=7)
    # The UTC text, as times are typed, and the same moment in each reader's own time zone.
    local = f"<t:{int(next_free.timestamp())}:f>"
    assert f"{next_free:%Y-%m-%d %H:%M} UTC ({local} in your time zone)" in refused["content"]
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", second) == "pending"
    # Creating inside the limit is refused up front, nothing created; in Arabic and Hebrew too.
    data, third = await create(
        h, "qa", w.alice, qa_options(h, brand, start=5 * hour, end=6 * hour), permissions=BASIC
    )
    assert third is None and "next free slot" in data["content"] and local in data["content"]
    for lang in ("ar", "he"):
        await set_locale(h, lang)
        refused = await approve(h, second)
        assert refused["content"] == i18n.t(
            lang,
            "activation.error.saturated",
            per_week=1,
            gap=24,
            next_free=f"{next_free:%Y-%m-%d %H:%M}",
            next_free_local=local,
        )
        assert local in refused["content"]
    await set_locale(h, "en")
    # The minimum gap alone, with room in the week.
    await h.slash(
        "microvoice", w.owner, {"max_sponsored_per_week": 5}, subcommand="setup", permissions=MANAGE_GUILD
    )
    refused = await approve(h, second)
    assert "approved" in refused["content"]  # 48 h after the first ends: outside the 24 h gap
    data, fourth = await create(
        h, "qa", w.alice, qa_options(h, brand, start=20 * hour, end=21 * hour), permissions=BASIC
    )
    # [20 h, 21 h] is within 24 h of the first; right after the gap it would crowd the second, so the
    # next free slot is 24 h after the second ends.
    second_end = datetime.fromisoformat(
        await h.scalar("SELECT ends_at FROM activations WHERE id = ?", second)
    )
    assert fourth is None
    assert (second_end + timedelta(hours=24)).strftime("%Y-%m-%d %H:%M UTC") in data["content"]


async def test_approve_reject_cancel_list_show_and_their_permissions(harness: Harness):
    h, w = harness, harness.world
    brand = await seed_brand(h, "Acme", contacts=[w.alice])
    hour = timedelta(hours=1)
    _, one = await create(h, "qa", w.alice, qa_options(h, brand, start=hour, end=2 * hour), permissions=BASIC)
    _, two = await create(
        h, "qa", w.alice, qa_options(h, brand, start=30 * hour, end=31 * hour), permissions=BASIC
    )
    assert one and two
    # Members and brand managers cannot approve or reject.
    for user in (w.alice, w.bob):
        refused = await h.slash("activation", user, {"id": one}, subcommand="approve", permissions=BASIC)
        assert "moderators" in (await reply(refused))["content"].lower()
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", one) == "pending"
    rejected = await h.slash(
        "activation",
        w.owner,
        {"id": one, "reason": "Not this month"},
        subcommand="reject",
        permissions=MANAGE_GUILD,
    )
    assert "Not this month" in (await reply(rejected))["content"]
    assert await h.rows("SELECT state, reason FROM activations WHERE id = ?", one) == [
        ("rejected", "Not this month")
    ]
    again = await approve(h, one)
    assert "not possible" in again["content"]
    # A stranger cannot cancel; the brand's manager can.
    stranger = await h.slash("activation", w.bob, {"id": two}, subcommand="cancel", permissions=BASIC)
    assert (await reply(stranger))["flags"] & EPHEMERAL
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", two) == "pending"
    listed = await h.slash("activation", w.alice, subcommand="list", permissions=BASIC)
    text = (await reply(listed))["embeds"][0]["description"]
    assert f"**#{one}**" in text and f"**#{two}**" in text
    shown = await h.slash("activation", w.alice, {"id": two}, subcommand="show", permissions=BASIC)
    desc = (await reply(shown))["embeds"][0]["description"]
    assert "Ad · Paid partnership with" in desc and "awaiting approval" in desc
    nobody = await h.slash("activation", w.bob, subcommand="list", permissions=BASIC)
    assert (await reply(nobody))["flags"] & EPHEMERAL
    cancelled = await h.slash("activation", w.alice, {"id": two}, subcommand="cancel", permissions=BASIC)
    assert "cancelled" in (await reply(cancelled))["content"]
    log = await h.rows(
        "SELECT to_state, actor_id FROM activation_transitions WHERE activation_id = ? ORDER BY id", two
    )
    assert log == [("pending", w.alice), ("cancelled", w.alice)]


@pytest.mark.both_backends
async def test_missed_starts_and_ends_are_caught_up_once_across_restarts(launcher):
    h = await launcher.start()
    w, sb = h.world, h.sandbox
    await set_locale(h, "ar")
    brand = await seed_brand(h, "Acme", contacts=[w.alice])
    await seed_partner(h, w.bob)
    hour = timedelta(hours=1)
    _, qa = await create(h, "qa", w.alice, qa_options(h, brand, start=hour, end=3 * hour), permissions=BASIC)
    _, takeover = await create(
        h,
        "takeover",
        w.alice,
        dict(qa_options(h, brand, start=30 * hour, end=32 * hour), channel=w.general, taker=w.bob),
        permissions=BASIC,
    )
    assert qa and takeover
    await approve(h, qa)
    await approve(h, takeover)
    assert f"activation:{qa}:start" in h.app.scheduler.job_ids()
    overwrites_before = sb.channel_overwrites(w.general)
    topic_before = sb.channel(w.general).get("topic")
    await launcher.stop(h)

    def posts() -> list:
        return [c for c in activation_messages(h, [w.cooking, w.general]) if c.method == "POST"]

    # Down through the Q&A's start: caught up at boot, once; the end job is registered.
    h.clock.now += 2 * hour
    h = await launcher.start()
    await engine(h).booted.wait()
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", qa) == "live"
    assert len(posts()) == 1
    assert f"activation:{qa}:end" in h.app.scheduler.job_ids()
    assert f"activation:{takeover}:start" in h.app.scheduler.job_ids()
    await launcher.stop(h)

    # Down through the Q&A's end and the whole takeover window: the Q&A ends (its summary is
    # posted); the takeover is cancelled unposted, since anything posted now would be past its end.
    h.clock.now += 40 * hour
    h = await launcher.start()
    await engine(h).booted.wait()
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", qa) == "ended"
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", takeover) == "cancelled"
    assert await h.scalar("SELECT reason FROM activations WHERE id = ?", takeover) == MISSED
    assert len(posts()) == 2  # the Q&A's opening and summary
    assert sb.channel_overwrites(w.general) == overwrites_before
    assert sb.channel(w.general).get("topic") == topic_before
    await launcher.stop(h)

    # A further restart changes nothing.
    h = await launcher.start()
    await engine(h).booted.wait()
    assert await engine(h).run_due() == 0
    assert len(posts()) == 2
    for activation_id, lived in ((qa, ["live", "ended"]), (takeover, ["cancelled"])):
        states = [
            r[0]
            for r in await h.rows(
                "SELECT to_state FROM activation_transitions WHERE activation_id = ? ORDER BY id",
                activation_id,
            )
        ]
        assert states == ["pending", "scheduled", *lived]
    tag = disclosure.tag("ar", "Acme", "paid")
    for call in activation_messages(h, [w.cooking, w.general]):
        assert_disclosed(call, tag)
    assert_no_mass_mentions(h)


@pytest.mark.both_backends
async def test_a_double_approve_or_duplicate_job_acts_once(harness: Harness):
    h, w = harness, harness.world
    brand = await seed_brand(h, "Acme", contacts=[w.alice])
    _, qa = await create(
        h,
        "qa",
        w.alice,
        qa_options(h, brand, start=timedelta(hours=1), end=timedelta(hours=2)),
        permissions=BASIC,
    )
    assert qa
    await approve(h, qa)
    second = await approve(h, qa)
    assert "not possible" in second["content"]
    h.clock.now += timedelta(hours=1, minutes=5)
    results = await asyncio.gather(engine(h).advance(qa), engine(h).advance(qa), engine(h).run_due())
    assert sum(results) == 1
    await h.settle()
    assert len([c for c in activation_messages(h, [w.cooking]) if c.method == "POST"]) == 1


@pytest.mark.both_backends
async def test_the_scheduled_jobs_run_the_transitions(harness: Harness):
    h, w = harness, harness.world
    brand = await seed_brand(h, "Acme", contacts=[w.alice])
    _, qa = await create(
        h,
        "qa",
        w.alice,
        qa_options(h, brand, start=timedelta(hours=1), end=timedelta(hours=2)),
        permissions=BASIC,
    )
    assert qa
    await approve(h, qa)
    jobs = h.app.scheduler._scheduler  # the APScheduler instance behind the wrapper
    start_job = jobs.get_job(f"activation:{qa}:start")
    assert start_job.next_run_time == datetime.fromisoformat(
        await h.scalar("SELECT starts_at FROM activations WHERE id = ?", qa)
    )
    h.clock.now += timedelta(hours=1)
    assert await start_job.func() == 1
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", qa) == "live"
    end_job = jobs.get_job(f"activation:{qa}:end")
    h.clock.now += timedelta(hours=1)
    assert await end_job.func() == 1
    assert await start_job.func() == 0  # a late duplicate does nothing
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", qa) == "ended"


async def test_a_long_activation_list_keeps_whole_lines_and_says_how_many_more(harness: Harness):
    """40 activations with titles of 200 characters do not fit one embed: the list shows whole
    lines and ends with how many more there are (a blind cut left half a line, a broken mark-up or
    an open bidirectional isolate, and no word of the rest)."""
    h, w = harness, harness.world
    brand = await seed_brand(h, "Oat Milk Co", contacts=[w.bob])
    at, end = iso(h.clock.now + timedelta(days=3)), iso(h.clock.now + timedelta(days=3, hours=2))
    for n in range(40):
        await h.app.store.write(
            "INSERT INTO activations (community_id, brand_id, kind, state, title, channel_id, starts_at,"
            " ends_at, created_by, created_at, updated_at, config)"
            " VALUES (?, ?, 'qa', 'pending', ?, ?, ?, ?, ?, ?, ?, '{}')",
            (w.guild, brand, f"{n:02d} " + "**Oats** " * 21, w.cooking, at, end, w.bob, at, at),
        )
    listed = await h.slash("activation", w.owner, subcommand="list", permissions=MANAGE_GUILD)
    description = (await reply(listed))["embeds"][0]["description"]
    assert len(description) <= 4096
    *lines, last = description.split("\n")
    assert last.startswith("…and ") and last.endswith(" more.")
    # the list holds the 25 latest (list_activations' default limit)
    assert int(last.removeprefix("…and ").removesuffix(" more.")) == 25 - len(lines)
    for line in lines:  # every line shown is whole: its title ends as it was typed
        assert line.count("\u2068") == line.count("\u2069") and "Oats" in line
