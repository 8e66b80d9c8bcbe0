"""Giveaway controls through the sandbox: end now with a draw, the list, community giveaways, the role
ping, and the audit lines of activations (each event once)."""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import i18n
from bot.activations import disclosure
from bot.activations import draw as giveaway
from bot.audit import EVENTS
from bot.invite import permission_integer
from sandbox.discord_server.common import public_copy
from tests.e2e.activation_helpers import (
    approve,
    create,
    move_to,
    seed_brand,
    seed_partner,
    set_locale,
    wait_state,
    when,
)
from tests.e2e.conftest import BASIC, MANAGE_GUILD, Harness
from tests.e2e.test_codes import attach_codes
from tests.e2e.test_giveaway import ENTER, add_members, click, open_giveaway, verify_cli
from tests.e2e.test_giveaway import options as giveaway_options
from tests.e2e.test_moderation import slash
from tests.e2e.test_privacy import confirm

EPHEMERAL = 1 << 6


def secrets(h: Harness, activation_id: int) -> Any:
    return h.rows("SELECT seed, commitment FROM giveaway_secrets WHERE activation_id = ?", activation_id)


async def results_post(h: Harness, activation_id: int) -> Any:
    message_id = await h.scalar(
        "SELECT message_id FROM giveaway_draws WHERE activation_id = ? AND round = 0", activation_id
    )
    assert message_id is not None
    return next(c for c in h.rest.find("POST", "/channels/{channel_id}/messages") if c.response and
                int(c.response["id"]) == int(message_id))  # fmt: skip


async def test_end_now_draws_at_once_and_the_draw_verifies(harness: Harness, tmp_path: Path):
    h, w = harness, harness.world
    activation_id, opening = await open_giveaway(h, "en")
    fans = add_members(h, 4)
    for fan in fans:
        await click(h, opening, ENTER.format(activation_id), fan)
    refused = await slash(h, "giveaway", "end", w.carol, {"id": activation_id}, perms=BASIC)
    assert refused["content"] == i18n.t("en", "error.moderator_only")

    reply = await slash(h, "giveaway", "end", w.owner, {"id": activation_id})
    assert reply["content"] == i18n.t("en", "giveaway.ended_now", id=activation_id, channel=f"<#{w.cooking}>")
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", activation_id) == "ended"
    assert (
        await h.scalar(
            "SELECT actor_id FROM activation_transitions WHERE activation_id = ? AND to_state = 'ended'",
            activation_id,
        )
        == w.owner
    )
    [(seed, commitment)] = await secrets(h, activation_id)
    post = await results_post(h, activation_id)
    winners = giveaway.draw(seed, sorted(fans), 2)
    assert all(f"<@{m}>" in post.json["embeds"][0]["description"] for m in winners)
    listing = post.files[0][1]
    checked = verify_cli(tmp_path, seed, commitment, 2, listing, "--expect", ",".join(map(str, winners)))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # The end time comes later: nothing is drawn or posted twice; ending again is refused.
    assert await move_to(h, h.clock.now + timedelta(days=2)) == 0
    assert await h.scalar("SELECT count(*) FROM giveaway_draws WHERE activation_id = ?", activation_id) == 1
    again = await slash(h, "giveaway", "end", w.owner, {"id": activation_id})
    assert again["flags"] & EPHEMERAL and "ended" in again["content"].lower()
    shown = await slash(h, "activation", "show", w.owner, {"id": activation_id})
    assert i18n.t("en", "activation.ended_early") in shown["embeds"][0]["description"]


