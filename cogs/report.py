"""`/report community [days]` and `/report activation id`, the weekly digest and the report an activation
posts to the report channel when it ends. The figures, k-anonymity, chart and CSV come from
`bot.reports.ReportService`; this cog defers, calls it, and turns its result into an embed with files.

Jobs: `report-digest` (hourly; posts last week's digest once per community and week, claimed in the
database) is registered when the cog loads and run once when the gateway is ready, so a digest missed
while the bot was down is posted at start-up. An activation's end reaches this cog as the
`activation_ended` event the activation engine dispatches after its end hook (cogs/activations.py).
"""

from __future__ import annotations

import asyncio
import io
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.activations import Activation
from bot.app import App, MicrovoiceBot
from bot.reports.service import DAYS_DEFAULT, DAYS_MAX, DAYS_MIN, RenderedReport
from cogs.checks import RoleRequired, require_moderator, require_role

log = logging.getLogger(__name__)

DIGEST_JOB = "report-digest"
DIGEST_EVERY_MINUTES = 60
EMBED_COLOUR = 0x5865F2


def embed_of(report: RenderedReport) -> tuple[discord.Embed, list[discord.File]]:
    png = next(f for f in report.files if f.name.endswith(".png"))
    embed = discord.Embed(title=report.title, description="\n".join(report.lines)[:4000], colour=EMBED_COLOUR)
    embed.set_image(url=f"attachment://{png.name}")
    files = [discord.File(io.BytesIO(f.data), filename=f.name) for f in report.files]
    return embed, files


class DiscordReportSink:
    """Posts scheduled reports in a channel (the moderators' report channel)."""

    def __init__(self, bot: MicrovoiceBot) -> None:
        self.bot = bot

    async def post_report(self, community_id: int, channel_id: int, report: RenderedReport) -> None:
        channel = self.bot.get_channel(channel_id) or await self.bot.fetch_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            raise TypeError(f"report channel {channel_id} of community {community_id} cannot take messages")
        embed, files = embed_of(report)
        await channel.send(embed=embed, files=files)


class Reports(commands.Cog):
    report = app_commands.Group(name="report", description="Aggregate reports", guild_only=True)

    def __init__(self, bot: MicrovoiceBot, app: App) -> None:
        self.bot = bot
        self.app = app
        self.sink = DiscordReportSink(bot)
        self._boot: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        self.app.scheduler.every_minutes(DIGEST_JOB, DIGEST_EVERY_MINUTES, self.run_digests)
        self._boot = asyncio.create_task(self._digest_at_boot())

    async def cog_unload(self) -> None:
        if self._boot is not None and not self._boot.done():
            self._boot.cancel()

    async def _digest_at_boot(self) -> None:
        await self.bot.wait_until_ready()
        await self.run_digests()

    async def run_digests(self) -> int:
        await self.app.ingest.flush()
        return await self.app.reports.post_weekly_digests(self.sink)

    @commands.Cog.listener()
    async def on_activation_ended(self, activation: Activation) -> None:
        try:
            await self.app.ingest.flush()
            await self.app.reports.post_activation_ended(self.sink, activation)
        except Exception:
            log.exception("the report of activation %s could not be posted", activation.id)

    @report.command(name="community", description="Community health over the last days (moderators)")
    @app_commands.describe(
        days=f"How many days, today included ({DAYS_MIN}-{DAYS_MAX}, default {DAYS_DEFAULT})"
    )
    @require_role("report community")
    async def community(
        self,
        interaction: discord.Interaction,
        days: app_commands.Range[int, DAYS_MIN, DAYS_MAX] = DAYS_DEFAULT,
    ) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.app.ingest.flush()
        report = await self.app.reports.community_report(interaction.guild_id, days)
        embed, files = embed_of(report)
        await interaction.followup.send(embed=embed, files=files, ephemeral=True)

    @report.command(
        name="activation", description="An activation's results (moderators or its brand's managers)"
    )
    @app_commands.describe(activation_id="The activation's number (see /activation list)")
    @app_commands.rename(activation_id="id")
    @require_role("report activation")
    async def activation(self, interaction: discord.Interaction, activation_id: int) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            moderator = await require_moderator(interaction)
        except RoleRequired:
            moderator = False
        await self.app.ingest.flush()
        report = await self.app.reports.activation_report(
            interaction.guild_id, activation_id, member_id=interaction.user.id, moderator=moderator
        )
        embed, files = embed_of(report)
        await interaction.followup.send(embed=embed, files=files, ephemeral=True)


async def setup(bot: MicrovoiceBot) -> None:
    assert bot.app is not None
    await bot.add_cog(Reports(bot, bot.app))
