"""Building blocks for buttons and other components the cogs register."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import discord

from bot import i18n
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


#: How long a form's submission waits for its handler before it is answered as expired (Discord
#: takes an answer within three seconds).
EXPIRED_AFTER_SECONDS = 2.0


async def answer_if_expired(interaction: discord.Interaction, prefix: str) -> None:
    """A form (modal) of ours submitted after a restart has no handler any more (open forms live in
    memory): unless a handler answered it meanwhile, the member is told to open it again, instead of
    Discord's "This interaction failed" and a text lost without a word."""
    if interaction.type != discord.InteractionType.modal_submit:
        return
    custom_id = str((interaction.data or {}).get("custom_id", ""))
    if not custom_id.startswith(prefix):
        return
    await asyncio.sleep(EXPIRED_AFTER_SECONDS)
    if interaction.response.is_done():
        return
    app = interaction.client.app  # type: ignore[attr-defined]
    lang = await app.lang(interaction.guild_id) if app is not None else "en"
    with contextlib.suppress(discord.HTTPException):
        await interaction.response.send_message(i18n.t(lang, "error.form_expired"), ephemeral=True)
