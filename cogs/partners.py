"""`/partner`: members opt in to (and out of) being seen by brands, under terms moderators set.

Accepting records consent (member, terms version, time) in the append-only consent log; leaving takes
effect at once, since every brand-facing list reads the partners table at query time. A member who
leaves the server or is banned stops being a partner too.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import i18n
from bot.app import App, MicrovoiceBot, reply_error
from bot.ledger import parse_iso
from bot.partners import TERMS_MAX, Terms, clean_terms, default_terms, needs_consent
from cogs.checks import require_moderator, require_role

log = logging.getLogger(__name__)


def stamp(at: str | None) -> str:
    """An ISO time as Discord renders it in the reader's own time zone (`<t:...:f>`)."""
    if not at:
        return "—"
    return f"<t:{int(parse_iso(at).timestamp())}:f>"


async def terms_for(app: App, guild_id: int) -> Terms:
    return await app.store.current_terms(guild_id) or default_terms(await app.lang(guild_id))


def terms_embed(lang: str, terms: Terms) -> discord.Embed:
    embed = discord.Embed(title=i18n.t(lang, "partner.terms_title"), description=terms.body)
    if terms.version == 0:
        embed.set_footer(text=i18n.t(lang, "partner.terms_default_footer"))
    else:
        embed.set_footer(text=i18n.t(lang, "partner.terms_footer", version=terms.version))
    return embed


