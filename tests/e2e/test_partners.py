"""`/partner` through the sandbox: terms, consent log, leave, status, leaving the server, bans."""

from __future__ import annotations

from datetime import timedelta

from bot import i18n
from tests.e2e.activation_helpers import set_locale
from tests.e2e.conftest import BASIC, MANAGE_GUILD, Harness, Launcher

EPHEMERAL = 1 << 6


def buttons(message: dict) -> dict[str, str]:
    return {c["label"]: c["custom_id"] for row in message["components"] for c in row["components"]}


async def bot_message_with_buttons(h: Harness, channel_id: int, custom_ids: list[str]) -> dict:
    """A message of the bot's carrying buttons with these custom_ids (at most five), as a client that
    forwarded a message, or edited the custom_id a button sends, would present them."""
    row = [{"type": 2, "style": 2, "label": str(i), "custom_id": c} for i, c in enumerate(custom_ids)]
    return await h.sandbox.send_message(
        channel_id, h.sandbox.bot_user_id, "", components=[{"type": 1, "components": row}]
    )


async def join(h: Harness, user: int, *, choice: str = "Accept") -> dict:
    w = h.world
    interaction = await h.slash("partner", user, subcommand="join", permissions=BASIC)
    data = (await interaction.response()).json["data"]
    assert data["flags"] & EPHEMERAL
    clicked = await h.sandbox.click(
        interaction.message, buttons(interaction.message)[choice], user, guild_id=w.guild, permissions=BASIC
    )
    return (await clicked.response()).json


async def set_terms(
    h: Harness, body: str, *, user: int | None = None, permissions: int = MANAGE_GUILD
) -> dict:
    w = h.world
    opener = await h.slash("partner", user or w.owner, subcommand="set-terms", permissions=permissions)
    opened = (await opener.response()).json
    if opened["type"] != 9:
        return opened
    custom_id = opener.modal["custom_id"]
    submitted = await h.sandbox.submit_modal(
        custom_id,
        {"microvoice:partner:terms-body": body},
        user or w.owner,
        guild_id=w.guild,
        channel_id=w.general,
    )
    return (await submitted.response()).json


async def test_join_shows_default_terms_and_accept_records_consent(harness: Harness):
    w = harness.world
    interaction = await harness.slash("partner", w.alice, subcommand="join", permissions=BASIC)
    data = (await interaction.response()).json["data"]
    assert data["flags"] & EPHEMERAL
    embed = data["embeds"][0]
    assert "never what you wrote" in embed["description"] and "Default terms" in embed["footer"]["text"]
    assert set(buttons(interaction.message)) == {"Accept", "Decline"}
    clicked = await harness.sandbox.click(
        interaction.message, buttons(interaction.message)["Accept"], w.alice, guild_id=w.guild
    )
    reply = (await clicked.response()).json
    assert reply["type"] == 7 and "Welcome to the partner program" in reply["data"]["content"]
    assert reply["data"]["components"] == []
    now = harness.clock.now.isoformat(timespec="milliseconds")
    assert await harness.rows(
        "SELECT community_id, member_id, terms_version, opted_in_at, opted_out_at FROM partners"
    ) == [(w.guild, w.alice, 0, now, None)]
    assert await harness.rows("SELECT member_id, action, terms_version, at FROM consent_log") == [
        (w.alice, "accepted", 0, now)
    ]
    again = await harness.slash("partner", w.alice, subcommand="join", permissions=BASIC)
    assert "already a partner" in (await again.response()).json["data"]["content"]
    # declining is recorded too, and makes nobody a partner
    reply = await join(harness, w.bob, choice="Decline")
    assert "not in the partner program" in reply["data"]["content"]
    assert await harness.rows("SELECT member_id, action FROM consent_log ORDER BY id") == [
        (w.alice, "accepted"),
        (w.bob, "declined"),
    ]
    assert not await harness.app.store.is_partner(w.guild, w.bob)


