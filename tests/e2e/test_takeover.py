"""Takeovers end to end through the sandbox, in en, ar and he: the taker gets posting rights for the
window, the topic carries the disclosure, every post is disclosed (attached reply or `/takeover post`
without the Message Content intent, webhook relay with it), and at the end the channel's overwrites and
topic are exactly what they were before."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta

import pytest

from bot.activations import disclosure
from cogs.takeover import POST_INPUT
from sandbox.discord_server.common import public_copy
from sandbox.discord_server.protocol import ALL_PERMISSIONS, CH_CATEGORY, Permissions
from tests.e2e.activation_helpers import (
    EPHEMERAL,
    activation_messages,
    approve,
    assert_disclosed,
    assert_no_mass_mentions,
    create,
    move_to,
    reply,
    seed_brand,
    seed_partner,
    set_locale,
    when,
)
from tests.e2e.conftest import BASIC, MANAGE_GUILD, Harness, eventually

SEND = 1 << 11
VIEW = 1 << 10


async def sponsored_channel(h: Harness, *, taker_overwrite: bool) -> int:
    """A channel where members cannot post, optionally with an existing overwrite for the taker."""
    w = h.world
    overwrites = [{"id": w.guild, "type": 0, "allow": "0", "deny": str(SEND)}]
    if taker_overwrite:
        overwrites.append({"id": w.bob, "type": 1, "allow": str(VIEW), "deny": str(1 << 13)})
    channel = h.sandbox.add_channel(w.guild, "sponsored", topic="Weekly recipes", overwrites=overwrites)
    await h.settle()
    return channel


async def start_takeover(h: Harness, lang: str, channel: int) -> tuple[int, str]:
    w = h.world
    await set_locale(h, lang)
    brand = await seed_brand(h, "Oatly\u202e", contacts=[w.alice])
    await seed_partner(h, w.bob)
    data, activation_id = await create(
        h,
        "takeover",
        w.alice,
        {
            "brand": brand,
            "channel": channel,
            "taker": w.bob,
            "title": "Bob cooks with oats",
            "starts": when(h, timedelta(hours=2)),
            "ends": when(h, timedelta(hours=5)),
        },
        permissions=BASIC,
    )
    assert activation_id is not None, data
    assert (await approve(h, activation_id))["flags"] & EPHEMERAL
    start = await h.scalar("SELECT starts_at FROM activations WHERE id = ?", activation_id)
    assert await move_to(h, datetime.fromisoformat(start)) == 1
    return activation_id, disclosure.tag(lang, "Oatly\u202e", "paid")


@pytest.mark.parametrize("lang", ["en", "ar", "he"])
async def test_takeover_discloses_every_post_and_restores_the_channel_exactly(harness: Harness, lang: str):
    h, w, sb = harness, harness.world, harness.sandbox
    channel = await sponsored_channel(h, taker_overwrite=True)
    before = sorted(sb.channel_overwrites(channel), key=lambda o: o["id"])
    activation_id, tag = await start_takeover(h, lang, channel)

    # During the window: the taker may post, the topic starts with the disclosure.
    during = {o["id"]: o for o in sb.channel_overwrites(channel)}
    assert int(during[str(w.bob)]["allow"]) & SEND and not int(during[str(w.bob)]["deny"]) & SEND
    assert int(during[str(w.bob)]["deny"]) & (1 << 13)  # the rest of the old overwrite is kept
    assert sb.channel(channel)["topic"].startswith(tag)
    assert sb.channel(channel)["topic"].endswith("Weekly recipes")

    # A plain message by the taker gets an attached disclosure reply (no Message Content intent).
    own = await sb.send_message(channel, w.bob, "Today: overnight oats!")
    await h.settle()
    replies = [
        m for m in sb.messages(channel) if (m.get("message_reference") or {}).get("message_id") == own["id"]
    ]
    assert len(replies) == 1 and disclosure.starts_disclosed(replies[0]["content"], tag)
    # A replayed delivery is not disclosed twice.
    await sb.dispatch("MESSAGE_CREATE", own)
    await h.settle()
    assert (
        len(
            [
                m
                for m in sb.messages(channel)
                if (m.get("message_reference") or {}).get("message_id") == own["id"]
            ]
        )
        == 1
    )
    assert await h.scalar("SELECT count(*) FROM takeover_posts WHERE activation_id = ?", activation_id) == 1

    # /takeover post: a modal, posted by the bot with the tag.
    opened = await h.sandbox.slash(
        w.guild, channel, w.bob, "takeover", subcommand="post", permissions=BASIC | SEND
    )
    modal = (await opened.response()).json
    assert modal["type"] == 9
    submitted = await sb.submit_modal(
        modal["data"]["custom_id"],
        {POST_INPUT: "Recipe: oats + berries"},
        w.bob,
        guild_id=w.guild,
        channel_id=channel,
    )
    assert (await reply(submitted))["flags"] & EPHEMERAL
    assert "Recipe: oats + berries" in sb.messages(channel)[-1]["content"]

    # Someone else cannot use /takeover post there.
    other = await h.sandbox.slash(w.guild, channel, w.carol, "takeover", subcommand="post", permissions=BASIC)
    assert (await reply(other))["flags"] & EPHEMERAL

    # End: overwrites and topic exactly as before.
    end = await h.scalar("SELECT ends_at FROM activations WHERE id = ?", activation_id)
    assert await move_to(h, datetime.fromisoformat(end)) == 1
    assert sorted(sb.channel_overwrites(channel), key=lambda o: o["id"]) == before
    assert sb.channel(channel)["topic"] == "Weekly recipes"
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", activation_id) == "ended"

    messages = activation_messages(h, [channel])
    assert len(messages) == 4  # opening, disclosure reply, /takeover post, closing
    for call in messages:
        assert_disclosed(call, tag)
    assert_no_mass_mentions(h)


async def test_taker_without_previous_overwrite_has_none_afterwards(harness: Harness):
    h, sb = harness, harness.sandbox
    channel = await sponsored_channel(h, taker_overwrite=False)
    before = sorted(sb.channel_overwrites(channel), key=lambda o: o["id"])
    activation_id, _ = await start_takeover(h, "en", channel)
    assert len(sb.channel_overwrites(channel)) == len(before) + 1
    cancel = await h.slash(
        "activation", h.world.alice, {"id": activation_id}, subcommand="cancel", permissions=BASIC
    )
    assert (await reply(cancel))["flags"] & EPHEMERAL
    await h.settle()
    assert sorted(sb.channel_overwrites(channel), key=lambda o: o["id"]) == before
    assert sb.channel(channel)["topic"] == "Weekly recipes"
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", activation_id) == "cancelled"


def set_bot_role(h: Harness, permissions: int) -> None:
    """The bot's role gets `permissions`, and @everyone loses what they lack (the bot holds it too)."""
    sb, w = h.sandbox, h.world
    guild = sb.stored_guild(w.guild)
    everyone = int(guild.roles[w.guild]["permissions"]) & permissions
    for role_id, value in ((guild.bot_role_id, permissions), (w.guild, everyone)):
        role = guild.roles[role_id]
        role["permissions"] = str(value)
        sb.emit("GUILD_ROLE_UPDATE", {"guild_id": str(w.guild), "role": public_copy(role)})


