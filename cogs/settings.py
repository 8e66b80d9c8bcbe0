"""`/microvoice setup` and `/microvoice status`: per-community settings and what was recorded.

The sponsored-content limits (`max_sponsored_per_week`, `min_gap_hours`) are the saturation guard that
`/activation approve` enforces. The rules live in `bot.community.CommunityService`.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import i18n
from bot.app import App, MicrovoiceBot
from bot.community import (
    GAP_MAX,
    GAP_MIN,
    K_MAX,
    K_MIN,
    RETENTION_MAX,
    RETENTION_MIN,
    SPONSORED_MAX,
    SPONSORED_MIN,
    STATUS_CHANNELS,
)
from bot.discord_adapter.checks import moderator_only
from bot.discord_adapter.render import shown
from bot.errors import InvalidInput
from bot.subreddits.ids import is_reddit_id

STATUS_DAYS = 7
# Each language named in itself (and in English): the choice is read by whoever sets the server up.
# `peek`: naming a language keeps no catalog of it in memory (only the languages communities use).
LOCALE_CHOICES = [
    app_commands.Choice(name=i18n.peek(lang, "setup.language_name"), value=lang) for lang in i18n.LANGUAGES
]


#: What `clear` empties; Discord shows choice names as given (it has no Arabic or Hebrew locale).
CLEAR_CHOICES = [
    app_commands.Choice(name="moderator role", value="mod_role_id"),
    app_commands.Choice(name="report channel", value="report_channel_id"),
]
#: What the bot must be allowed in a channel it posts reports (embeds, chart and CSV) or audit lines in.
REPORT_NEEDS = ("view_channel", "send_messages", "embed_links", "attach_files")
AUDIT_NEEDS = ("view_channel", "send_messages")


def require_posting(channel: discord.TextChannel, needs: tuple[str, ...]) -> None:
    """Refuse a channel the bot could not post in (its posts there would fail, unseen, for ever)."""
    held = channel.permissions_for(channel.guild.me)
    missing = [name for name in needs if not getattr(held, name)]
    if missing:
        raise InvalidInput(
            "setup.channel_unusable",
            channel=channel.mention,
            missing=[i18n.Term(f"permission.{name}") for name in missing],
        )


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
        clear="Stop using the moderator role or the report channel",
    )
    @app_commands.choices(locale=LOCALE_CHOICES, clear=CLEAR_CHOICES)
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
        clear: app_commands.Choice[str] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        if mod_role is not None and (mod_role.is_default() or mod_role.managed):
            raise InvalidInput("setup.bad_mod_role")  # @everyone would make every member a moderator
        if report_channel is not None:
            require_posting(report_channel, REPORT_NEEDS)
        given: dict[str, object | None] = {
            "locale": locale.value if locale else None,
            "mod_role_id": mod_role.id if mod_role else None,
            "report_channel_id": report_channel.id if report_channel else None,
            "retention_days": retention_days,
            "max_sponsored_per_week": max_sponsored_per_week,
            "min_gap_hours": min_gap_hours,
            "k_anonymity": k_anonymity,
        }
        changes = {name: value for name, value in given.items() if value is not None}
        if clear is not None:
            changes[clear.value] = None
        if not changes:
            current = await self._describe(interaction)
            await interaction.response.send_message(
                await self.app.say(interaction, "setup.nothing", current=current), ephemeral=True
            )
            return
        await self.app.communities.update(interaction.guild_id, changes, by=interaction.user.id)
        lang = await self.app.lang(interaction.guild_id)
        none = i18n.t(lang, "setup.none")
        shown = {
            "locale": lambda v: i18n.t(str(v), "setup.language_name"),
            "mod_role_id": lambda v: f"<@&{v}>" if v else none,
            "report_channel_id": lambda v: f"<#{v}>" if v else none,
            "retention_days": lambda v: str(v),
            "max_sponsored_per_week": lambda v: str(v),
            "min_gap_hours": lambda v: str(v),
            "k_anonymity": lambda v: str(v),
        }
        parts = [
            i18n.t(lang, f"setup.{name.removesuffix('_id')}", value=shown[name](value))
            for name, value in changes.items()
        ]
        text = i18n.t(lang, "setup.saved", changes=i18n.t(lang, "clause_separator").join(parts))
        if changes.get("mod_role_id"):
            # The command group's default permission (Manage Server) hides it in the client; only a
            # server admin can open it to a role (Discord takes command permissions from users only).
            text += "\n" + i18n.t(lang, "setup.mod_role_visible")
        await interaction.response.send_message(text, ephemeral=True)

    async def _describe(self, interaction: discord.Interaction) -> str:
        assert interaction.guild_id is not None
        s = await self.app.community(interaction.guild_id)
        lang = s.locale
        none = i18n.t(lang, "setup.none")
        general = i18n.t(
            lang,
            "status.settings",
            locale=i18n.t(lang, "setup.language_name"),
            retention=s.retention_days,
            mod_role=f"<@&{s.mod_role_id}>" if s.mod_role_id else none,
            report_channel=f"<#{s.report_channel_id}>" if s.report_channel_id else none,
        )
        sponsored = i18n.t(
            lang, "setup.sponsored_limits", per_week=s.max_sponsored_per_week, gap=s.min_gap_hours
        )
        audit = f"<#{s.audit_channel_id}>" if s.audit_channel_id else none
        privacy = i18n.t(lang, "setup.reports_and_audit", k=s.k_anonymity, audit=audit)
        return f"{general} {sponsored} {privacy}"

    @microvoice.command(name="audit", description="Post privileged events in a channel (moderators)")
    @app_commands.describe(channel="Where to post them (leave empty to stop)")
    @moderator_only()
    async def audit(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        assert interaction.guild_id is not None
        if channel is not None:
            require_posting(channel, AUDIT_NEEDS)
        channel_id = channel.id if channel else None
        await self.app.communities.set_audit_channel(interaction.guild_id, channel_id, by=interaction.user.id)
        if channel_id is None:
            text = await self.app.say(interaction, "setup.audit_off")
        else:
            text = await self.app.say(interaction, "setup.audit_on", channel=f"<#{channel_id}>")
        await interaction.response.send_message(text, ephemeral=True)

    @microvoice.command(name="status", description="What Microvoice recorded here in the last 7 days")
    @moderator_only()
    async def status(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        lang = await self.app.lang(interaction.guild_id)
        activity = await self.app.communities.activity(
            interaction.guild_id, STATUS_DAYS, channels=STATUS_CHANNELS
        )
        embed = discord.Embed(title=i18n.t(lang, "status.title", days=STATUS_DAYS))
        if not activity.kinds:
            embed.description = i18n.t(lang, "status.empty", days=STATUS_DAYS)
        else:
            kind_text = i18n.join(
                lang, (f"{i18n.t(lang, f'kind.{k}')}: {n:,}" for k, n in activity.kinds.items())
            )
            channel_text = i18n.join(
                lang,
                # a subreddit's topic by its recorded name (a Discord mention of it would show nothing)
                (
                    f"{shown(name or 'Reddit') if is_reddit_id(c) else f'<#{c}>'} {n:,}" if c else f"{n:,}"
                    for c, name, n in activity.channels
                ),
            )
            embed.description = "\n".join(
                [
                    i18n.t(lang, "status.total", total=activity.total, members=activity.members),
                    i18n.t(lang, "status.by_kind", kinds=kind_text),
                    i18n.t(lang, "status.top_channels", channels=channel_text),
                    "",
                    await self._describe(interaction),
                    i18n.t(lang, "status.privacy"),
                ]
            )
        health = self._health(lang, interaction.guild_id)
        health += await self._reddit_health(lang, interaction.guild_id)
        if health:
            embed.description = "\n".join([embed.description or "", "", *health])
        await interaction.followup.send(embed=embed, ephemeral=True)

    def _health(self, lang: str, guild_id: int) -> list[str]:
        """Lines about the bot itself: command registration (the global commands' and this server's
        only: another server's id and error are not this server's business; or left to another
        process of the bot) and ingest losses, when not fine."""
        lines: list[str] = []
        sync = self.app.command_sync.state
        error = sync.concerning(guild_id)
        if error:
            when = discord.utils.format_dt(sync.next_attempt_at, "R") if sync.next_attempt_at else "—"
            lines.append(i18n.t(lang, "status.commands_failing", error=error[:300], when=when))
        elif sync.elsewhere and sync.next_attempt_at is not None:
            when = discord.utils.format_dt(sync.next_attempt_at, "R")
            lines.append(i18n.t(lang, "status.commands_elsewhere", when=when))
        if self.app.ingest.stats.dropped:
            lines.append(i18n.t(lang, "status.ingest_dropped", dropped=self.app.ingest.stats.dropped))
        return lines

    async def _reddit_health(self, lang: str, guild_id: int) -> list[str]:
        """Lines about this server's subreddits when Reddit is not read as it should be: the bot's
        account refused or suspended, requests failing, or a subreddit Reddit will not show it."""
        reddit, subreddits = self.app.reddit, self.app.subreddits
        if reddit is None or subreddits is None:
            return []
        bound = await subreddits.list(guild_id)
        if not bound:
            return []
        if reddit.state == "refused":
            return [i18n.t(lang, "status.reddit_refused", error=reddit.refusal or "—")]
        if reddit.suspended:
            return [i18n.t(lang, "status.reddit_suspended", bot=reddit.username)]
        lines = [i18n.t(lang, "status.reddit_failing", error=reddit.failing)] if reddit.failing else []
        for sub in bound:
            why = reddit.unreadable.get(sub.name.lower())
            if why is not None:
                reason = i18n.t(lang, f"status.reddit_why.{why}")
                lines.append(i18n.t(lang, "status.reddit_unreadable", name=sub.name, why=reason))
        return lines


async def setup(bot: MicrovoiceBot) -> None:
    assert bot.app is not None
    await bot.add_cog(Settings(bot.app))
