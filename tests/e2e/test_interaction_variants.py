"""Interactions in the shapes Discord documents besides the usual one: from a DM (a `user`, no
`member`), in any client locale or server locale (supported or not), and where the bot's own
permissions (`app_permissions`) lack what posting in the channel needs."""

from __future__ import annotations

import logging

import discord
import pytest

from bot import i18n
from sandbox.discord_server import Permissions
from tests.e2e.conftest import MANAGE_GUILD, Harness, Launcher

EPHEMERAL = 1 << 6


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_every_command_run_from_a_dm_answers_that_it_works_in_a_server_only(
    launcher: Launcher, caplog: pytest.LogCaptureFixture
):
    """Discord hides server-only commands in DMs, but a client or server that does not still sends
    the interaction (`user`, no `member`, no `guild_id`): every command says where it works, and none
    fails as a bug would."""
    caplog.set_level(logging.WARNING)
    h = await launcher.start(command_guild_ids=())  # registered globally: reachable from a DM
    sb, w = h.sandbox, h.world
    await h.app.command_sync.wait()
    dm = sb.open_dm(w.alice)
    commands = sorted(
        (c for c in sb.state.global_commands.values() if c["type"] == 1), key=lambda c: c["name"]
    )
    assert len(commands) >= 10
    for command in commands:
        options = command.get("options") or []
        sub: str | list[str] | None = None
        if options and options[0]["type"] == 1:
            sub = options[0]["name"]
        elif options and options[0]["type"] == 2:
            sub = [options[0]["name"], options[0]["options"][0]["name"]]
        interaction = await sb.slash(None, dm, w.alice, command["name"], subcommand=sub)
        assert "member" not in interaction.payload and "guild_id" not in interaction.payload
        reply = (await interaction.response()).json
        assert reply["type"] == 4 and reply["data"]["flags"] & EPHEMERAL, command["name"]
        assert reply["data"]["content"] == i18n.t("en", "error.guild_only"), command["name"]
    assert errors(caplog) == []


async def test_replies_are_in_the_communitys_language_whatever_the_locales_sent(
    harness: Harness, caplog: pytest.LogCaptureFixture
):
    """Discord has no Hebrew or Arabic client: the community's setting decides, for every `locale`
    and `guild_locale` Discord knows, and for ones it does not (a newer client, an empty value)."""
    caplog.set_level(logging.WARNING)
    sb, w = harness.sandbox, harness.world
    setup = await harness.slash(
        "microvoice", w.owner, {"locale": "he"}, subcommand="setup", permissions=MANAGE_GUILD
    )
    await setup.response()
    title = i18n.t("he", "help.title")
    for locale in [*(loc.value for loc in discord.Locale), "he", "ar", "tlh", "xx-YY", ""]:
        sb.state.guilds[w.guild].data["preferred_locale"] = locale
        interaction = await sb.slash(w.guild, w.general, w.alice, "help", locale=locale)
        assert interaction.payload["locale"] == interaction.payload["guild_locale"] == locale
        reply = (await interaction.response()).json
        assert reply["data"]["embeds"][0]["title"] == title, locale
    assert errors(caplog) == []


async def test_a_command_answers_where_the_bot_itself_may_not_post(
    harness: Harness, caplog: pytest.LogCaptureFixture
):
    """`app_permissions` without View Channel or Send Messages: an interaction's answer needs
    neither, so the member still gets it."""
    caplog.set_level(logging.WARNING)
    sb, w = harness.sandbox, harness.world
    bot_role = sb.state.guilds[w.guild].bot_role_id
    role = sb.state.guilds[w.guild].roles[bot_role]
    role["permissions"] = str(Permissions.VIEW_CHANNEL | Permissions.SEND_MESSAGES | Permissions.EMBED_LINKS)
    sb.emit("GUILD_ROLE_UPDATE", {"guild_id": str(w.guild), "role": dict(role)})  # no Administrator
    denied = Permissions.VIEW_CHANNEL | Permissions.SEND_MESSAGES
    closed = sb.add_channel(w.guild, "closed", overwrites=[{"id": bot_role, "type": 0, "deny": str(denied)}])
    await sb.flush()
    await harness.settle()
    await harness.app.command_sync.wait()
    interaction = await sb.slash(w.guild, closed, w.alice, "help")
    assert not int(interaction.payload["app_permissions"]) & Permissions.SEND_MESSAGES
    reply = (await interaction.response()).json
    assert reply["data"]["embeds"][0]["title"] == i18n.t("en", "help.title")
    assert sb.rest.find("POST", "/channels/{channel_id}/messages") == []
    assert errors(caplog) == []