async def test_community_giveaway_has_no_ad_tag_pings_one_role_and_stays_brandless(
    harness: Harness, tmp_path: Path
):
    h, w, sb = harness, harness.world, harness.sandbox
    fans_role = sb.add_role(w.guild, "Giveaway fans", permissions=BASIC, mentionable=True)
    brand = await seed_brand(h, "Acme", contacts=[w.bob])
    base = {
        "channel": w.cooking,
        "prize": "A signed cookbook",
        "rules": "One entry per member; drawn at the end.",
        "winners": 1,
        "starts": "now",
        "ends": "+2h",
        "ping_role": fans_role,
    }
    # The statement is required, and only moderators create one.
    refused = await slash(h, "giveaway", "create", w.owner, {**base, "no_brand": False})
    assert refused["content"].startswith("A community giveaway needs your statement")
    refused = await slash(h, "giveaway", "create", w.bob, {**base, "no_brand": True}, perms=BASIC)
    assert refused["content"] == i18n.t("en", "error.moderator_only")
    assert await h.scalar("SELECT count(*) FROM activations") == 0

    reply = await slash(h, "giveaway", "create", w.owner, {**base, "no_brand": True})
    assert reply["content"].startswith("Community giveaway #1 ")
    await h.settle()
    activation_id = 1
    assert await h.rows("SELECT brand_id, state, approved_by FROM activations") == [(None, "live", w.owner)]
    assert await h.rows("SELECT stated_by FROM community_giveaways") == [(w.owner,)]

    opening_id = int(await h.scalar("SELECT message_id FROM activations WHERE id = 1"))
    post = next(c for c in h.rest.find("POST", "/channels/{channel_id}/messages")
                if c.response and int(c.response["id"]) == opening_id)  # fmt: skip
    content, embed = post.json["content"], post.json["embeds"][0]
    # "Community giveaway", never an advertising mark; the moderator's statement is on the post.
    assert content.startswith("**Community giveaway**") and embed["title"].startswith("Community giveaway")
    assert not any(content.startswith(f"**{m}") or embed["title"].startswith(m) for m in disclosure.marks())
    assert f"No brand provided this prize: <@{w.owner}> stated so" in embed["description"]
    # Only the chosen role is notified, through allowed mentions; never everyone or another role.
    assert f"<@&{fans_role}>" in content
    mentions = post.json["allowed_mentions"]
    assert mentions["parse"] == [] and [int(r) for r in mentions["roles"]] == [fans_role]
    assert not mentions.get("users")

    # It cannot be attached to a brand: the brand's managers cannot manage it, and the database refuses.
    for sub in ("show", "cancel"):
        denied = await slash(h, "activation", sub, w.bob, {"id": activation_id}, perms=BASIC)
        assert denied["content"] == i18n.t("en", "activation.error.not_manager"), sub
    with pytest.raises(sqlite3.IntegrityError, match="cannot be attached"):
        await h.app.store.write("UPDATE activations SET brand_id = ? WHERE id = 1", (brand,))
    # Nor does it count as sponsored content: a brand activation in the same hours is approved.
    await h.app.store.update_settings(w.guild, {"max_sponsored_per_week": 1}, by=w.owner, now=h.clock.now)
    _, sponsored = await create(
        h, "qa", w.bob, {"brand": brand, "channel": w.general, "title": "Ask Acme",
                         "starts": when(h, timedelta(minutes=30)), "ends": when(h, timedelta(hours=1))},
        permissions=BASIC,
    )  # fmt: skip
    assert sponsored is not None and "approved" in (await approve(h, sponsored))["content"]

    # The same commit-reveal draw and verifier.
    fans = add_members(h, 3)
    opening = sb.message(opening_id)
    for fan in fans:
        await click(h, opening, ENTER.format(activation_id), fan)
    await slash(h, "giveaway", "end", w.owner, {"id": activation_id})
    [(seed, commitment)] = await secrets(h, activation_id)
    assert commitment in embed["description"]
    result = await results_post(h, activation_id)
    assert result.json["content"].startswith("**Community giveaway**")
    winners = giveaway.draw(seed, sorted(fans), 1)
    checked = verify_cli(tmp_path, seed, commitment, 1, result.files[0][1], "--expect", str(winners[0]))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # A reroll of an unclaimed community prize works like any other.
    rerolled = await slash(h, "activation", "reroll", w.owner, {"id": activation_id})
    assert "round 1" in rerolled["content"].lower()


