"""`/privacy` through the sandbox: export field by field, forget, forget-member, retention purge."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from bot import i18n
from bot.activations import draw as giveaway
from bot.ledger import iso
from tests.e2e.activation_helpers import activation_messages, approve, create, move_to, reply, seed_brand
from tests.e2e.conftest import BASIC, MANAGE_GUILD, Harness, Launcher, eventually
from tests.e2e.test_codes import CODE
from tests.e2e.test_giveaway import ENTER, add_members, click, open_giveaway
from tests.e2e.test_partners import buttons, join

EPHEMERAL = 1 << 6
AGGREGATES = [
    "SELECT community_id, channel_id, day, kind, sum(n), count(*) FROM engagement_daily"
    " GROUP BY community_id, channel_id, day, kind ORDER BY 1, 2, 3, 4",
    "SELECT community_id, channel_id, day, kind, sum(n), count(*) FROM activity_daily"
    " GROUP BY community_id, channel_id, day, kind ORDER BY 1, 2, 3, 4",
]
# Who was active on which day, for reports: kept (under a pseudonym) by an erasure, purged with the
# raw events by retention (docs/reports.md).
MEMBER_DAYS = (
    "SELECT community_id, channel_id, day, sum(n), count(*) FROM report_member_days"
    " GROUP BY community_id, channel_id, day ORDER BY 1, 2, 3"
)


async def export(h: Harness, user: int) -> dict[str, Any]:
    interaction = await h.slash("privacy", user, subcommand="export", permissions=BASIC)
    deferred = await interaction.response()
    assert deferred.json["type"] == 5 and deferred.json["data"]["flags"] & EPHEMERAL
    followup = await interaction.wait_followup()
    assert followup.json["flags"] & EPHEMERAL and "Only you can see this file" in followup.json["content"]
    [(filename, data)] = followup.files
    assert filename == f"microvoice-{h.world.guild}-{user}.json"
    return json.loads(data)


async def aggregates(h: Harness) -> list[list[tuple[Any, ...]]]:
    return [await h.rows(sql) for sql in AGGREGATES]


async def confirm(h: Harness, interaction, user: int, label: str = "Erase", perms: int = BASIC) -> dict:
    message = interaction.message
    clicked = await h.sandbox.click(
        message, buttons(message)[label], user, guild_id=h.world.guild, permissions=perms
    )
    first = (await clicked.response()).json
    if first["type"] == 6:  # deferred update, then the original message is edited
        edit = await h.sandbox.wait_for_call("PATCH", "/webhooks/{application_id}/{token}/messages/@original")
        return edit.json
    return first["data"]


async def test_export_field_by_field_then_forget_leaves_only_the_tombstone(harness: Harness):
    w, sb, store = harness.world, harness.sandbox, harness.app.store
    root = await sb.send_message(w.cooking, w.alice, "secret recipe text")
    reply = await sb.send_message(w.cooking, w.bob, "", reply_to=int(root["id"]))
    await sb.add_reaction(w.cooking, int(reply["id"]), w.alice)
    await sb.add_reaction(w.cooking, int(root["id"]), w.carol)
    await harness.flush()
    await join(harness, w.alice)
    await harness.app.store.set_trust_override(w.guild, w.alice, "pin", by=w.owner, now=harness.clock.now)
    await store.db.execute(
        "INSERT INTO trust_scores VALUES (?, 'all', ?, 1, 1.0, 6, 4, ?, '{\"parts\": []}')",
        (w.guild, w.alice, iso(harness.clock.now)),
    )
    brand = await store.create_brand(w.guild, "Oat Co", [w.alice], [], by=w.owner, now=harness.clock.now)

    doc = await export(harness, w.alice)
    assert doc["member_id"] == str(w.alice) and doc["community_id"] == str(w.guild)
    tables = doc["tables"]
    assert set(tables) == {
        "events",
        "members",
        "engagement_daily",
        "activity_daily",
        "report_member_days",
        "member_last_active",
        "partners",
        "consent_log",
        "trust_scores",
        "trust_overrides",
        "brand_contacts",
    }
    recorded = await harness.rows(
        "SELECT id, platform, community_id, channel_id, actor_id, target_id, kind, source_id, is_self,"
        " created_at FROM events WHERE actor_id = ? OR target_id = ? ORDER BY id",
        w.alice,
        w.alice,
    )
    assert (
        len(tables["events"]) == len(recorded) == 4
    )  # her message and reaction; bob's reply, carol's reaction
    for row, (eid, platform, cid, channel, actor, target, kind, source, is_self, created) in zip(
        tables["events"], recorded, strict=True
    ):
        assert row == {
            "id": str(eid),
            "platform": platform,
            "community_id": str(cid),
            "channel_id": str(channel),
            "actor_id": str(actor) if actor == w.alice else None,  # other people are not disclosed
            "target_id": str(target) if target == w.alice else None,
            "kind": kind,
            "source_id": source,
            "is_self": is_self,
            "created_at": created,
        }
    assert "secret recipe" not in json.dumps(doc)
    [member] = tables["members"]
    expected_member = await harness.rows(
        "SELECT first_seen, joined_at, account_created_at, is_bot FROM members WHERE member_id = ?", w.alice
    )
    assert (member["first_seen"], member["joined_at"], member["account_created_at"], member["is_bot"]) == (
        expected_member[0]
    )
    assert tables["partners"] == [
        {
            "community_id": str(w.guild),
            "member_id": str(w.alice),
            "terms_version": 0,
            "opted_in_at": iso(harness.clock.now),
            "opted_out_at": None,
        }
    ]
    assert [(r["action"], r["terms_version"], r["terms_text"]) for r in tables["consent_log"]] == [
        ("accepted", 0, i18n.t("en", "partner.default_terms"))  # the built-in terms, as shown
    ]
    assert tables["trust_scores"][0]["rank"] == 1 and tables["trust_scores"][0]["distinct_peers"] == 6
    assert tables["trust_overrides"] == [
        {
            "community_id": str(w.guild),
            "member_id": str(w.alice),
            "mode": "pin",
            "set_by": None,
            "set_at": iso(harness.clock.now),
        }
    ]
    assert tables["brand_contacts"] == [
        {"brand_id": str(brand.id), "community_id": str(w.guild), "member_id": str(w.alice)}
    ]
    given = [r for r in tables["engagement_daily"] if r["actor_id"] == str(w.alice)]
    received = [r for r in tables["engagement_daily"] if r["target_id"] == str(w.alice)]
    assert [(r["kind"], r["n"], r["target_id"]) for r in given] == [("reaction", 1, None)]
    assert sorted((r["kind"], r["n"], r["actor_id"]) for r in received) == [
        ("reaction", 1, None),
        ("reply", 1, None),
    ]
    assert sorted((r["kind"], r["n"]) for r in tables["activity_daily"]) == [("message", 1), ("reaction", 1)]
    assert [r["n"] for r in tables["report_member_days"]] == [2]  # active in #vegan-cooking that day
    last_active = [r["day"] for r in tables["member_last_active"]]
    assert last_active == [r["day"] for r in tables["report_member_days"]]
    # another member's export never discloses alice
    assert str(w.alice) not in json.dumps(await export(harness, w.bob))

    before = await aggregates(harness)
    member_days = await harness.rows(MEMBER_DAYS)
    interaction = await harness.slash("privacy", w.alice, subcommand="forget", permissions=BASIC)
    data = (await interaction.response()).json["data"]
    assert data["flags"] & EPHEMERAL and "cannot be undone" in data["content"]
    assert set(buttons(interaction.message)) == {"Erase", "Cancel"}
    done = await confirm(harness, interaction, w.alice)
    assert "your data in this server was erased (2 events)" in done["content"]

    assert (
        await harness.scalar(
            "SELECT count(*) FROM events WHERE actor_id = ? OR target_id = ?", w.alice, w.alice
        )
        == 0
    )
    assert await harness.rows("SELECT actor_id, kind, target_id FROM events ORDER BY id") == [
        (w.bob, "reply", None),
        (w.carol, "reaction", None),
    ]
    for table in ("partners", "trust_scores", "trust_overrides", "brand_contacts", "members"):
        assert await harness.scalar(f"SELECT count(*) FROM {table} WHERE member_id = ?", w.alice) == 0, table
    assert await harness.rows(
        "SELECT action, terms_version FROM consent_log WHERE member_id = ?", w.alice
    ) == [("erased", None)]
    assert await aggregates(harness) == before  # every daily count is unchanged
    assert await harness.rows(MEMBER_DAYS) == member_days
    assert (
        await harness.scalar(
            "SELECT count(*) FROM engagement_daily WHERE actor_id = ? OR target_id = ?", w.alice, w.alice
        )
        == 0
    )
    assert await harness.scalar("SELECT count(*) FROM activity_daily WHERE member_id = ?", w.alice) == 0
    assert await harness.scalar("SELECT count(*) FROM report_member_days WHERE member_id = ?", w.alice) == 0
    pseudonym = await harness.scalar("SELECT member_id FROM activity_daily WHERE member_id < 0")
    assert pseudonym in await store.ranking_exclusions(w.guild)  # never ranked

    second = await export(harness, w.alice)
    assert list(second["tables"]) == ["consent_log"]
    [tombstone] = second["tables"]["consent_log"]
    assert (tombstone["member_id"], tombstone["action"]) == (str(w.alice), "erased")


async def test_what_an_erased_member_did_is_not_recorded_again_however_it_arrives(launcher: Launcher):
    """After an erasure, the member's old messages delivered again (a replay, a gap fill) are not
    recorded, a thread they opened is not theirs again when the bot sees it at start-up, and a reply
    to their old message engages nobody; once they post again, that is recorded as theirs."""
    h = await launcher.start()
    w, sb = h.world, h.sandbox
    root = await sb.send_message(w.cooking, w.alice, "")
    thread = await sb.create_thread(w.cooking, w.alice, "alice's thread", message_id=int(root["id"]))
    await sb.send_message(int(thread["id"]), w.bob, "")
    await h.flush()
    h.clock.now += timedelta(minutes=5)  # the erasure comes after all of that
    await h.app.privacy.erase(w.guild, w.alice)
    await launcher.stop(h)

    h = await launcher.start()  # the thread is seen again at start-up, with its owner
    await eventually(lambda: h.app.gapfill.last is not None, "the gap fill", timeout=15)
    sb.emit("MESSAGE_CREATE", {**sb.message(int(root["id"])), "guild_id": str(w.guild)})  # a replay
    reply = await sb.send_message(w.cooking, w.bob, "", reply_to=int(root["id"]))
    await sb.send_message(int(thread["id"]), w.carol, "")
    await h.flush()
    assert (
        await h.scalar("SELECT count(*) FROM events WHERE actor_id = ? OR target_id = ?", w.alice, w.alice)
        == 0
    )
    assert await h.scalar("SELECT owner_id FROM channels WHERE channel_id = ?", int(thread["id"])) is None
    assert await h.scalar("SELECT count(*) FROM members WHERE member_id = ?", w.alice) == 0
    assert await h.scalar("SELECT target_id FROM events WHERE source_id = ?", reply["id"]) is None
    # Back: what they post now is theirs, and so is engagement with it.
    h.clock.now += timedelta(minutes=5)
    later = h.clock.now
    again = await sb.send_message(w.cooking, w.alice, "", timestamp=later)
    await sb.send_message(w.cooking, w.bob, "", reply_to=int(again["id"]), timestamp=later)
    await h.flush()
    assert await h.rows(
        "SELECT kind, actor_id, target_id FROM events WHERE actor_id = ? OR target_id = ?", w.alice, w.alice
    ) == [
        ("message", w.alice, None),
        ("reply", w.bob, w.alice),
    ]


async def test_moderator_forgets_a_member_who_left_after_confirmation(harness: Harness):
    w, sb = harness.world, harness.sandbox
    root = await sb.send_message(w.general, w.carol, "")
    await sb.send_message(w.general, w.bob, "", reply_to=int(root["id"]))
    await harness.flush()
    await join(harness, w.carol)
    sb.remove_member(w.guild, w.carol)
    await harness.settle()
    bad = await harness.slash(
        "privacy", w.owner, {"member_id": "carol"}, subcommand="forget-member", permissions=MANAGE_GUILD
    )
    assert "not a Discord member id" in (await bad.response()).json["data"]["content"]
    interaction = await harness.slash(
        "privacy", w.owner, {"member_id": str(w.carol)}, subcommand="forget-member", permissions=MANAGE_GUILD
    )
    data = (await interaction.response()).json["data"]
    assert data["flags"] & EPHEMERAL and f"<@{w.carol}>" in data["content"]
    # the click is checked again: a non-moderator changes nothing
    refused = await confirm(harness, interaction, w.alice, perms=BASIC)
    assert "Only moderators" in refused["content"]
    assert await harness.scalar("SELECT count(*) FROM events WHERE actor_id = ?", w.carol) == 1
    cancelled = await confirm(harness, interaction, w.owner, "Cancel", perms=MANAGE_GUILD)
    assert "nothing was erased" in cancelled["content"]
    assert await harness.scalar("SELECT count(*) FROM events WHERE actor_id = ?", w.carol) == 1
    interaction = await harness.slash(
        "privacy", w.owner, {"member_id": str(w.carol)}, subcommand="forget-member", permissions=MANAGE_GUILD
    )
    await interaction.response()
    done = await confirm(harness, interaction, w.owner, perms=MANAGE_GUILD)
    assert f"data of <@{w.carol}> in this server was erased (1 event)" in done["content"]
    assert (
        await harness.scalar(
            "SELECT count(*) FROM events WHERE actor_id = ? OR target_id = ?", w.carol, w.carol
        )
        == 0
    )
    assert await harness.rows("SELECT action FROM consent_log WHERE member_id = ?", w.carol) == [("erased",)]


async def test_retention_purge_deletes_old_raw_events_and_keeps_aggregates(harness: Harness):
    w, sb, app = harness.world, harness.sandbox, harness.app
    assert "retention-purge" in app.scheduler.job_ids()
    await app.store.update_settings(w.guild, {"retention_days": 30}, by=w.owner, now=harness.clock.now)
    now = harness.clock.now
    old = await sb.send_message(w.cooking, w.alice, "", timestamp=now - timedelta(days=40))
    await sb.send_message(w.cooking, w.bob, "", reply_to=int(old["id"]), timestamp=now - timedelta(days=31))
    recent = await sb.send_message(
        w.cooking, w.carol, "", reply_to=int(old["id"]), timestamp=now - timedelta(days=29)
    )
    await harness.flush()
    assert await harness.count() == 3
    before = await aggregates(harness)
    cog = app.privacy  # the service the scheduled retention job calls
    assert await cog.purge_expired() == {w.guild: 2}
    assert await harness.rows("SELECT source_id FROM events") == [(recent["id"],)]
    assert await aggregates(harness) == before
    # who was active when goes with the raw events: only the recent day is left
    assert await harness.rows("SELECT day, member_id FROM report_member_days") == [
        ((int((now - timedelta(days=29)).timestamp()) // 86400), w.carol)
    ]
    assert await cog.purge_expired() == {}  # idempotent


def qa_options(h: Harness, brand: int) -> dict[str, Any]:
    start = h.clock.now + timedelta(hours=1)
    return {
        "brand": brand,
        "channel": h.world.cooking,
        "title": "Oats, asked",
        "starts": start.strftime("%Y-%m-%d %H:%M"),
        "ends": (start + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
    }


async def test_forget_erases_finished_activations_and_keeps_the_draw_verifiable(harness: Harness):
    """Carol entered a giveaway (and claimed a code the brand reported redeemed), asked and voted in a
    Q&A, and took a channel over; all of it has ended. She is also entered in a giveaway still running.
    Her export shows every row; after /privacy forget the finished activations hold nothing about her
    (the draw record keeps her place under a pseudonym, so a reroll still matches what anyone computes
    from the published entrant list), and her entry in the running giveaway stays until it ends."""
    h, w, store = harness, harness.world, harness.app.store
    carol = w.carol
    await store.update_settings(
        w.guild, {"max_sponsored_per_week": 50, "min_gap_hours": 0}, by=w.owner, now=h.clock.now
    )
    brand = await seed_brand(h, "Oat Co", contacts=[w.alice])
    await join(h, carol)

    # A giveaway with a code pool: carol and four fans enter, carol claims a code; one winner.
    ended, opening = await open_giveaway(
        h, "en", brand=brand, winners=1, codes=("codes.txt", b"OAT-1\nOAT-2\n")
    )
    fans = add_members(h, 4)
    for member in (carol, *fans):
        assert (await click(h, opening, ENTER.format(ended), member))["content"] == i18n.t(
            "en", "giveaway.entered"
        )
    assert "OAT-1" in (await click(h, opening, CODE.format(ended), carol))["content"]
    await move_to(h, h.clock.now + timedelta(days=1))
    entrants = sorted((carol, *fans))
    seed = await h.scalar("SELECT seed FROM giveaway_secrets WHERE activation_id = ?", ended)
    [first] = giveaway.draw(seed, entrants, 1)
    csv = {"id": ended, "file": ("shop.csv", b"code\nOAT-1\n")}
    report = await h.slash("activation", w.alice, csv, subcommand="redemptions", permissions=BASIC)
    assert (await reply(report))["flags"] & EPHEMERAL
    assert await h.scalar("SELECT count(*) FROM code_redemptions") == 1
    published = next(c for c in activation_messages(h, [w.cooking]) if c.files).files[0][1]

    # A Q&A: carol asks, bob votes for her question, she votes for bob's.
    _, qa = await create(h, "qa", w.alice, qa_options(h, brand), permissions=BASIC)
    assert qa is not None and (await approve(h, qa))
    await move_to(h, h.clock.now + timedelta(hours=1, minutes=1))
    hers = await store.add_question(w.guild, qa, carol, "Is it vegan?", now=h.clock.now)
    his = await store.add_question(w.guild, qa, w.bob, "Where is it made?", now=h.clock.now)
    await store.toggle_vote(w.guild, hers, w.bob, now=h.clock.now)
    await store.toggle_vote(w.guild, his, carol, now=h.clock.now)
    await move_to(h, h.clock.now + timedelta(hours=1))

    # A takeover of #vegan-cooking by carol, with one post.
    _, takeover = await create(
        h, "takeover", w.alice, {**qa_options(h, brand), "taker": carol}, permissions=BASIC
    )
    assert takeover is not None and (await approve(h, takeover))
    await move_to(h, h.clock.now + timedelta(hours=1, minutes=1))
    await h.sandbox.send_message(w.cooking, carol, "Overnight oats!")
    await h.flush()
    await move_to(h, h.clock.now + timedelta(hours=1))
    assert await h.scalar("SELECT restored_at FROM takeover_snapshots") is not None

    # A giveaway still running, which she entered too.
    running, running_post = await open_giveaway(h, "en", brand=brand)
    await click(h, running_post, ENTER.format(running), carol)
    states = dict(await h.rows("SELECT id, state FROM activations"))
    assert [states[a] for a in (ended, qa, takeover, running)] == ["ended", "ended", "ended", "live"]

    doc = await export(h, carol)
    tables = doc["tables"]
    for table in (
        "giveaway_entries", "giveaway_draws", "activation_codes", "code_redemptions", "qa_questions",
        "qa_votes", "takeover_posts", "takeover_snapshots", "activations",
    ):  # fmt: skip
        assert table in tables, table
    assert sorted(int(r["activation_id"]) for r in tables["giveaway_entries"]) == [ended, running]
    [draw] = tables["giveaway_draws"]
    assert draw["entrants"] == [str(carol) if e == carol else None for e in entrants]  # others are null
    assert draw["winners"] == [str(carol) if first == carol else None]
    assert [(r["code"], r["claimed_by"]) for r in tables["activation_codes"]] == [("OAT-1", str(carol))]
    assert [r["reported_by"] for r in tables["code_redemptions"]] == [None]  # the brand's manager
    assert [r["body"] for r in tables["qa_questions"]] == ["Is it vegan?"]
    assert sorted(int(r["question_id"]) for r in tables["qa_votes"]) == [his]
    assert [r["mode"] for r in tables["takeover_posts"]] == ["reply"]
    assert [json.loads(r["config"])["taker_id"] for r in tables["activations"]] == [carol]
    assert str(w.bob) not in json.dumps(tables) and str(fans[0]) not in json.dumps(tables)

    interaction = await h.slash("privacy", carol, subcommand="forget", permissions=BASIC)
    await interaction.response()
    await confirm(h, interaction, carol)

    async def about_carol(sql: str) -> int:
        return int(await h.scalar(sql, carol))

    for table, column in (
        ("qa_questions", "author_id"),
        ("qa_votes", "member_id"),
        ("takeover_posts", "author_id"),
        ("giveaway_claims", "member_id"),
        ("activation_codes", "claimed_by"),
        ("takeover_snapshots", "taker_id"),
    ):
        assert await about_carol(f"SELECT count(*) FROM {table} WHERE {column} = ?") == 0, table
    assert await h.rows("SELECT activation_id FROM giveaway_entries WHERE member_id = ?", carol) == [
        (running,)
    ]
    configs = [json.loads(r[0] or "{}") for r in await h.rows("SELECT config FROM activations")]
    assert not [c for c in configs if c.get("taker_id") == carol]
    # Bob's question stays (without her vote); the code stays claimed and redeemed, so conversions hold.
    assert await h.rows("SELECT id FROM qa_questions") == [(his,)]
    assert await h.scalar("SELECT count(*) FROM qa_votes") == 0
    assert await store.code_counts(ended) == (2, 1)
    assert await h.scalar("SELECT count(*) FROM code_redemptions") == 1
    # The draw record: her place kept under a pseudonym, everyone else's id and the digest unchanged.
    [(stored, winners, digest)] = await h.rows(
        "SELECT entrants, winners, entrants_sha256 FROM giveaway_draws"
    )
    pseudonym = next(e for e in json.loads(stored) if e not in entrants)
    assert pseudonym < 0 and str(carol) not in stored + winners
    assert json.loads(stored) == [pseudonym if e == carol else e for e in entrants]
    assert json.loads(winners) == [pseudonym if first == carol else first]
    assert digest == giveaway.entrants_digest(entrants) == hashlib.sha256(published).hexdigest()
    config = await h.scalar("SELECT config FROM activations WHERE id = ?", takeover)
    assert json.loads(config) == {"taker_id": pseudonym}  # (PostgreSQL writes JSON with its spacing)

    # A reroll after the erasure draws what a verifier computes from the published list.
    rerolled = await h.slash(
        "activation", w.owner, {"id": ended}, subcommand="reroll", permissions=MANAGE_GUILD
    )
    assert (await reply(rerolled))["flags"] & EPHEMERAL
    expected = giveaway.draw_rounds(seed, giveaway.parse_entrant_ids(published.decode()), [1, 1])
    assert expected[0] == [first]
    [(round_1,)] = await h.rows("SELECT winners FROM giveaway_draws WHERE round = 1")
    assert json.loads(round_1) == [pseudonym if m == carol else m for m in expected[1]]

    second = await export(h, carol)
    assert set(second["tables"]) == {"consent_log", "giveaway_entries"}
    assert [int(r["activation_id"]) for r in second["tables"]["giveaway_entries"]] == [running]
