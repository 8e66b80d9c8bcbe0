"""Building blocks for buttons and other components the cogs register."""

from __future__ import annotations

import discord

from bot.app import reply_error


class SafeCallback:
    """Mixin for DynamicItems: discord.py only logs what their callback raises, so answer it here."""

    async def run(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self.run(interaction)
        except Exception as error:  # rendered for the user; unexpected ones are logged
            await reply_error(interaction, error)
