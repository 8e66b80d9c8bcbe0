"""Which permissions the bot may put in a channel permission overwrite. Pure: permission bit sets in.

Discord's rule for Edit Channel Permissions: an overwrite may allow or deny only permissions the bot
holds in the guild, or in the channel's parent category when the channel has one, not what the
channel's own overwrites give or take from the bot. Only when the bot holds Manage Roles ("Manage
Permissions") through an overwrite in that very channel do its permissions in the channel count. An
administrator may set anything. Asking for more is refused with 403 (Missing Permissions).
"""

from __future__ import annotations

ADMINISTRATOR = 1 << 3
MANAGE_ROLES = 1 << 28
#: Every bit: what an administrator may set.
ANY = ~0


def grantable(*, guild: int, parent: int | None, channel: int, manage_roles_overwrite: bool) -> int:
    """The bits the bot may allow or deny in an overwrite of a channel.

    `guild`: the bot's permissions in the guild (its roles); `parent`: in the channel's parent category
    (None when it has none); `channel`: in the channel itself; `manage_roles_overwrite`: an overwrite in
    the channel for the bot or one of its roles (or @everyone) allows Manage Roles.
    """
    if guild & ADMINISTRATOR:
        return ANY
    if manage_roles_overwrite and channel & MANAGE_ROLES:
        return channel
    return guild if parent is None else parent