def granted(h: Harness, channel: int) -> int:
    [taker] = [o for o in h.sandbox.channel_overwrites(channel) if o["id"] == str(h.world.bob)]
    return int(taker["allow"])


ATTACH = int(Permissions.ATTACH_FILES)
NOT_ADMIN = ALL_PERMISSIONS & ~Permissions.ADMINISTRATOR


async def test_a_channel_overwrite_denying_the_bot_attach_files_does_not_cut_the_grant(harness: Harness):
    """Discord checks an overwrite against what the bot holds in the guild, not in the channel: the
    bot's own overwrite denying it Attach Files there takes nothing from what it may grant."""
    h, sb, w = harness, harness.sandbox, harness.world
    set_bot_role(h, NOT_ADMIN)
    overwrites = [
        {"id": w.guild, "type": 0, "allow": "0", "deny": str(SEND)},
        {"id": sb.bot_user_id, "type": 1, "allow": str(SEND), "deny": str(ATTACH)},
    ]
    channel = sb.add_channel(w.guild, "sponsored", topic="Weekly recipes", overwrites=overwrites)
    await h.settle()
    activation_id, _ = await start_takeover(h, "en", channel)
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", activation_id) == "live"
    assert granted(h, channel) & SEND and granted(h, channel) & ATTACH