@pytest.mark.parametrize("lang", ["en", "he"])
async def test_a_ping_role_discord_would_not_notify_is_refused_before_anything_is_created(
    harness: Harness, lang: str
):
    """Discord notifies a role only if it is mentionable or the bot has Mention Everyone (which the
    invite does not ask for), and `<@&server id>` (the @everyone role) notifies nobody: such a ping
    role would leave the moderator believing members were called. Refused, clearly, on both kinds."""
    h, w, sb = harness, harness.world, harness.sandbox
    guild = sb.stored_guild(w.guild)

    def update_role(role_id: int, **changes: Any) -> None:
        guild.roles[role_id].update(changes)
        sb.emit("GUILD_ROLE_UPDATE", {"guild_id": str(w.guild), "role": public_copy(guild.roles[role_id])})

    update_role(guild.bot_role_id, permissions=str(permission_integer()))  # as invited
    await set_locale(h, lang)
    quiet = sb.add_role(w.guild, "Giveaway fans", permissions=BASIC)  # Discord's default: not mentionable
    await h.settle()
    brand = await seed_brand(h, "Acme", contacts=[w.alice])
    community = {"channel": w.cooking, "prize": "A cookbook", "rules": "One entry each.", "winners": 1,
                 "no_brand": True}  # fmt: skip
    refusals = ((quiet, "giveaway.error.ping_unmentionable"), (w.guild, "giveaway.error.ping_everyone"))
    for role, key in refusals:
        expected = i18n.t(lang, key, role=f"<@&{role}>")
        refused = await slash(h, "giveaway", "create", w.owner, {**community, "ping_role": role})
        assert refused["flags"] & EPHEMERAL and refused["content"] == expected
        branded = await slash(h, "activation", ["create", "giveaway"], w.owner,
                              giveaway_options(h, brand=brand, ping_role=role))  # fmt: skip
        assert branded["flags"] & EPHEMERAL and branded["content"] == expected
    assert await h.scalar("SELECT count(*) FROM activations") == 0
    assert not [c for c in h.rest.find("POST", "/channels/{channel_id}/messages") if str(w.cooking) in c.path]

    # Made mentionable in the server settings, it is pinged: Discord notifies exactly that role.
    update_role(quiet, mentionable=True)
    await h.settle()
    created = await slash(h, "giveaway", "create", w.owner, {**community, "ping_role": quiet})
    assert created["flags"] & EPHEMERAL
    await wait_state(h, 1, "live")
    opening = sb.message(int(await h.scalar("SELECT message_id FROM activations WHERE id = 1")))
    assert opening["mention_roles"] == [str(quiet)]


async def test_the_list_shows_members_the_running_giveaways_and_moderators_the_recent_ones(harness: Harness):
    h, w = harness, harness.world
    running, _ = await open_giveaway(h, "en")
    brand = await h.scalar("SELECT brand_id FROM activations WHERE id = ?", running)
    _, pending = await create(
        h, "giveaway", w.alice, giveaway_options(h, brand=brand, prize="A blender",
                                                 starts=when(h, timedelta(days=3)),
                                                 ends=when(h, timedelta(days=4))),
        permissions=BASIC,
    )  # fmt: skip
    member = await slash(h, "giveaway", "list", w.carol, perms=BASIC)
    fields = member["embeds"][0]["fields"]
    assert [f["name"] for f in fields] == ["Running"]
    assert f"**#{running}**" in fields[0]["value"] and f"<#{w.cooking}>" in fields[0]["value"]
    assert "A blender" not in str(fields)
    moderator = await slash(h, "giveaway", "list", w.owner)
    fields = moderator["embeds"][0]["fields"]
    assert [f["name"] for f in fields] == ["Running", "Recent and upcoming"]
    assert f"**#{pending}**" in fields[1]["value"] and "A blender" in fields[1]["value"]


