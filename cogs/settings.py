"""`/microvoice setup` and `/microvoice status`: per-community settings and what was recorded.

The sponsored-content limits (`max_sponsored_per_week`, `min_gap_hours`) are the saturation guard that
`/activation approve` enforces (see cogs/activations.py).
"""

from __future__ import annotations

from datetime import timedelta

import discord
from discord import app_commands
from discord.ext import commands

from bot import i18n
from bot.app import App, MicrovoiceBot
from bot.errors import InvalidInput
from bot.reports.privacy import K_MAX, K_MIN, validate_k
from cogs.checks import moderator_only

RETENTION_MIN, RETENTION_MAX = 1, 3650
SPONSORED_MIN, SPONSORED_MAX = 0, 50
GAP_MIN, GAP_MAX = 0, 720
STATUS_DAYS = 7
LOCALE_CHOICES = [
    app_commands.Choice(name="English", value="en"),
    app_commands.Choice(name="العربية (Arabic)", value="ar"),
    app_commands.Choice(name="עברית (Hebrew)", value="he"),
]


class Settings(commands.Cog):
    microvoice = app_commands.Group(
        name="microvoice",
        description="Microvoice settings and status",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, app: App) -> None:
        self.app = app

    @microvoice.command(name="setup", description="Configure Microvoice for this server (moderators)")
    @app_commands.describe(
        locale="Language of Microvoice's messages and disclosure tags",
        mod_role="Members with this role count as moderators for Microvoice",
        report_channel="Where scheduled reports are posted",
        retention_days=f"Days to keep raw engagement events ({RETENTION_MIN}-{RETENTION_MAX})",
        max_sponsored_per_week=f"Most sponsored activations in any 7 days ({SPONSORED_MIN}-{SPONSORED_MAX})",
        min_gap_hours=f"Fewest hours between two sponsored activations ({GAP_MIN}-{GAP_MAX})",
        k_anonymity=f"Reports hide figures about fewer members than this ({K_MIN}-{K_MAX}, default 5)",
    )
    @app_commands.choices(locale=LOCALE_CHOICES)
    @moderator_only()
    async def setup(
        self,
        interaction: discord.Interaction,
        locale: app_commands.Choice[str] | None = None,
        mod_role: discord.Role | None = None,
        report_channel: discord.TextChannel | None = None,
        retention_days: app_commands.Range[int, RETENTION_MIN, RETENTION_MAX] | None = None,
        max_sponsored_per_week: app_commands.Range[int, SPONSORED_MIN, SPONSORED_MAX] | None = None,
        min_gap_hours: app_commands.Range[int, GAP_MIN, GAP_MAX] | None = None,
        k_anonymity: app_commands.Range[int, K_MIN, K_MAX] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        changes: dict[str, object] = {}
        if locale is not None:
            if locale.value not in i18n.LANGUAGES:
                raise InvalidInput("error.bad_locale", choices=", ".join(i18n.LANGUAGES))
            changes["locale"] = locale.value
        if mod_role is not None:
            changes["mod_role_id"] = mod_role.id
        if report_channel is not None:
            changes["report_channel_id"] = report_channel.id
        if retention_days is not None:
            if not RETENTION_MIN <= retention_days <= RETENTION_MAX:
                raise InvalidInput("error.bad_retention", low=RETENTION_MIN, high=RETENTION_MAX)
            changes["retention_days"] = retention_days
        if max_sponsored_per_week is not None:
            if not SPONSORED_MIN <= max_sponsored_per_week <= SPONSORED_MAX:
                raise InvalidInput("error.bad_sponsored", low=SPONSORED_MIN, high=SPONSORED_MAX)
            changes["max_sponsored_per_week"] = max_sponsored_per_week
        if min_gap_hours is not None:
            if not GAP_MIN <= min_gap_hours <= GAP_MAX:
                raise InvalidInput("error.bad_gap", low=GAP_MIN, high=GAP_MAX)
            changes["min_gap_hours"] = min_gap_hours
        if k_anonymity is not None:
            changes["k_anonymity"] = validate_k(k_anonymity)
        if not changes:
            current = await self._describe(interaction)
            await interaction.response.send_message(
                await self.app.say(interaction, "setup.nothing", current=current), ephemeral=True
            )
            return
        await self.app.store.update_settings(
            interaction.guild_id, changes, by=interaction.user.id, now=self.app.clock()
        )
        self.app.forget_locale(interaction.guild_id)
        lang = await self.app.lang(interaction.guild_id)
        shown = {
            "locale": lambda v: str(v),
            "mod_role_id": lambda v: f"<@&{v}>",
            "report_channel_id": lambda v: f"<#{v}>",
            "retention_days": lambda v: str(v),
            "max_sponsored_per_week": lambda v: str(v),
            "min_gap_hours": lambda v: str(v),
            "k_anonymity": lambda v: str(v),
        }
        parts = [
            i18n.t(lang, f"setup.{name.removesuffix('_id')}", value=shown[name](value))
            for name, value in changes.items()
        ]
        await interaction.response.send_message(
            i18n.t(lang, "setup.saved", changes="; ".join(parts)), ephemeral=True
        )

    async def _describe(self, interaction: discord.Interaction) -> str:
        assert interaction.guild_id is not None
        s = await self.app.community(interaction.guild_id)
        lang = s.locale
        none = i18n.t(lang, "setup.none")
        general = i18n.t(
            lang,
            "status.settings",
            locale=s.locale,
            retention=s.retention_days,
            mod_role=f"<@&{s.mod_role_id}>" if s.mod_role_id else none,
            report_channel=f"<#{s.report_channel_id}>" if s.report_channel_id else none,
        )
        sponsored = i18n.t(
            lang, "setup.sponsored_limits", per_week=s.max_sponsored_per_week, gap=s.min_gap_hours
        )
        return f"{general} {sponsored}"

    @microvoice.command(name="status", description="What Microvoice recorded here in the last 7 days")
    @moderator_only()
    async def status(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        # Make the summary include what is still buffered.
        await self.app.ingest.flush()
        guild_id = interaction.guild_id
        lang = await self.app.lang(guild_id)
        since = self.app.clock() - timedelta(days=STATUS_DAYS)
        kinds = await self.app.store.event_counts(guild_id, since)
        embed = discord.Embed(title=i18n.t(lang, "status.title", days=STATUS_DAYS))
        if not kinds:
            embed.description = i18n.t(lang, "status.empty", days=STATUS_DAYS)
        else:
            members = await self.app.store.distinct_actors(guild_id, since)
            channels = await self.app.store.channel_counts(guild_id, since)
            kind_text = ", ".join(f"{i18n.t(lang, f'kind.{k}')}: {n}" for k, n in kinds.items())
            channel_text = ", ".join(f"<#{c}> {n}" if c else f"{n}" for c, _, n in channels[:5])
            embed.description = "\n".join(
                [
                    i18n.t(lang, "status.total", total=sum(kinds.values()), members=members),
                    i18n.t(lang, "status.by_kind", kinds=kind_text),
                    i18n.t(lang, "status.top_channels", channels=channel_text),
                    "",
                    await self._describe(interaction),
                    i18n.t(lang, "status.privacy"),
                ]
            )
        await interaction.followup.send(embed=embed, ephemeral=True)


async def setup(bot: MicrovoiceBot) -> None:
    assert bot.app is not None
    await bot.add_cog(Settings(bot.app))