async def test_what_only_a_channel_overwrite_gives_the_bot_is_not_granted(harness: Harness):
    """The bot may attach files in the channel only through its own overwrite there, which holds no
    Manage Roles: Discord refuses an overwrite granting it (403), so the taker is granted the rest."""
    h, sb, w = harness, harness.sandbox, harness.world
    set_bot_role(h, NOT_ADMIN & ~ATTACH)
    overwrites = [
        {"id": w.guild, "type": 0, "allow": "0", "deny": str(SEND)},
        {"id": sb.bot_user_id, "type": 1, "allow": str(SEND | ATTACH), "deny": "0"},
    ]
    channel = sb.add_channel(w.guild, "sponsored", topic="Weekly recipes", overwrites=overwrites)
    await h.settle()
    activation_id, _ = await start_takeover(h, "en", channel)
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", activation_id) == "live"
    assert await h.app.activations.problem(w.guild, activation_id) is None
    assert granted(h, channel) & SEND and not granted(h, channel) & ATTACH


async def test_in_a_category_what_the_bot_holds_there_is_what_it_may_grant(harness: Harness):
    """A channel in a category: the category's permissions count. The category denies the bot Attach
    Files, the channel gives it back: not grantable."""
    h, sb, w = harness, harness.sandbox, harness.world
    set_bot_role(h, NOT_ADMIN)
    category = sb.add_channel(
        w.guild,
        "Partners",
        type=CH_CATEGORY,
        overwrites=[{"id": sb.bot_user_id, "type": 1, "allow": "0", "deny": str(ATTACH)}],
    )
    overwrites = [
        {"id": w.guild, "type": 0, "allow": "0", "deny": str(SEND)},
        {"id": sb.bot_user_id, "type": 1, "allow": str(ATTACH), "deny": "0"},
    ]
    channel = sb.add_channel(
        w.guild, "sponsored", parent_id=category, topic="Weekly recipes", overwrites=overwrites
    )
    await h.settle()
    activation_id, _ = await start_takeover(h, "en", channel)
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", activation_id) == "live"
    assert granted(h, channel) & SEND and not granted(h, channel) & ATTACH


async def test_with_manage_roles_through_a_channel_overwrite_the_channel_counts(harness: Harness):
    """The bot's role holds Manage Roles through an overwrite in the channel, which also gives it Attach
    Files: then what it holds in the channel may be granted."""
    h, sb, w = harness, harness.sandbox, harness.world
    set_bot_role(h, NOT_ADMIN & ~ATTACH)
    bot_role = sb.stored_guild(w.guild).bot_role_id
    overwrites = [
        {"id": w.guild, "type": 0, "allow": "0", "deny": str(SEND)},
        {"id": bot_role, "type": 0, "allow": str(SEND | ATTACH | Permissions.MANAGE_ROLES), "deny": "0"},
    ]
    channel = sb.add_channel(w.guild, "sponsored", topic="Weekly recipes", overwrites=overwrites)
    await h.settle()
    activation_id, _ = await start_takeover(h, "en", channel)
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", activation_id) == "live"
    assert granted(h, channel) & SEND and granted(h, channel) & ATTACH


