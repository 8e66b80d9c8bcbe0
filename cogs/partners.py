"""`/partner`: members opt in to (and out of) being seen by brands, under terms moderators set.

Accepting records consent (member, terms version, time, the text accepted) in the append-only consent
log; leaving takes effect at once, since every brand-facing list reads the partners table at query
time. A member who leaves the server or is banned stops being a partner too.
"""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import i18n
from bot.app import App, MicrovoiceBot
from bot.discord_adapter.checks import require_moderator, require_role
from bot.discord_adapter.components import Form, SafeCallback, answer_if_expired
from bot.discord_adapter.render import stamp
from bot.errors import InvalidInput
from bot.partners import TERMS_MAX, Terms


def terms_embed(lang: str, terms: Terms) -> discord.Embed:
    embed = discord.Embed(title=i18n.t(lang, "partner.terms_title"), description=terms.body)
    if terms.version == 0:
        embed.set_footer(text=i18n.t(lang, "partner.terms_default_footer"))
    else:
        embed.set_footer(text=i18n.t(lang, "partner.terms_footer", version=terms.version))
    return embed


class ConsentButton(
    SafeCallback,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"microvoice:partner:(?P<action>accept|decline):(?P<version>\d+)(?::(?P<lang>[a-z]{2}))?",
):
    """Accept or Decline the terms shown by /partner join. The terms version lives in the custom_id, and
    for the built-in default (version 0) the language it was shown in, so that the consent record keeps
    the very text shown even if the server's language changes before the click."""

    def __init__(self, action: str, version: int, *, label: str = "", lang: str | None = None) -> None:
        style = discord.ButtonStyle.success if action == "accept" else discord.ButtonStyle.secondary
        shown = f":{lang}" if lang and version == 0 else ""
        super().__init__(
            discord.ui.Button(
                style=style,
                label=label or action,
                custom_id=f"microvoice:partner:{action}:{version}{shown}",
            )
        )
        self.action, self.version, self.lang = action, version, lang

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ConsentButton:
        return cls(match["action"], int(match["version"]), lang=match["lang"])

    async def run(self, interaction: discord.Interaction) -> None:
        app: App = interaction.client.app  # type: ignore[attr-defined]
        guild_id, user_id = interaction.guild_id, interaction.user.id
        if guild_id is None:
            raise InvalidInput("error.button_guild_only")
        kept = self.version
        if self.action == "decline":
            partner = await app.partners.decline(guild_id, user_id, self.version)
            key = "partner.declined" if partner is None else "partner.still_partner"
            kept = partner.terms_version if partner is not None else kept
        elif await app.partners.accept(guild_id, user_id, self.version, lang=self.lang):
            key = "partner.joined"
        else:
            key = "partner.terms_changed"
        await interaction.response.edit_message(
            content=await app.say(interaction, key, version=self.version, kept=kept), embed=None, view=None
        )


#: Custom ids of the terms form: this and the opening's own token.
TERMS_FORM = "microvoice:partner:terms:"


class TermsModal(Form):
    """Moderators write a new version of the partner terms (the previous versions are kept)."""

    def __init__(self, app: App, lang: str, current: Terms) -> None:
        super().__init__(title=i18n.t(lang, "partner.modal_title"), prefix=TERMS_FORM)
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
        version = await self.app.partners.set_terms(
            interaction.guild_id, self.body.value, by=interaction.user.id
        )
        await interaction.response.send_message(
            await self.app.say(interaction, "partner.terms_saved", version=version), ephemeral=True
        )


class Partners(commands.Cog):
    partner = app_commands.Group(
        name="partner", description="The partner program: choose to be seen by brands", guild_only=True
    )

    def __init__(self, app: App) -> None:
        self.app = app

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await answer_if_expired(interaction, TERMS_FORM)

    @partner.command(name="join", description="Read the partner terms and choose to join")
    @require_role("partner join")
    async def join(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        guild_id, lang = interaction.guild_id, await self.app.lang(interaction.guild_id)
        offer = await self.app.partners.offer(guild_id, interaction.user.id)
        terms, partner = offer.terms, offer.partner
        if not offer.needs_consent:
            assert partner is not None
            await interaction.response.send_message(
                i18n.t(
                    lang, "partner.already", since=stamp(partner.opted_in_at), version=partner.terms_version
                ),
                ephemeral=True,
            )
            return
        view = discord.ui.View(timeout=None)
        for action in ("accept", "decline"):
            label = i18n.t(lang, f"partner.{action}")
            view.add_item(ConsentButton(action, terms.version, label=label, lang=lang))
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
        ended = await self.app.partners.leave(interaction.guild_id, interaction.user.id)
        key = "partner.left" if ended else "error.partner_only"
        await interaction.response.send_message(await self.app.say(interaction, key), ephemeral=True)

    @partner.command(name="status", description="What you agreed to and since when (only you see it)")
    @require_role("partner status")
    async def status(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        guild_id, lang = interaction.guild_id, await self.app.lang(interaction.guild_id)
        status = await self.app.partners.status(guild_id, interaction.user.id)
        partner = status.partner
        if partner is None:
            text = i18n.t(lang, "partner.status_none")
        elif not partner.active:
            text = i18n.t(lang, "partner.status_left", at=stamp(partner.opted_out_at))
        else:
            text = i18n.t(
                lang,
                "partner.status_active",
                since=stamp(partner.opted_in_at),
                version=partner.terms_version,
                accepted=stamp(status.accepted_at),
            )
            if status.newer_version is not None:
                text += "\n" + i18n.t(lang, "partner.status_newer", version=status.newer_version)
        await interaction.response.send_message(text, ephemeral=True)

    @partner.command(name="terms", description="Show the current partner terms")
    @require_role("partner terms")
    async def terms(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        lang = await self.app.lang(interaction.guild_id)
        terms = await self.app.partners.terms(interaction.guild_id)
        await interaction.response.send_message(embed=terms_embed(lang, terms), ephemeral=True)

    @partner.command(name="set-terms", description="Write a new version of the partner terms (moderators)")
    @require_role("partner set-terms")
    async def set_terms(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        lang = await self.app.lang(interaction.guild_id)
        current = await self.app.partners.terms(interaction.guild_id)
        await interaction.response.send_modal(TermsModal(self.app, lang, current))

    # -- leaving the server -----------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        """Needs the Server Members intent; without it /brand partners re-checks membership instead."""
        await self.app.partners.end(payload.guild_id, payload.user.id, "left_server")

    @commands.Cog.listener()
    async def on_member_ban(self, guild: discord.Guild, user: discord.User | discord.Member) -> None:
        await self.app.partners.end(guild.id, user.id, "banned")


async def setup(bot: MicrovoiceBot) -> None:
    assert bot.app is not None
    bot.add_dynamic_items(ConsentButton)
    await bot.add_cog(Partners(bot.app))
