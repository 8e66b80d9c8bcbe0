"""What the bot may set in a channel overwrite: Discord's rule for Edit Channel Permissions."""

from __future__ import annotations

from bot.discord_adapter.overwrites import ADMINISTRATOR, ANY, MANAGE_ROLES, grantable

SEND = 1 << 11
ATTACH = 1 << 15
EMBED = 1 << 14
VIEW = 1 << 10


def test_an_administrator_may_set_anything():
    assert grantable(guild=ADMINISTRATOR, parent=0, channel=0, manage_roles_overwrite=False) == ANY


def test_without_a_parent_the_guild_permissions_count_not_the_channels():
    # The channel's overwrites deny the bot Attach Files and give it Embed Links: neither counts.
    got = grantable(
        guild=VIEW | SEND | ATTACH | MANAGE_ROLES,
        parent=None,
        channel=VIEW | SEND | EMBED | MANAGE_ROLES,
        manage_roles_overwrite=False,
    )
    assert got == VIEW | SEND | ATTACH | MANAGE_ROLES


def test_in_a_category_the_parents_permissions_count():
    got = grantable(
        guild=VIEW | SEND | ATTACH | MANAGE_ROLES,
        parent=VIEW | SEND | MANAGE_ROLES,  # the category denies the bot Attach Files
        channel=VIEW | SEND | ATTACH | MANAGE_ROLES,
        manage_roles_overwrite=False,
    )
    assert got == VIEW | SEND | MANAGE_ROLES


def test_manage_roles_through_an_overwrite_in_the_channel_makes_the_channel_count():
    channel = VIEW | SEND | ATTACH | EMBED | MANAGE_ROLES
    assert grantable(
        guild=VIEW | MANAGE_ROLES, parent=VIEW, channel=channel, manage_roles_overwrite=True
    ) == (channel)


def test_a_manage_roles_overwrite_the_bot_does_not_end_up_holding_does_not_count():
    # An overwrite of one of its roles allows Manage Roles, its own denies it: not held in the channel.
    got = grantable(guild=VIEW | SEND, parent=None, channel=VIEW | SEND | ATTACH, manage_roles_overwrite=True)
    assert got == VIEW | SEND
