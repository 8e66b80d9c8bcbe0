"""`/giveaway create|end|list`: the giveaway controls moderators know from other bots.

`create` makes a community giveaway (no brand behind it: the moderator states that no brand provided
the prize; its posts say "Community giveaway" and carry no advertising disclosure), `end` ends a live
giveaway now *with* its draw, `list` shows the running giveaways to everyone and the recent ones to
moderators. Thin: one call on `app.giveaways` (bot/activations/giveaways.py) each, then the reply.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import i18n
from bot.activations.giveaways import GiveawayTerms
from bot.activations.service import Proposal
from bot.app import App, MicrovoiceBot
from bot.discord_adapter.activation_commands import ENDS_HELP, STARTS_HELP, actor_of, ping_role_id
from bot.discord_adapter.checks import require_role
from bot.discord_adapter.render import FIELD_MAX, fit_lines, more_of


class GiveawayControls(commands.Cog):
    giveaway = app_commands.Group(name="giveaway", description="Giveaways in this server", guild_only=True)

    def __init__(self, app: App) -> None:
        self.app = app

    @giveaway.command(name="create", description="A community giveaway, no brand behind it (moderators)")
    @app_commands.describe(
        channel="Where the giveaway is posted",
        prize="What winners get (up to 200 characters)",
        rules="Official rules text (required)",
        winners="How many winners (1-50)",
        no_brand="I state that no brand provided this prize (required; shown on the post and recorded)",
        starts=STARTS_HELP,
        ends=ENDS_HELP,
        min_days="Minimum days in the community to enter",
        min_events="Minimum engagement events (messages, replies, reactions) to enter",
        required_role="Only members with this role may enter",
        ping_role="A role to ping when the giveaway opens (only that role is notified)",
    )
    @require_role("giveaway create")
    async def create(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        prize: str,
        rules: str,
        winners: app_commands.Range[int, 1, 50],
        no_brand: bool,
        starts: str = "now",
        ends: str = "+1d",
        min_days: int = 0,
        min_events: int = 0,
        required_role: discord.Role | None = None,
        ping_role: discord.Role | None = None,
    ) -> None:
        actor = await actor_of(interaction)
        proposal = Proposal(None, channel.id, starts, ends, prize, "gifted")
        terms = GiveawayTerms(
            rules=rules,
            winners=winners,
            min_days=min_days,
            min_events=min_events,
            required_role_id=required_role.id if required_role else None,
            ping_role_id=ping_role_id(actor, ping_role, channel),
        )
        approval, commitment = await self.app.giveaways.create_community(
            actor, proposal, terms, no_brand=no_brand
        )
        activation = approval.activation
        text = await self.app.say(
            interaction,
            "giveaway.community_created",
            id=activation.id,
            prize=i18n.isolate(activation.title),
            channel=channel.mention,
            start=discord.utils.format_dt(activation.starts_at, "f"),
            commitment=commitment,
        )
        await interaction.response.send_message(text, ephemeral=True)
        if approval.starts_now:  # it opens now (after the quick reply)
            await self.app.activations.advance(activation.id)

    @giveaway.command(name="end", description="End a running giveaway now and draw its winners (moderators)")
    @app_commands.describe(activation_id="The giveaway's number (see /giveaway list)")
    @app_commands.rename(activation_id="id")
    @require_role("giveaway end")
    async def end(self, interaction: discord.Interaction, activation_id: int) -> None:
        actor = await actor_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)  # the draw and the results post
        ended = await self.app.giveaways.end_now(actor, activation_id)
        # named by its own platform: a subreddit as r/name (a Discord mention of it shows "#unknown")
        where = self.app.activations.where(ended.channel_id)
        text = await self.app.say(interaction, "giveaway.ended_now", id=ended.id, channel=where)
        await interaction.followup.send(text, ephemeral=True)

    @giveaway.command(name="list", description="Running giveaways (moderators also see recent ones)")
    @require_role("giveaway list")
    async def list_(self, interaction: discord.Interaction) -> None:
        actor = await actor_of(interaction)
        lang = await self.app.lang(interaction.guild_id)
        running, recent = await self.app.giveaways.listing(actor, lang)
        embed = discord.Embed(title=i18n.t(lang, "giveaway.list_title"))
        embed.add_field(
            name=i18n.t(lang, "giveaway.list_running"),
            value=fit_lines(running, more_of(lang), FIELD_MAX)
            if running
            else i18n.t(lang, "giveaway.list_none"),
            inline=False,
        )
        if actor.is_moderator:
            embed.add_field(
                name=i18n.t(lang, "giveaway.list_recent"),
                value=fit_lines(recent, more_of(lang), FIELD_MAX)
                if recent
                else i18n.t(lang, "giveaway.list_none"),
                inline=False,
            )
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: MicrovoiceBot) -> None:
    assert bot.app is not None
    await bot.add_cog(GiveawayControls(bot.app))
