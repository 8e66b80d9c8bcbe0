"""`/microvoice setup` and `/microvoice status` through the sandbox, permissions checked server-side."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import i18n
from sandbox.discord_server.common import public_copy
from sandbox.discord_server.protocol import ALL_PERMISSIONS, Permissions
from tests.e2e.conftest import BASIC, MANAGE_GUILD, Harness

EPHEMERAL = 1 << 6


def reply_of(call) -> dict:
    body = call.json
    assert body["type"] in (4, 5), body
    return body.get("data") or {}


async def test_commands_are_synced_once_and_not_again_after_restart(harness: Harness):
    synced = harness.rest.find("PUT", "/applications/{application_id}/guilds/{guild_id}/commands")
    assert len(synced) == 1
    names = {c["name"] for c in synced[0].json}
    assert "microvoice" in names
    assert await harness.bot.sync_commands_if_changed() is False
    assert len(harness.rest.find("PUT", "/applications/{application_id}/guilds/{guild_id}/commands")) == 1


async def test_non_moderator_is_refused_and_nothing_changes(harness: Harness):
    w = harness.world
    call = await (
        await harness.slash("microvoice", w.alice, {"locale": "he"}, subcommand="setup", permissions=BASIC)
    ).response()
    data = reply_of(call)
    assert data["flags"] & EPHEMERAL
    assert "moderators" in data["content"].lower()
    assert await harness.scalar("SELECT count(*) FROM guild_settings") == 0
    status = await (
        await harness.slash("microvoice", w.alice, subcommand="status", permissions=BASIC)
    ).response()
    assert "moderators" in reply_of(status)["content"].lower()


async def test_manage_server_sets_locale_role_channel_and_retention(harness: Harness):
    w = harness.world
    options = {"locale": "ar", "mod_role": w.mod_role, "report_channel": w.cooking, "retention_days": 30}
    call = await (
        await harness.slash("microvoice", w.owner, options, subcommand="setup", permissions=MANAGE_GUILD)
    ).response()
    data = reply_of(call)
    assert data["flags"] & EPHEMERAL
    assert "تم حفظ الإعدادات" in data["content"]  # the reply is already in the new language
    assert data["content"].count("\u061b ") == 3 and "; " not in data["content"]  # the Arabic semicolon
    assert await harness.rows(
        "SELECT locale, mod_role_id, report_channel_id, retention_days, updated_by FROM guild_settings"
    ) == [("ar", w.mod_role, w.cooking, 30, w.owner)]
    assert data.get("allowed_mentions", {}).get("parse", []) == []


async def test_configured_moderator_role_grants_access(harness: Harness):
    w = harness.world
    chosen = await harness.slash(
        "microvoice", w.owner, {"mod_role": w.mod_role}, subcommand="setup", permissions=MANAGE_GUILD
    )
    # Discord hides /microvoice from members without Manage Server until an admin allows the role.
    told = reply_of(await chosen.response())["content"]
    assert i18n.t("en", "setup.mod_role_visible") in told
    call = await (
        await harness.slash(
            "microvoice", w.mod, {"retention_days": 90}, subcommand="setup", permissions=BASIC
        )
    ).response()
    assert "saved" in reply_of(call)["content"].lower()
    assert await harness.scalar("SELECT retention_days FROM guild_settings") == 90


async def test_out_of_range_retention_is_refused(harness: Harness):
    w = harness.world
    call = await (
        await harness.slash(
            "microvoice", w.owner, {"retention_days": 0}, subcommand="setup", permissions=MANAGE_GUILD
        )
    ).response()
    data = reply_of(call)
    assert data["flags"] & EPHEMERAL
    assert await harness.scalar("SELECT count(*) FROM guild_settings") == 0


async def test_status_summarises_last_week_ephemerally_and_survives_a_429(harness: Harness):
    w, sb = harness.world, harness.sandbox
    root = await sb.send_message(w.cooking, w.alice, "")
    await sb.send_message(w.cooking, w.bob, "", reply_to=int(root["id"]))
    # an event older than the window is not counted (a reaction is timed by the bot's clock)
    now = harness.clock.now
    harness.clock.now = now - timedelta(days=30)
    await sb.add_reaction(w.cooking, int(root["id"]), w.carol)
    await harness.flush()
    harness.clock.now = now
    sb.fail_next("POST", "/webhooks/{application_id}/{interaction_token}", status=429, retry_after=0.05)
    interaction = await harness.slash("microvoice", w.owner, subcommand="status", permissions=MANAGE_GUILD)
    deferred = await interaction.response()
    assert deferred.json["type"] == 5 and deferred.json["data"]["flags"] & EPHEMERAL
    followup = await sb.wait_for_call("POST", "/webhooks/{application_id}/{interaction_token}", count=2)
    attempts = sb.rest.find("POST", "/webhooks/{application_id}/{interaction_token}")
    assert [c.status for c in attempts] == [429, 200]
    embed = followup.json["embeds"][0]
    assert "2 engagement events from 2 members" in embed["description"]
    assert "reactions" not in embed["description"].split("\n")[1]
    assert followup.json["flags"] & EPHEMERAL


@pytest.mark.parametrize("lang", ["en", "ar", "he"])
async def test_status_groups_big_numbers_and_lists_in_the_servers_language(harness: Harness, lang: str):
    """An active server records thousands of events a week: "1201" is hard to read, and an Arabic
    list is separated with the Arabic comma."""
    w, sb = harness.world, harness.sandbox
    await setup_reply(harness, w.owner, {"locale": lang})
    root = await sb.send_message(w.cooking, w.alice, "")
    for _ in range(1199):
        await sb.send_message(w.cooking, w.alice, "")
    await sb.send_message(w.cooking, w.bob, "", reply_to=int(root["id"]))
    await harness.flush()
    interaction = await harness.slash("microvoice", w.owner, subcommand="status", permissions=MANAGE_GUILD)
    await interaction.response()
    lines = (await interaction.wait_followup()).json["embeds"][0]["description"].split("\n")
    assert lines[0] == i18n.t(lang, "status.total", total=1201, members=2)
    assert "1,201" in lines[0] and "1201" not in lines[0]
    messages, replies = (i18n.t(lang, f"kind.{k}") for k in ("message", "reply"))
    separator = {"en": ", ", "ar": "\u060c ", "he": ", "}[lang]
    assert f"{messages}: 1,200{separator}{replies}: 1" in lines[1], lines[1]
    assert f"<#{w.cooking}> 1,201" in lines[2]


async def setup_reply(harness: Harness, user: int, options: dict, perms: int = MANAGE_GUILD) -> str:
    interaction = await harness.slash("microvoice", user, options, subcommand="setup", permissions=perms)
    call = await interaction.response()
    return str(reply_of(call)["content"])


async def test_everyone_can_never_be_the_moderator_role(harness: Harness):
    w = harness.world
    told = await setup_reply(harness, w.owner, {"mod_role": w.guild})  # @everyone's id is the server's
    assert "@everyone would make every member a moderator" in told
    assert await harness.scalar("SELECT count(*) FROM guild_settings") == 0
    # Stored some other way (an earlier version): it still makes nobody a moderator.
    store = harness.app.store
    await store.update_settings(w.guild, {"mod_role_id": w.guild}, by=w.owner, now=harness.clock.now)
    refused = await setup_reply(harness, w.alice, {"retention_days": 1}, perms=BASIC)
    assert "Only moderators" in refused
    assert await harness.scalar("SELECT retention_days FROM guild_settings") != 1


async def test_the_moderator_role_and_report_channel_can_be_cleared(harness: Harness):
    w = harness.world
    await setup_reply(harness, w.owner, {"mod_role": w.mod_role, "report_channel": w.cooking})
    told = await setup_reply(harness, w.owner, {"clear": "mod_role_id"})
    assert "moderator role not set" in told and "Manage Server" not in told
    stored = await harness.rows("SELECT mod_role_id, report_channel_id FROM guild_settings")
    assert stored == [(None, w.cooking)]
    refused = await setup_reply(harness, w.mod, {"retention_days": 90}, perms=BASIC)
    assert "Only moderators" in refused  # the role no longer counts
    await setup_reply(harness, w.owner, {"clear": "report_channel_id"})
    assert await harness.scalar("SELECT report_channel_id FROM guild_settings") is None


async def test_a_report_or_audit_channel_the_bot_cannot_post_in_is_refused(harness: Harness):
    w, sb = harness.world, harness.sandbox
    guild = sb.stored_guild(w.guild)
    bot_role = guild.roles[guild.bot_role_id]
    bot_role["permissions"] = str(ALL_PERMISSIONS & ~Permissions.ADMINISTRATOR)
    sb.emit("GUILD_ROLE_UPDATE", {"guild_id": str(w.guild), "role": public_copy(bot_role)})
    send = int(Permissions.SEND_MESSAGES)
    silenced = [{"id": sb.bot_user_id, "type": 1, "allow": "0", "deny": str(send)}]
    mute = sb.add_channel(w.guild, "mute", overwrites=silenced)
    await harness.settle()
    told = await setup_reply(harness, w.owner, {"report_channel": mute})
    assert f"can't post in <#{mute}>" in told and "Send Messages" in told
    interaction = await harness.slash(
        "microvoice", w.owner, {"channel": mute}, subcommand="audit", permissions=MANAGE_GUILD
    )
    audit = await interaction.response()
    assert "Send Messages" in reply_of(audit)["content"]
    assert await harness.scalar("SELECT count(*) FROM guild_settings") == 0
    # In Arabic the permissions carry Discord's Arabic names, listed with the Arabic comma.
    await setup_reply(harness, w.owner, {"locale": "ar"})
    embed_links = int(Permissions.EMBED_LINKS)
    plain = [{"id": sb.bot_user_id, "type": 1, "allow": "0", "deny": str(send | embed_links)}]
    bare = sb.add_channel(w.guild, "bare", overwrites=plain)
    await harness.settle()
    told = await setup_reply(harness, w.owner, {"report_channel": bare})
    assert "إرسال الرسائل\u060c تضمين الروابط" in told, told
    assert "Send Messages" not in told and ", " not in told


async def test_the_settings_overview_names_the_language_privacy_threshold_and_audit_log(harness: Harness):
    w = harness.world
    await setup_reply(harness, w.owner, {"locale": "he", "k_anonymity": 7})
    told = await setup_reply(harness, w.owner, {})
    assert "עברית" in told and "7" in told and "יומן ביקורת" in told


async def test_a_value_that_is_not_one_of_the_choices_lists_them_as_the_language_lists(harness: Harness):
    """A client that sends its own payload can give a choice option any value: the answer names the
    choices, separated as the server's language separates a list."""
    w = harness.world
    await setup_reply(harness, w.owner, {"locale": "ar"})
    told = await setup_reply(harness, w.owner, {"locale": "xx"})
    assert "xx" in told and "English (`en`)\u060c العربية (Arabic) (`ar`)" in told, told
    assert await harness.scalar("SELECT locale FROM guild_settings") == "ar"