async def test_with_message_content_the_taker_is_relayed_through_a_webhook(launcher):
    h = await launcher.start(message_content_intent=True)
    w, sb = h.world, h.sandbox
    channel = await sponsored_channel(h, taker_overwrite=False)
    activation_id, tag = await start_takeover(h, "he", channel)
    own = await sb.send_message(channel, w.bob, "Oats for breakfast")
    await h.settle()
    relayed = [c for c in activation_messages(h, [channel]) if c.path.startswith("/webhooks/")]
    assert len(relayed) == 1
    assert relayed[0].json["content"].startswith(f"**{tag}**\nOats for breakfast")
    assert sb.message(int(own["id"])) is None  # the undisclosed original is gone
    assert await h.scalar("SELECT mode FROM takeover_posts WHERE activation_id = ?", activation_id) == "relay"
    assert_no_mass_mentions(h)


async def test_a_relayed_original_that_cannot_be_deleted_is_not_shown_twice(launcher):
    """The copy is posted but the original cannot be deleted (Manage Messages taken away, say): the
    copy is taken back and the original, which stays, is disclosed by a reply. Before, both stayed."""
    h = await launcher.start(message_content_intent=True)
    w, sb = h.world, h.sandbox
    channel = await sponsored_channel(h, taker_overwrite=False)
    activation_id, tag = await start_takeover(h, "en", channel)
    sb.fail_next("DELETE", "/channels/{channel_id}/messages/{message_id}", status=403, code=50013)
    own = await sb.send_message(channel, w.bob, "Oats for breakfast")
    await h.settle()
    [copy] = [c for c in h.rest.calls if c.method == "POST" and c.path.startswith("/webhooks/")]
    assert copy.status == 200
    assert sb.message(int(own["id"])) is not None  # the original stays
    shown = [m for m in sb.state.messages.values() if m["channel_id"] == str(channel)]
    assert not [m for m in shown if "Oats for breakfast" in m["content"] and m["id"] != own["id"]]
    [notice] = [c for c in activation_messages(h, [channel]) if c.json.get("message_reference")]
    assert str(notice.json["message_reference"]["message_id"]) == own["id"]
    assert disclosure.starts_disclosed(notice.json["content"], tag)
    assert await h.scalar("SELECT count(*) FROM takeover_posts WHERE activation_id = ?", activation_id) == 1


async def test_a_relay_webhook_a_moderator_deleted_is_made_again(launcher):
    """A moderator deletes the bot's relay webhook between two of the taker's messages (tidying the
    channel's integrations): the next message is relayed through a new one, not left to a reply."""
    h = await launcher.start(message_content_intent=True)
    w, sb = h.world, h.sandbox
    channel = await sponsored_channel(h, taker_overwrite=False)
    activation_id, tag = await start_takeover(h, "en", channel)
    await sb.send_message(channel, w.bob, "Oats for breakfast")
    await h.settle()
    (first,) = [k for k, hook in sb.state.webhooks.items() if int(hook["channel_id"]) == channel]
    del sb.state.webhooks[first]
    second = await sb.send_message(channel, w.bob, "And for lunch")
    await h.settle()
    relayed = [c for c in activation_messages(h, [channel]) if c.path.startswith("/webhooks/")]
    sent = [c.status for c in h.rest.calls if c.method == "POST" and c.path.startswith("/webhooks/")]
    assert sent == [200, 404, 200]  # the first message; the deleted webhook; a new one
    assert relayed[-1].json["content"].startswith(f"**{tag}**\nAnd for lunch")
    assert sb.message(int(second["id"])) is None
    modes = await h.rows("SELECT mode FROM takeover_posts WHERE activation_id = ?", activation_id)
    assert [m for (m,) in modes] == ["relay", "relay"]


async def test_a_taker_whose_name_discord_refuses_for_a_webhook_is_disclosed_by_a_reply(launcher):
    """Discord refuses a webhook post under a name containing "discord" (or "clyde"): the taker's
    message is then disclosed by a reply, not left undisclosed."""
    h = await launcher.start(message_content_intent=True)
    w, sb = h.world, h.sandbox
    sb.state.users[w.bob].update(username="discorddan", global_name="DiscordDan")
    channel = await sponsored_channel(h, taker_overwrite=False)
    _, tag = await start_takeover(h, "en", channel)
    own = await sb.send_message(channel, w.bob, "Oats for breakfast")
    await h.settle()
    assert sb.message(int(own["id"])) is not None  # not republished: it stays, disclosed by a reply
    [notice] = [c for c in activation_messages(h, [channel]) if c.json.get("message_reference")]
    assert str(notice.json["message_reference"]["message_id"]) == own["id"]
    assert disclosure.starts_disclosed(notice.json["content"], tag)
    assert not [c for c in sb.rest.calls if c.path.startswith("/webhooks/") and c.method == "POST"]