async def test_status_leave_and_ban_take_effect_at_once(harness: Harness):
    w, clock = harness.world, harness.clock
    status = await harness.slash("partner", w.alice, subcommand="status", permissions=BASIC)
    assert "not in the partner program" in (await status.response()).json["data"]["content"]
    await join(harness, w.alice)
    assert await harness.app.store.is_partner(w.guild, w.alice)
    status = await harness.slash("partner", w.alice, subcommand="status", permissions=BASIC)
    text = (await status.response()).json["data"]["content"]
    since = f"<t:{int(clock.now.timestamp())}:f>"
    assert "You are a partner since " + since in text and "terms version 0" in text
    clock.now += timedelta(hours=2)
    leave = await harness.slash("partner", w.alice, subcommand="leave", permissions=BASIC)
    data = (await leave.response()).json["data"]
    assert data["flags"] & EPHEMERAL and "You left the partner program" in data["content"]
    assert not await harness.app.store.is_partner(w.guild, w.alice)
    assert await harness.rows("SELECT action FROM consent_log ORDER BY id") == [("accepted",), ("left",)]
    status = await harness.slash("partner", w.alice, subcommand="status", permissions=BASIC)
    assert "You left the partner program on" in (await status.response()).json["data"]["content"]
    # a ban (GUILD_MODERATION intent, not privileged) ends partner status too
    sb = harness.sandbox
    await join(harness, w.carol)
    await sb.dispatch("GUILD_BAN_ADD", {"guild_id": str(w.guild), "user": sb.user(w.carol)})
    sb.remove_member(w.guild, w.carol)  # no GUILD_MEMBER_REMOVE without the members intent
    await harness.settle()
    assert not await harness.app.store.is_partner(w.guild, w.carol)
    assert await harness.rows("SELECT action FROM consent_log WHERE member_id = ? ORDER BY id", w.carol) == [
        ("accepted",),
        ("banned",),
    ]


async def test_moderators_version_the_terms_and_partners_keep_what_they_accepted(harness: Harness):
    w = harness.world
    # bad terms first: refused with a clear message, nothing saved
    for body in (
        "Hello @everyone, join our program now please",
        "Ping @\u200bhere for the partner program!",
        "x" * 19,
    ):
        reply = await set_terms(harness, body)
        assert reply["data"]["flags"] & EPHEMERAL
        assert "must not mention" in reply["data"]["content"] or "too short" in reply["data"]["content"]
    assert await harness.scalar("SELECT count(*) FROM partner_terms") == 0
    await join(harness, w.alice)
    reply = await set_terms(harness, "Brands see your standing, never your messages. Be kind.")
    assert "terms version 1" in reply["data"]["content"]
    reply = await set_terms(harness, "Version two: brands see your standing, never your messages.")
    assert "terms version 2" in reply["data"]["content"]
    assert await harness.rows("SELECT version, created_by FROM partner_terms ORDER BY version") == [
        (1, w.owner),
        (2, w.owner),
    ]
    # alice keeps version 0 and is told newer terms exist; bob joins under version 2
    status = await harness.slash("partner", w.alice, subcommand="status", permissions=BASIC)
    assert "Newer terms (version 2)" in (await status.response()).json["data"]["content"]
    interaction = await harness.slash("partner", w.bob, subcommand="join", permissions=BASIC)
    embed = (await interaction.response()).json["data"]["embeds"][0]
    assert embed["description"].startswith("Version two") and embed["footer"]["text"] == "Terms version 2"
    # terms changed after the message was shown: the old button records nothing
    await set_terms(harness, "Version three: brands see your standing, never your messages.")
    clicked = await harness.sandbox.click(
        interaction.message, buttons(interaction.message)["Accept"], w.bob, guild_id=w.guild
    )
    assert "terms changed" in (await clicked.response()).json["data"]["content"]
    assert not await harness.app.store.is_partner(w.guild, w.bob)
    reply = await join(harness, w.bob)
    assert "terms version 3" in reply["data"]["content"]


async def test_leaving_the_server_ends_partner_status_with_the_members_intent(launcher: Launcher):
    h = await launcher.start(members_intent=True)
    w = h.world
    await join(h, w.bob)
    h.sandbox.remove_member(w.guild, w.bob)
    await h.settle()
    assert not await h.app.store.is_partner(w.guild, w.bob)
    assert await h.rows("SELECT action FROM consent_log ORDER BY id") == [("accepted",), ("left_server",)]