class SafeCallback:
    """Mixin for DynamicItems: discord.py only logs what their callback raises, so answer it here."""

    async def run(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self.run(interaction)
        except Exception as error:  # rendered for the user; unexpected ones are logged
            await reply_error(interaction, error)


class ConsentButton(
    SafeCallback,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"microvoice:partner:(?P<action>accept|decline):(?P<version>\d+)",
):
    """Accept or Decline the terms shown by /partner join; the terms version lives in the custom_id."""

    def __init__(self, action: str, version: int, *, label: str = "") -> None:
        style = discord.ButtonStyle.success if action == "accept" else discord.ButtonStyle.secondary
        super().__init__(
            discord.ui.Button(
                style=style, label=label or action, custom_id=f"microvoice:partner:{action}:{version}"
            )
        )
        self.action, self.version = action, version

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ConsentButton:
        return cls(match["action"], int(match["version"]))

    async def run(self, interaction: discord.Interaction) -> None:
        app: App = interaction.client.app  # type: ignore[attr-defined]
        guild_id, user_id = interaction.guild_id, interaction.user.id
        if guild_id is None:
            return
        now = app.clock()
        if self.action == "decline":
            await app.store.log_consent(guild_id, user_id, "declined", self.version, now=now)
            key = "partner.declined"
        elif await app.store.accept_terms(guild_id, user_id, self.version, now=now):
            key = "partner.joined"
            log.info(
                "member %s joined the partner program of %s (terms v%s)", user_id, guild_id, self.version
            )
        else:
            key = "partner.terms_changed"
        await interaction.response.edit_message(
            content=await app.say(interaction, key, version=self.version), embed=None, view=None
        )


class TermsModal(discord.ui.Modal):
    """Moderators write a new version of the partner terms (the previous versions are kept)."""

    def __init__(self, app: App, lang: str, current: Terms) -> None:
        super().__init__(title=i18n.t(lang, "partner.modal_title")[:45], timeout=900)
        self.app = app
        self.body: discord.ui.TextInput[TermsModal] = discord.ui.TextInput(
            label=i18n.t(lang, "partner.modal_label")[:45],
            style=discord.TextStyle.paragraph,
            default=current.body[:TERMS_MAX],
            max_length=TERMS_MAX,
            custom_id="microvoice:partner:terms-body",
        )
        self.add_item(self.body)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        await require_moderator(interaction)  # again: the role may have changed while typing
        body = clean_terms(self.body.value)
        version = await self.app.store.add_terms(
            interaction.guild_id, body, by=interaction.user.id, now=self.app.clock()
        )
        await interaction.response.send_message(
            await self.app.say(interaction, "partner.terms_saved", version=version), ephemeral=True
        )

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await reply_error(interaction, error)


class Partners(commands.Cog):
    partner = app_commands.Group(
        name="partner", description="The partner program: choose to be seen by brands", guild_only=True
    )

    def __init__(self, app: App) -> None:
        self.app = app

    @partner.command(name="join", description="Read the partner terms and choose to join")
    @require_role("partner join")
    async def join(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        guild_id, lang = interaction.guild_id, await self.app.lang(interaction.guild_id)
        terms = await terms_for(self.app, guild_id)
        partner = await self.app.store.get_partner(guild_id, interaction.user.id)
        if not needs_consent(partner, terms):
            assert partner is not None
            await interaction.response.send_message(
                i18n.t(
                    lang, "partner.already", since=stamp(partner.opted_in_at), version=partner.terms_version
                ),
                ephemeral=True,
            )
            return
        view = discord.ui.View(timeout=None)
        view.add_item(ConsentButton("accept", terms.version, label=i18n.t(lang, "partner.accept")))
        view.add_item(ConsentButton("decline", terms.version, label=i18n.t(lang, "partner.decline")))
        intro = i18n.t(lang, "partner.join_intro")
        if partner is not None and partner.active:
            intro = i18n.t(lang, "partner.join_newer", version=partner.terms_version)
        await interaction.response.send_message(
            intro, embed=terms_embed(lang, terms), view=view, ephemeral=True
        )

    @partner.command(name="leave", description="Leave the partner program now")
    @require_role("partner leave")
    async def leave(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        ended = await self.app.store.end_partnership(
            interaction.guild_id, interaction.user.id, "left", now=self.app.clock()
        )
        key = "partner.left" if ended else "error.partner_only"
        await interaction.response.send_message(await self.app.say(interaction, key), ephemeral=True)

    @partner.command(name="status", description="What you agreed to and since when (only you see it)")
    @require_role("partner status")
    async def status(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        guild_id, lang = interaction.guild_id, await self.app.lang(interaction.guild_id)
        partner = await self.app.store.get_partner(guild_id, interaction.user.id)
        terms = await terms_for(self.app, guild_id)
        if partner is None:
            text = i18n.t(lang, "partner.status_none")
        elif not partner.active:
            text = i18n.t(lang, "partner.status_left", at=stamp(partner.opted_out_at))
        else:
            history = await self.app.store.consent_history(guild_id, interaction.user.id)
            accepted = next(
                (
                    e.at
                    for e in reversed(history)
                    if e.action == "accepted" and e.terms_version == partner.terms_version
                ),
                partner.opted_in_at,
            )
            text = i18n.t(
                lang,
                "partner.status_active",
                since=stamp(partner.opted_in_at),
                version=partner.terms_version,
                accepted=stamp(accepted),
            )
            if terms.version > partner.terms_version:
                text += "\n" + i18n.t(lang, "partner.status_newer", version=terms.version)
        await interaction.response.send_message(text, ephemeral=True)

    @partner.command(name="terms", description="Show the current partner terms")
    @require_role("partner terms")
    async def terms(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        lang = await self.app.lang(interaction.guild_id)
        terms = await terms_for(self.app, interaction.guild_id)
        await interaction.response.send_message(embed=terms_embed(lang, terms), ephemeral=True)

    @partner.command(name="set-terms", description="Write a new version of the partner terms (moderators)")
    @require_role("partner set-terms")
    async def set_terms(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        lang = await self.app.lang(interaction.guild_id)
        current = await terms_for(self.app, interaction.guild_id)
        await interaction.response.send_modal(TermsModal(self.app, lang, current))

    # -- leaving the server -----------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        """Needs the Server Members intent; without it /brand partners re-checks membership instead."""
        if await self.app.store.end_partnership(
            payload.guild_id, payload.user.id, "left_server", now=self.app.clock()
        ):
            log.info("partner %s left server %s", payload.user.id, payload.guild_id)

    @commands.Cog.listener()
    async def on_member_ban(self, guild: discord.Guild, user: discord.User | discord.Member) -> None:
        if await self.app.store.end_partnership(guild.id, user.id, "banned", now=self.app.clock()):
            log.info("partner %s was banned from %s", user.id, guild.id)


async def setup(bot: MicrovoiceBot) -> None:
    assert bot.app is not None
    bot.add_dynamic_items(ConsentButton)
    await bot.add_cog(Partners(bot.app))