async def test_the_taker_is_told_privately_when_the_takeover_starts(harness: Harness):
    h, w, sb = harness, harness.world, harness.sandbox
    channel = await sponsored_channel(h, taker_overwrite=False)
    await start_takeover(h, "he", channel)
    tag = disclosure.tag("he", "Oatly\u202e", "paid")
    notes = sb.messages(sb.open_dm(w.bob))
    assert len(notes) == 1
    assert disclosure.starts_disclosed(notes[0]["content"], tag)
    assert f"<#{channel}>" in notes[0]["content"]


def disclosures_of(h: Harness, channel: int, message_id: str) -> list[dict]:
    """The bot's replies in `channel` that point at the taker's message."""
    return [
        m
        for m in h.sandbox.messages(channel)
        if (m.get("message_reference") or {}).get("message_id") == message_id
    ]


async def test_the_takers_messages_in_a_thread_of_the_channel_are_disclosed(harness: Harness):
    h, w, sb = harness, harness.world, harness.sandbox
    channel = await sponsored_channel(h, taker_overwrite=False)
    _, tag = await start_takeover(h, "en", channel)
    thread = int((await sb.create_thread(channel, w.bob, "Oat recipes, part 2"))["id"])
    own = await sb.send_message(thread, w.bob, "More oats in here")
    other = await sb.send_message(thread, w.carol, "Looks good")
    await h.settle()
    [notice] = disclosures_of(h, thread, own["id"])
    assert disclosure.starts_disclosed(notice["content"], tag)
    assert disclosures_of(h, thread, other["id"]) == []  # only the taker's posts are sponsored


async def test_a_disclosure_that_failed_is_made_on_a_retry(harness: Harness):
    h, w, sb = harness, harness.world, harness.sandbox
    channel = await sponsored_channel(h, taker_overwrite=False)
    activation_id, tag = await start_takeover(h, "en", channel)
    sb.fail_next("POST", "/channels/{channel_id}/messages", status=503)
    own = await sb.send_message(channel, w.bob, "Oats again")
    await h.settle()
    assert disclosures_of(h, channel, own["id"]) == []  # the reply failed ...
    await eventually(lambda: len(disclosures_of(h, channel, own["id"])) == 1, "the retried disclosure", 10)
    assert disclosure.starts_disclosed(disclosures_of(h, channel, own["id"])[0]["content"], tag)
    await sb.dispatch("MESSAGE_CREATE", own)  # ... and a replay after it changes nothing
    await h.settle()
    assert len(disclosures_of(h, channel, own["id"])) == 1
    assert await h.scalar("SELECT count(*) FROM takeover_posts WHERE activation_id = ?", activation_id) == 1


async def test_after_the_end_the_taker_is_disclosed_until_the_channel_is_put_back(harness: Harness):
    h, w, sb = harness, harness.world, harness.sandbox
    channel = await sponsored_channel(h, taker_overwrite=False)
    activation_id, tag = await start_takeover(h, "en", channel)
    sb.fail_next("DELETE", "/channels/{channel_id}/permissions/{overwrite_id}", status=403, code=50013)
    end = await h.scalar("SELECT ends_at FROM activations WHERE id = ?", activation_id)
    assert await move_to(h, datetime.fromisoformat(end)) == 1
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", activation_id) == "ended"
    still = {o["id"]: o for o in sb.channel_overwrites(channel)}
    assert int(still[str(w.bob)]["allow"]) & SEND  # the restore was refused: the taker can still post

    late = await sb.send_message(channel, w.bob, "One more oat tip")
    await h.settle()
    [notice] = disclosures_of(h, channel, late["id"])
    assert disclosure.starts_disclosed(notice["content"], tag)

    retried = await h.slash(
        "activation", w.owner, {"id": activation_id}, subcommand="retry", permissions=MANAGE_GUILD
    )
    assert "all of its platform work is done now" in (await reply(retried))["content"]
    await h.settle()
    assert not h.app.live_takeovers.may_have(w.guild, channel)  # put back: nothing sponsored any more