async def test_declining_newer_terms_keeps_the_partner_and_says_how_to_leave(harness: Harness):
    w, sb = harness.world, harness.sandbox
    await join(harness, w.alice)
    await set_terms(harness, "Version one: brands see your standing, never your messages.")
    reply = await join(harness, w.alice, choice="Decline")
    assert reply["data"]["content"] == i18n.t("en", "partner.still_partner", kept=0)
    assert "/partner leave" in reply["data"]["content"]
    assert await harness.app.store.is_partner(w.guild, w.alice)  # brands still see her: she is told so
    # a Decline left open in one /partner join, clicked after accepting in another
    stale = await harness.slash("partner", w.bob, subcommand="join", permissions=BASIC)
    await stale.response()
    await join(harness, w.bob)
    clicked = await sb.click(stale.message, buttons(stale.message)["Decline"], w.bob, guild_id=w.guild)
    assert (await clicked.response()).json["data"]["content"] == i18n.t("en", "partner.still_partner", kept=1)
    assert await harness.app.store.is_partner(w.guild, w.bob)
    assert await harness.rows("SELECT member_id, action, terms_version FROM consent_log ORDER BY id") == [
        (w.alice, "accepted", 0),
        (w.alice, "declined", 1),
        (w.bob, "accepted", 1),
    ]


async def test_buttons_clicked_outside_a_server_get_a_clear_answer(harness: Harness):
    """The partner, privacy and partner-page buttons belong to a server; clicked in a DM (a forwarded
    or copied message) they say so instead of failing silently or with a generic error."""
    w, sb = harness.world, harness.sandbox
    dm = sb.open_dm(w.alice)
    custom_ids = [
        "microvoice:partner:accept:0",
        "microvoice:partner:decline:0",
        f"microvoice:privacy:forget:{w.alice}",
        f"microvoice:privacy:cancel:{w.alice}",
        "microvoice:brandpartners:1:topics:1",
    ]
    message = await bot_message_with_buttons(harness, dm, custom_ids)
    for custom_id in custom_ids:
        clicked = await sb.click(message, custom_id, w.alice, channel_id=dm)
        reply = (await clicked.response()).json
        assert reply["type"] == 4 and reply["data"]["flags"] & EPHEMERAL, custom_id
        assert reply["data"]["content"] == i18n.t("en", "error.button_guild_only"), custom_id
    assert await harness.scalar("SELECT count(*) FROM consent_log") == 0


async def test_accepting_the_default_terms_records_the_text_shown_in_its_language(harness: Harness):
    """The built-in terms are a text in the server's language: the consent record keeps the very text
    the member was shown (Hebrew here), even when the language changed before they clicked Accept."""
    w = harness.world
    await set_locale(harness, "he")
    interaction = await harness.slash("partner", w.carol, subcommand="join", permissions=BASIC)
    shown = (await interaction.response()).json["data"]["embeds"][0]["description"]
    assert shown == i18n.t("he", "partner.default_terms")
    await set_locale(harness, "en")
    accept = buttons(interaction.message)[i18n.t("he", "partner.accept")]
    clicked = await harness.sandbox.click(interaction.message, accept, w.carol, guild_id=w.guild)
    assert (await clicked.response()).json["type"] == 7
    assert await harness.rows("SELECT member_id, action, terms_version, terms_text FROM consent_log") == [
        (w.carol, "accepted", 0, shown)
    ]
    [entry] = await harness.app.store.consent_history(w.guild, w.carol)
    assert entry.terms_text == shown != i18n.t("en", "partner.default_terms")


async def test_a_terms_form_sent_after_a_restart_is_answered(launcher: Launcher):
    """A moderator opens the terms form, the bot restarts, the moderator sends it: the open form lived
    in the old process, so nothing handles it; they are told to open it again (before, Discord said
    "This interaction failed" and the text was lost without a word), and no terms are saved."""
    h = await launcher.start()
    w = h.world
    opener = await h.slash("partner", w.owner, subcommand="set-terms", permissions=MANAGE_GUILD)
    await opener.response()
    form = opener.modal["custom_id"]
    assert form.startswith("microvoice:partner:terms:")
    await launcher.stop(h)
    h = await launcher.start()
    body = {"microvoice:partner:terms-body": "Brands see your standing."}
    submitted = await h.sandbox.submit_modal(form, body, w.owner, guild_id=w.guild, channel_id=w.general)
    answer = (await submitted.response()).json["data"]
    assert answer["flags"] & EPHEMERAL and "open it again" in answer["content"]
    assert await h.scalar("SELECT count(*) FROM partner_terms") == 0
