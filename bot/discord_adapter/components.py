"""Building blocks for buttons and other components the cogs register."""

from __future__ import annotations

import contextlib
import secrets
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


class Form(discord.ui.Modal):
    """A form (modal) of ours: its custom id is `prefix` and a token of its own, so that two members'
    forms never replace each other (`answer_if_expired` answers one that is no longer open). Titles
    are cut to Discord's 45 characters."""

    def __init__(self, *, title: str, prefix: str, timeout: float | None = MODAL_SECONDS) -> None:
        super().__init__(title=title[:45], custom_id=f"{prefix}{secrets.token_hex(8)}", timeout=timeout)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await reply_error(interaction, error)


def _form_open(interaction: discord.Interaction, custom_id: str) -> bool:
    """Whether this client holds an open form with this custom id: discord.py keeps each form it was
    sent with in its view store until it is submitted or times out, and hands its submission to it.
    (Where a discord.py keeps them elsewhere, every form counts as open: nothing is answered twice.)"""
    store = getattr(getattr(interaction.client, "_connection", None), "_view_store", None)
    forms = getattr(store, "_modals", None)
    return not isinstance(forms, dict) or custom_id in forms


async def answer_if_expired(interaction: discord.Interaction, prefix: str) -> None:
    """A form of ours submitted after a restart or after it timed out has no handler any more (open
    forms live in memory): the member is told at once to open it again, instead of Discord's "This
    interaction failed" and a text lost without a word."""
    if interaction.type != discord.InteractionType.modal_submit:
        return
    custom_id = str((interaction.data or {}).get("custom_id", ""))
    if (
        not custom_id.startswith(prefix)
        or interaction.response.is_done()
        or _form_open(interaction, custom_id)
    ):
        return
    app = interaction.client.app  # type: ignore[attr-defined]
    lang = await app.lang(interaction.guild_id) if app is not None else "en"
    with contextlib.suppress(discord.HTTPException):
        await interaction.response.send_message(i18n.t(lang, "error.form_expired"), ephemeral=True)