async def test_a_relayed_message_too_long_for_the_tag_stays_and_is_disclosed_by_a_reply(launcher):
    h = await launcher.start(message_content_intent=True)
    w, sb = h.world, h.sandbox
    channel = await sponsored_channel(h, taker_overwrite=False)
    _, tag = await start_takeover(h, "en", channel)
    text = "Oats " * 399  # 1,995 characters: fits a message, not beside the tag
    own = await sb.send_message(channel, w.bob, text)
    await h.settle()
    kept = sb.message(int(own["id"]))
    assert kept is not None and kept["content"] == text  # not cut and re-posted: the original stays whole
    [notice] = disclosures_of(h, channel, own["id"])
    assert disclosure.starts_disclosed(notice["content"], tag)
    assert not [c for c in sb.rest.calls if c.path.startswith("/webhooks/") and c.method == "POST"]


async def test_a_takeover_whose_channel_was_deleted_ends_without_a_failure(harness: Harness):
    h, w, sb = harness, harness.world, harness.sandbox
    channel = await sponsored_channel(h, taker_overwrite=True)
    activation_id, _ = await start_takeover(h, "en", channel)
    del sb.state.channels[channel]  # a moderator deleted the channel during the takeover
    end = await h.scalar("SELECT ends_at FROM activations WHERE id = ?", activation_id)
    assert await move_to(h, datetime.fromisoformat(end)) == 1
    assert (
        await h.scalar(
            "SELECT state FROM activation_intents WHERE activation_id = ? AND action = 'close'", activation_id
        )
        == "done"
    )  # nothing left to put back: not a failure to report
    assert await h.scalar("SELECT restored_at FROM takeover_snapshots WHERE activation_id = ?", activation_id)
    assert await h.app.activations.problem(w.guild, activation_id) is None


async def test_the_takers_messages_sent_while_the_bot_was_disconnected_are_disclosed_in_place(
    launcher, monkeypatch: pytest.MonkeyPatch
):
    """Messages posted while the bot had no session are never delivered: after the next READY the end
    of the channel is read back (a busy takeover has more before the gap than is read) and each is
    disclosed once, by a reply where it is (a relayed copy would land far below it)."""
    h = await launcher.start(message_content_intent=True)
    # The bot loaded the cog as an extension: its own module object.
    monkeypatch.setattr(sys.modules["cogs.takeover"], "CATCH_UP_MESSAGES", 30)
    w, sb = h.world, h.sandbox
    channel = await sponsored_channel(h, taker_overwrite=False)
    activation_id, tag = await start_takeover(h, "en", channel)
    for i in range(40):  # each relayed as it comes: 40 messages after the opening before the gap
        await sb.send_message(channel, w.bob, f"Live {i}")
    await h.settle()
    relayed = len([c for c in sb.rest.calls if c.path.startswith("/webhooks/") and c.method == "POST"])
    readies = sb.ready_count
    await sb.invalidate_session(resumable=False)
    lost = [await sb.send_message(channel, w.bob, f"Posted in the gap {i}") for i in range(3)]
    await sb.wait_until(lambda: sb.ready_count > readies, 30, "a new session")
    for message in lost:
        await eventually_disclosed(h, channel, message["id"])
        assert sb.message(int(message["id"])) is not None  # kept where it was, with a reply under it
        assert disclosure.starts_disclosed(disclosures_of(h, channel, message["id"])[0]["content"], tag)
    webhooks = [c for c in sb.rest.calls if c.path.startswith("/webhooks/") and c.method == "POST"]
    assert len(webhooks) == relayed == 40  # the late ones are not relayed
    assert await h.scalar("SELECT count(*) FROM takeover_posts WHERE activation_id = ?", activation_id) == 43


