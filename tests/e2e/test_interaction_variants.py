"""Interactions in the shapes Discord documents besides the usual one: from a DM (a `user`, no
`member`), in any client locale or server locale (supported or not), and where the bot's own
permissions (`app_permissions`) lack what posting in the channel needs."""

from __future__ import annotations

import logging

import discord
import pytest

from bot import i18n
from sandbox.discord_server import Permissions
from tests.e2e.conftest import MANAGE_GUILD, Harness

EPHEMERAL = 1 << 6


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


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