async def test_every_audit_event_is_posted_exactly_once(harness: Harness):
    """One line per privileged event: every kind in `bot.audit.EVENTS`, each exactly once."""
    h, w, sb = harness, harness.world, harness.sandbox
    audit = sb.add_channel(w.guild, "mod-log")
    await slash(h, "microvoice", "audit", w.owner, {"channel": audit})
    await h.app.store.update_settings(
        w.guild, {"max_sponsored_per_week": 50, "min_gap_hours": 0}, by=w.owner, now=h.clock.now
    )
    t0 = h.clock.now.replace(second=0)
    # brands: a contact added and removed, approve, suspend, remove (a second brand keeps the
    # activations going)
    await slash(h, "brand", "register", w.owner, {"name": "Beta", "contact": w.carol})
    for action in ("contact-add", "contact-remove"):
        await slash(h, "brand", action, w.owner, {"brand": "Beta", "member": w.bob})
    for action in ("approve", "suspend", "remove"):
        await slash(h, "brand", action, w.owner, {"brand": "Beta"})
    brand = await seed_brand(h, "Acme", contacts=[w.alice])
    # overrides, terms, erasures
    for mode in ("pin", "exclude", "clear"):
        await slash(h, "voices", "override", w.owner, {"member": w.bob, "mode": mode})
    # a trusted-voice role set, then turned off
    voice_role = sb.add_role(w.guild, "Trusted voice", permissions=BASIC)
    await slash(h, "voices", "role", w.owner, {"role": voice_role, "top": 3})
    await slash(h, "voices", "role", w.owner, {})
    opener = await h.slash("partner", w.owner, subcommand="set-terms", permissions=MANAGE_GUILD)
    await opener.response()
    body = {"microvoice:partner:terms-body": "Brands see your standing, never your messages."}
    submitted = await sb.submit_modal(
        opener.modal["custom_id"], body, w.owner, guild_id=w.guild, channel_id=w.general
    )
    await submitted.response()
    forget = await h.slash("privacy", w.carol, subcommand="forget", permissions=BASIC)
    await forget.response()
    await confirm(h, forget, w.carol)
    await h.settle()
    forget = await h.slash("privacy", w.owner, {"member_id": str(w.bob)}, subcommand="forget-member",
                           permissions=MANAGE_GUILD)  # fmt: skip
    await forget.response()
    await confirm(h, forget, w.owner, perms=MANAGE_GUILD)
    await h.settle()

    def window(start: timedelta, hours: int = 1) -> dict[str, str]:
        s, e = t0 + start, t0 + start + timedelta(hours=hours)
        return {"starts": s.strftime("%Y-%m-%d %H:%M"), "ends": e.strftime("%Y-%m-%d %H:%M")}

    hour = timedelta(hours=1)
    # a giveaway: approved, live, ended early by a moderator (drawn at once), rerolled
    _, g = await create(h, "giveaway", w.alice, giveaway_options(h, brand=brand, winners=1, **window(hour)),
                        permissions=BASIC)  # fmt: skip
    await approve(h, g)
    await move_to(h, t0 + hour + timedelta(minutes=1))
    opening = int(await h.scalar("SELECT message_id FROM activations WHERE id = ?", g))
    for fan in add_members(h, 2):
        await click(h, opening, ENTER.format(g), fan)
    attached = await attach_codes(h, w.alice, g, b"OAT-1\nOAT-2\nOAT-3\n")  # by the brand's manager
    await attached.response()
    await h.settle()
    await slash(h, "giveaway", "end", w.owner, {"id": g})
    await slash(h, "activation", "reroll", w.owner, {"id": g})
    # a takeover: approved, live (posting rights given), ended on time (its channel restored)
    takeover = {"brand": brand, "channel": w.general, "title": "Takeover", "taker": w.alice}
    _, t = await create(h, "takeover", w.alice, {**takeover, **window(3 * hour)}, permissions=BASIC)
    await approve(h, t)
    await move_to(h, t0 + 3 * hour + timedelta(minutes=1))
    refused = await slash(h, "giveaway", "end", w.owner, {"id": t})  # not a giveaway: nothing happens
    assert refused["flags"] & EPHEMERAL
    # ... its restore refused at first (a missing permission), then retried by a moderator (the taker
    # had no overwrite there before: restoring deletes theirs)
    sb.fail_next("DELETE", "/channels/{channel_id}/permissions/{overwrite_id}", status=403, code=50013)
    await move_to(h, t0 + 4 * hour + timedelta(minutes=1))
    await slash(h, "activation", "retry", w.owner, {"id": t})
    # ... then one whose restore is refused and left so: the next takeover of the same taker and
    # channel starts from the channel as it was before it (its copy carried over)
    _, refused_for_good = await create(
        h, "takeover", w.alice, {**takeover, **window(5 * hour)}, permissions=BASIC
    )
    await approve(h, refused_for_good)
    await move_to(h, t0 + 5 * hour + timedelta(minutes=1))
    sb.fail_next("DELETE", "/channels/{channel_id}/permissions/{overwrite_id}", status=403, code=50013)
    _, carried = await create(h, "takeover", w.alice, {**takeover, **window(7 * hour)}, permissions=BASIC)
    await approve(h, carried)
    await move_to(h, t0 + 7 * hour + timedelta(minutes=1))
    # rejected, cancelled, and one whose brand lapsed before it started
    qa = {"brand": brand, "channel": w.cooking, "title": "Ask Acme"}
    _, r = await create(h, "qa", w.alice, {**qa, **window(10 * hour)}, permissions=BASIC)
    await slash(h, "activation", "reject", w.owner, {"id": r, "reason": "Not now"})
    _, c = await create(h, "qa", w.alice, {**qa, **window(11 * hour)}, permissions=BASIC)
    await slash(h, "activation", "cancel", w.owner, {"id": c})
    _, lapsed = await create(h, "qa", w.alice, {**qa, **window(12 * hour)}, permissions=BASIC)
    await approve(h, lapsed)
    _, missed = await create(h, "qa", w.alice, {**qa, **window(14 * hour)}, permissions=BASIC)
    await approve(h, missed)
    await h.app.store.set_brand_status(w.guild, brand, expected="approved", status="suspended", by=w.owner,
                                       now=h.clock.now)  # fmt: skip
    await move_to(h, t0 + 12 * hour + timedelta(minutes=1))
    await h.app.store.set_brand_status(w.guild, brand, expected="suspended", status="approved", by=w.owner,
                                       now=h.clock.now)  # fmt: skip
    # a takeover whose taker left the partner program before its start
    (taker,) = add_members(h, 1)
    await seed_partner(h, taker)
    _, left = await create(h, "takeover", w.alice, {**takeover, "taker": taker, **window(13 * hour)},
                           permissions=BASIC)  # fmt: skip
    await approve(h, left)
    assert await h.app.store.end_partnership(w.guild, taker, "left", now=h.clock.now)
    await move_to(h, t0 + 13 * hour + timedelta(minutes=1))
    # and one whose whole window passed while the bot was not running
    await move_to(h, t0 + 16 * hour)
    # the brand's contact leaves the server (as its GUILD_MEMBER_REMOVE tells the brands service)
    assert await h.app.brands.contact_left(w.guild, w.alice) == [brand]

    lines = [m["content"] for m in sb.messages(audit)]
    kinds = Counter(kind_of(line) for line in lines)
    # Every kind appears, and each event that happened gave exactly one line.
    once = Counter(EVENTS)
    # Three takeovers went live and ended; the one whose restore was left refused was never restored.
    more = {"activation_approved": 6, "activation_live": 3, "takeover_started": 2, "activation_ended": 2}
    assert kinds == once + Counter({**more, "takeover_restored": 1}), kinds
    assert all(str(w.carol) not in line for line in lines)  # erasures are counts, never who
    posts = h.rest.find("POST", f"/channels/{audit}/messages")
    assert all(c.json["allowed_mentions"] == {"parse": []} for c in posts)


def kind_of(line: str) -> str:
    """The event kind whose English line this is (each kind's fixed words set it apart)."""
    for event in sorted(EVENTS, key=lambda e: -len(fixed_words(e))):
        if all(part in line for part in fixed_words(event)):
            return event
    raise AssertionError(f"not an audit line: {line}")


def fixed_words(event: str) -> list[str]:
    """The literal parts of an event's English template, between its placeholders."""
    message = i18n.catalog("en")[f"audit.{event}"]
    assert isinstance(message, str)
    parts: list[str] = []
    for chunk in message.replace("{@", "{").split("{"):
        text = chunk.split("}", 1)[-1] if "}" in chunk else chunk
        parts.extend(p for p in text.split("  ") if p.strip())
    return [p.strip() for p in parts if len(p.strip()) > 2]