async def eventually_disclosed(h: Harness, channel: int, message_id: str) -> None:
    await eventually(lambda: len(disclosures_of(h, channel, message_id)) == 1, "the disclosure", timeout=15)


async def test_a_takeover_after_one_whose_restore_was_refused_puts_the_original_back(harness: Harness):
    """The first takeover's restore is refused for good: the moderators are told, and the taker keeps
    the grant. A second takeover of the same taker and channel starts from the first one's stored copy
    (not from the leftover grant and disclosed topic), so its end puts the channel back as it was."""
    h, w, sb = harness, harness.world, harness.sandbox
    reports, audit = sb.add_channel(w.guild, "mod-reports"), sb.add_channel(w.guild, "mod-log")
    channel = await sponsored_channel(h, taker_overwrite=False)
    before = sorted(sb.channel_overwrites(channel), key=lambda o: o["id"])
    first, tag = await start_takeover(h, "en", channel)
    await set_locale(h, "en", report_channel=reports)
    await (
        await h.slash("microvoice", w.owner, {"channel": audit}, subcommand="audit", permissions=MANAGE_GUILD)
    ).response()
    sb.fail_next("DELETE", "/channels/{channel_id}/permissions/{overwrite_id}", status=403, code=50013)
    end = await h.scalar("SELECT ends_at FROM activations WHERE id = ?", first)
    assert await move_to(h, datetime.fromisoformat(end)) == 1
    assert int({o["id"]: o for o in sb.channel_overwrites(channel)}[str(w.bob)]["allow"]) & SEND
    await eventually(
        lambda: any(f"Activation #{first}: " in m["content"] for m in sb.messages(reports)),
        "the refused restore reported to the moderators",
    )
    [told] = [m["content"] for m in sb.messages(reports) if f"Activation #{first}: " in m["content"]]
    assert "cannot be done" in told and "403" in told

    brand = await h.scalar("SELECT brand_id FROM activations WHERE id = ?", first)
    options = {
        "brand": brand,
        "channel": channel,
        "taker": w.bob,
        "title": "Bob cooks with oats again",
        "starts": when(h, timedelta(hours=25)),  # sponsored windows are at least 24 hours apart
        "ends": when(h, timedelta(hours=28)),
    }
    data, second = await create(h, "takeover", w.alice, options, permissions=BASIC)
    assert second is not None, data
    await approve(h, second)
    start = await h.scalar("SELECT starts_at FROM activations WHERE id = ?", second)
    assert await move_to(h, datetime.fromisoformat(start)) == 1
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", second) == "live"
    snapshot = await h.app.store.takeover_snapshot(w.guild, second)
    assert snapshot is not None and not snapshot.had_overwrite and snapshot.topic == "Weekly recipes"
    topic = sb.channel(channel)["topic"]
    assert disclosure.starts_disclosed(topic, tag) and topic.count(tag) == 1
    await eventually(
        lambda: any(
            f"Takeover #{second}: " in m["content"]
            for m in sb.messages(audit)
            if "#" + str(first) in m["content"]
        ),
        "the carry-over in the audit log",
    )

    # The first takeover's retry no longer touches the channel: the second one puts it back.
    retried = await h.slash(
        "activation", w.owner, {"id": first}, subcommand="retry", permissions=MANAGE_GUILD
    )
    await reply(retried)
    await h.settle()
    assert int({o["id"]: o for o in sb.channel_overwrites(channel)}[str(w.bob)]["allow"]) & SEND

    end = await h.scalar("SELECT ends_at FROM activations WHERE id = ?", second)
    assert await move_to(h, datetime.fromisoformat(end)) == 1
    assert sorted(sb.channel_overwrites(channel), key=lambda o: o["id"]) == before
    assert sb.channel(channel)["topic"] == "Weekly recipes"
    assert await h.scalar("SELECT restored_at FROM takeover_snapshots WHERE activation_id = ?", first)
    assert not h.app.live_takeovers.may_have(w.guild, channel)
