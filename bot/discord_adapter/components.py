"""Building blocks for buttons and other components the cogs register."""

from __future__ import annotations

from typing import Any

import discord

from bot.app import reply_error

#: How long an open form (a modal) waits for its member: each opening has its own custom id, so that
#: two members' forms never replace each other, and is forgotten after this.
MODAL_SECONDS = 900.0


def page_button(custom_id: str, *, disabled: bool = False, emoji: str = "") -> discord.ui.Button[Any]:
    """The button behind a pagination DynamicItem: its state lives in `custom_id`."""
    return discord.ui.Button(
        style=discord.ButtonStyle.secondary, emoji=emoji or None, custom_id=custom_id, disabled=disabled
    )


class SafeCallback:
    """Mixin for DynamicItems: discord.py only logs what their callback raises, so answer it here."""

    async def run(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self.run(interaction)
        except Exception as error:  # rendered for the user; unexpected ones are logged
            await reply_error(interaction, error)
