"""`/report`, the weekly digest and an ended activation's report, through the sandbox.

Every report arrives as one message with an embed and two attachments uploaded as multipart
(`files[0]` the PNG the embed shows, `files[1]` the CSV); the tests read the recorded upload.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import timedelta
from typing import Any

import pytest

from bot import i18n
from sandbox.discord_server import RecordedCall
from tests.e2e.activation_helpers import approve, create, move_to, reply, seed_brand, set_locale
from tests.e2e.conftest import BASIC, MANAGE_GUILD, Harness, Launcher
from tests.e2e.test_giveaway import ENTER, add_members, click
from tests.e2e.test_giveaway import options as giveaway_options

EPHEMERAL = 1 << 6
PNG = b"\x89PNG\r\n\x1a\n"


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def assert_report_upload(call: RecordedCall, stem: str) -> dict[str, Any]:
    """One embed showing the attached chart, a PNG and a CSV in the multipart body; returns the embed."""
    names = [name for name, _ in call.files]
    assert names == [f"{stem}.png", f"{stem}.csv"], names
    png, table = (data for _, data in call.files)
    assert png.startswith(PNG) and len(png) > 10_000
    rows = csv_rows(table)
    assert rows and list(rows[0]) == ["section", "item", "metric", "value", "suppressed"]
    body = call.json
    [embed] = body["embeds"]
    assert embed["image"]["url"] == f"attachment://{stem}.png"
    return embed


async def chatter(h: Harness, people: list[int], rounds: int = 2) -> None:
    """Some activity from each member: a message, a reply to the previous one, a reaction."""
    w, sb = h.world, h.sandbox
    previous: dict[str, Any] | None = None
    for _ in range(rounds):
        for person in people:
            message = await sb.send_message(
                w.cooking, person, "hi", reply_to=int(previous["id"]) if previous else None
            )
            if previous is not None:
                await sb.add_reaction(w.cooking, int(previous["id"]), person)
            previous = message
    await h.flush()


async def test_community_report_answers_with_an_embed_a_chart_and_a_csv(harness: Harness):
    h, w = harness, harness.world
    people = [w.alice, w.bob, w.carol, w.mod, *add_members(h, 4)]
    await chatter(h, people)
    interaction = await h.slash(
        "report", w.owner, {"days": 7}, subcommand="community", permissions=MANAGE_GUILD
    )
    first = (await interaction.response()).json
    assert first["type"] == 5 and first["data"]["flags"] & EPHEMERAL  # deferred at once, privately
    followup = await interaction.wait_followup(timeout=30)
    embed = assert_report_upload(followup, f"community-{w.guild}-7d")
    assert followup.json["flags"] & EPHEMERAL
    assert embed["title"].startswith("Community report · 7 days")
    assert "Active members: **8**" in embed["description"]
    rows = {(r["section"], r["item"], r["metric"]): r for r in csv_rows(followup.files[1][1])}
    assert rows[("headline", "", "active_members")]["value"] == "8"
    # one opening message, every later one replies to the one before and reacts to it
    assert rows[("headline", "", "messages")]["value"] == "1"
    assert rows[("headline", "", "replies")]["value"] == str(2 * len(people) - 1)
    assert rows[("headline", "", "reactions")]["value"] == str(2 * len(people) - 1)
    assert rows[("topic", "#vegan-cooking", "share_percent")]["value"] == "100"

    # A member is refused before anything is computed.
    refused = await h.slash("report", w.carol, {}, subcommand="community", permissions=BASIC)
    answer = (await refused.response()).json
    assert answer["type"] == 4 and answer["data"]["content"] == i18n.t("en", "error.moderator_only")


async def run_giveaway(h: Harness, brand: int, entrants: list[int]) -> int:
    """A giveaway of `brand` that ran with `entrants` and ended."""
    w = h.world
    _, activation_id = await create(
        h, "giveaway", w.owner, giveaway_options(h, brand=brand), permissions=MANAGE_GUILD
    )
    assert activation_id is not None
    await approve(h, activation_id)
    await move_to(h, h.clock.now + timedelta(hours=1, minutes=1))
    opening = int(await h.scalar("SELECT message_id FROM activations WHERE id = ?", activation_id))
    for fan in entrants:
        await click(h, opening, ENTER.format(activation_id), fan)
    await move_to(h, h.clock.now + timedelta(hours=25))
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", activation_id) == "ended"
    return activation_id


def report_channel_posts(h: Harness, channel: int) -> list[RecordedCall]:
    return [
        c
        for c in h.rest.find("POST", "/channels/{channel_id}/messages")
        if c.path.split("/")[2] == str(channel) and c.files and c.status == 200
    ]


async def test_activation_report_for_its_brand_and_to_the_moderators_when_it_ends(harness: Harness):
    h, w = harness, harness.world
    report_channel = h.sandbox.add_channel(w.guild, "mod-reports")
    await h.app.store.update_settings(
        w.guild, {"report_channel_id": report_channel}, by=w.owner, now=h.clock.now
    )
    acme = await seed_brand(h, "Acme Oats", contacts=[w.bob])
    await seed_brand(h, "Other", contacts=[w.alice])
    fans = add_members(h, 6)
    activation_id = await run_giveaway(h, acme, fans)

    # Posted to the moderators' report channel by the end transition, once.
    for _ in range(100):
        if report_channel_posts(h, report_channel):
            break
        await h.settle()
    [posted] = report_channel_posts(h, report_channel)
    embed = assert_report_upload(posted, f"activation-{activation_id}")
    assert embed["title"].startswith(f"Activation #{activation_id} report · giveaway")
    assert "Giveaway entries: **6**" in embed["description"]

    # The brand's manager asks for it.
    interaction = await h.slash(
        "report", w.bob, {"id": activation_id}, subcommand="activation", permissions=BASIC
    )
    assert (await interaction.response()).json["type"] == 5
    followup = await interaction.wait_followup(timeout=30)
    embed = assert_report_upload(followup, f"activation-{activation_id}")
    assert "Unique participants: **6**" in embed["description"]
    table = {(r["section"], r["item"], r["metric"]): r for r in csv_rows(followup.files[1][1])}
    assert table[("headline", "", "giveaway_entries")]["value"] == "6"

    # Another brand's manager is refused, privately, and gets no file.
    before = len(h.rest.calls)
    refused = await h.slash(
        "report", w.alice, {"id": activation_id}, subcommand="activation", permissions=BASIC
    )
    answer = await reply(refused)
    assert answer["flags"] & EPHEMERAL and answer["content"] == i18n.t("en", "activation.error.not_manager")
    assert not any(c.files for c in h.rest.calls[before:])


async def test_a_four_member_giveaway_is_hidden_from_the_brand(harness: Harness):
    h, w = harness, harness.world
    acme = await seed_brand(h, "Acme Oats", contacts=[w.bob])
    activation_id = await run_giveaway(h, acme, add_members(h, 4))
    interaction = await h.slash(
        "report", w.bob, {"id": activation_id}, subcommand="activation", permissions=BASIC
    )
    followup = await interaction.wait_followup(timeout=30)
    embed = assert_report_upload(followup, f"activation-{activation_id}")
    hidden = i18n.t("en", "report.value.suppressed", k=5)
    assert f"Giveaway entries: **{hidden}**" in embed["description"]
    assert f"Unique participants: **{hidden}**" in embed["description"]
    table = {(r["section"], r["item"], r["metric"]): r for r in csv_rows(followup.files[1][1])}
    for metric in ("participants", "giveaway_entries"):
        assert table[("headline", "", metric)]["value"] == ""
        assert table[("headline", "", metric)]["suppressed"] == "yes"


async def test_weekly_digest_is_posted_once_per_week_and_survives_a_restart(launcher: Launcher):
    h = await launcher.start()
    w = h.world
    report_channel = h.sandbox.add_channel(w.guild, "mod-reports")
    assert "report-digest" in h.app.scheduler.job_ids()
    assert await h.app.reports.run_digests() == 0  # no report channel yet: no digest
    await chatter(h, [w.alice, w.bob, w.carol, w.mod, *add_members(h, 3)])
    setup = await h.slash(
        "microvoice",
        w.owner,
        {"report_channel": report_channel},
        subcommand="setup",
        permissions=MANAGE_GUILD,
    )
    assert (await setup.response()).json["type"] == 4
    h.clock.now += timedelta(days=7)
    assert await h.app.reports.run_digests() == 1
    assert await h.app.reports.run_digests() == 0
    [digest] = report_channel_posts(h, report_channel)
    week = int(await h.scalar("SELECT max(week) FROM report_digests WHERE posted_at IS NOT NULL"))
    assert_report_upload(digest, f"digest-{w.guild}-week{week}")
    assert digest.json["embeds"][0]["title"].startswith("Weekly digest")
    assert "Active members: **7**" in digest.json["embeds"][0]["description"]

    await launcher.stop(h)
    h = await launcher.start()  # the same database: the digest job is rebuilt and runs at boot
    assert "report-digest" in h.app.scheduler.job_ids()
    await h.app.reports.booted.wait()
    assert await h.app.reports.run_digests() == 0
    assert len(report_channel_posts(h, report_channel)) == 1
    h.clock.now += timedelta(days=7)
    assert await h.app.reports.run_digests() == 1
    assert len(report_channel_posts(h, report_channel)) == 2
    assert await h.scalar("SELECT count(*) FROM report_digests WHERE posted_at IS NOT NULL") == 2


async def test_a_digest_refused_in_a_deleted_report_channel_is_skipped_not_retried_hourly(
    harness: Harness, caplog: pytest.LogCaptureFixture
):
    h, w = harness, harness.world
    report_channel = h.sandbox.add_channel(w.guild, "mod-reports")
    await chatter(h, [w.alice, w.bob, w.carol, w.mod, *add_members(h, 3)])
    options = {"report_channel": report_channel}
    setup = await h.slash("microvoice", w.owner, options, subcommand="setup", permissions=MANAGE_GUILD)
    await setup.response()
    del h.sandbox.state.channels[report_channel]  # a moderator deleted it
    h.clock.now += timedelta(days=7)
    caplog.set_level(logging.WARNING, logger="bot")
    assert await h.app.reports.run_digests() == 0
    assert await h.app.reports.run_digests() == 0  # the next hour's run does not try it again
    posts = h.rest.find("POST", "/channels/{channel_id}/messages")
    assert len([c for c in posts if c.path == f"/channels/{report_channel}/messages"]) == 1
    refused = [r for r in caplog.records if "refused in its report channel" in r.getMessage()]
    assert len(refused) == 1 and refused[0].exc_info is None  # one line, no traceback


@pytest.mark.parametrize("lang", ["en", "ar", "he"])
async def test_an_activation_cancelled_before_it_opened_has_no_report(harness: Harness, lang: str):
    """Approved, then cancelled while scheduled: it never ran, so neither its brand nor the moderators
    get figures for it, and nothing is posted to the report channel."""
    h, w = harness, harness.world
    await set_locale(h, lang)
    report_channel = h.sandbox.add_channel(w.guild, "mod-reports")
    await h.app.store.update_settings(
        w.guild, {"report_channel_id": report_channel}, by=w.owner, now=h.clock.now
    )
    acme = await seed_brand(h, "Acme Oats", contacts=[w.bob])
    _, activation_id = await create(
        h, "giveaway", w.owner, giveaway_options(h, brand=acme), permissions=MANAGE_GUILD
    )
    assert activation_id is not None
    await approve(h, activation_id)
    cancel = await h.slash(
        "activation", w.owner, {"id": activation_id}, subcommand="cancel", permissions=MANAGE_GUILD
    )
    await reply(cancel)
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", activation_id) == "cancelled"
    await move_to(h, h.clock.now + timedelta(hours=26))

    before = len(h.rest.calls)
    for user, permissions in ((w.owner, MANAGE_GUILD), (w.bob, BASIC)):
        refused = await h.slash(
            "report", user, {"id": activation_id}, subcommand="activation", permissions=permissions
        )
        answer = await reply(refused)
        assert answer["flags"] & EPHEMERAL
        assert answer["content"] == i18n.t(lang, "report.error.never_live", id=activation_id)
    assert not any(c.files for c in h.rest.calls[before:])
    await h.app.reports.run_digests()  # the hourly catch-up of activation reports (and the digest)
    posted = [name for call in report_channel_posts(h, report_channel) for name, _ in call.files]
    assert not [name for name in posted if name.startswith("activation-")], posted
