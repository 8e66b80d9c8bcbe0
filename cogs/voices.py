"""`/voices`: the community's trusted micro-voices, read from stored rankings, with explanations."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import i18n
from bot.app import App, MicrovoiceBot
from bot.community import OVERRIDE_MODES
from bot.discord_adapter.checks import can_give, moderator_only
from bot.discord_adapter.moderation import DiscordModeration
from bot.discord_adapter.rankings import (
    DAY_CHOICES,
    WINDOWS,
    PageButton,
    channel_namer,
    member_mention,
    ranking_page,
    scope_label,
)
from bot.discord_adapter.render import EMBED_DESCRIPTION_MAX, fit_lines, shown
from bot.errors import InvalidInput
from bot.subreddits.ids import is_reddit_id
from bot.trust import render_why
from bot.trust.explain import COORDINATED
from bot.trust.voice_role import DEFAULT_TOP, PERCENT_MAX, PERCENT_MIN, TOP_MAX, TOP_MIN, RoleStanding
from bot.trust.voice_role_service import SyncPlan, SyncResult


def scope_for(topic: discord.abc.GuildChannel | None) -> str:
    if topic is None:
        return "all"
    if isinstance(topic, discord.CategoryChannel):
        return f"category:{topic.id}"
    return f"channel:{topic.id}"


def shown_scope(scope: str) -> bool:
    """Scopes a Discord reply can name: the whole community and Discord channels (not a subreddit's
    topics, and not the shorter look-back windows)."""
    if "@" in scope:
        return False
    kind, _, ident = scope.partition(":")
    return kind == "all" or (ident.isdigit() and not is_reddit_id(int(ident)))


class Voices(commands.Cog):
    voices = app_commands.Group(
        name="voices", description="Trusted micro-voices of this community", guild_only=True
    )

    def __init__(self, app: App) -> None:
        self.app = app

    @voices.command(name="top", description="Members this community trusts most (moderators)")
    @app_commands.describe(
        topic="A channel or category (default: the whole server)",
        days="Look back 30 or 180 days (default 180)",
        public="Show to everyone",
    )
    @app_commands.choices(days=DAY_CHOICES)
    @moderator_only()
    async def top(
        self,
        interaction: discord.Interaction,
        topic: discord.TextChannel | discord.ForumChannel | discord.CategoryChannel | None = None,
        days: app_commands.Choice[int] | None = None,
        public: bool = False,
    ) -> None:
        assert interaction.guild_id is not None
        everyone = interaction.guild.default_role if interaction.guild is not None else None
        if (
            public
            and topic is not None
            and everyone is not None
            and not topic.permissions_for(everyone).view_channel
        ):
            # Shown to everyone, a private channel's ranking would give away its name and who talks there.
            raise InvalidInput("voices.private_topic_public")
        window = days.value if days else WINDOWS[-1]
        scope = scope_for(topic)
        embed, view = await ranking_page(self.app, interaction.guild_id, scope, window)
        await interaction.response.send_message(embed=embed, view=view, ephemeral=not public)

    @voices.command(name="member", description="One member's standing and why (moderators)")
    @app_commands.describe(member="The member")
    @moderator_only()
    async def member(self, interaction: discord.Interaction, member: discord.Member) -> None:
        await self._standing(interaction, member, own=False)

    @voices.command(name="me", description="Your own standing in this community (only you see it)")
    async def me(self, interaction: discord.Interaction) -> None:
        await self._standing(interaction, interaction.user, own=True)

    async def _standing(
        self, interaction: discord.Interaction, member: discord.Member | discord.User, *, own: bool
    ) -> None:
        assert interaction.guild_id is not None
        member_id = member.id
        lang = await self.app.lang(interaction.guild_id)
        standing = [
            (s, e) for s, e in await self.app.voices.standing(interaction.guild_id, member_id) if "@" not in s
        ]
        status = await self.app.voice_roles.ranking_status(interaction.guild_id, member_id)
        who = f"<@{member_id}>"
        # Discord shows a mention in a title as raw text: the title names the member, the
        # description mentions them (which tells two members of the same name apart).
        title = i18n.t(lang, "voices.standing_title", member=shown(member.display_name))
        embed = discord.Embed(title=title[:256])
        lines = []
        if not own and status is not None:  # moderators see what keeps the member out, or pins them
            lines.append(i18n.t(lang, f"voices.status_{status}", member=who))
        if not standing and status not in (None, "pinned"):
            if own:
                lines.append(i18n.t(lang, "voices.not_in_rankings_me"))
        elif not standing and (idle := await self.app.voices.idle_days(interaction.guild_id, member_id)):
            # Not listed while away: what they gave still counts for others.
            key = "voices.not_listed_idle_me" if own else "voices.not_listed_idle"
            lines.append(i18n.t(lang, key, member=who, days=idle))
        elif not standing:
            # What it takes: the listing's own bar, relative to the established voices, where that
            # asks more than the fixed minimum.
            bar = await self.app.voices.listing_bar(interaction.guild_id)
            key = "not_ranked" if bar <= self.app.settings.trust_min_peers else "not_listed"
            lines.append(i18n.t(lang, f"voices.{key}_me" if own else f"voices.{key}", member=who, peers=bar))
            # Moderators also see what the ranking discounts in what the member received, as a
            # listed member's explanation says it (not the member: it would say what to evade).
            found = None if own else await self.app.voices.pattern(interaction.guild_id, member_id)
            if found is not None:
                share, reason = found
                pattern = i18n.t(lang, COORDINATED[reason], pct=round(share * 100))
                lines.append(i18n.t(lang, "voices.not_listed_pattern", member=who, pattern=pattern))
        else:
            topic = await channel_namer(
                self.app,
                interaction.guild_id,
                (e.why for _, e in standing[:10]),
                (s for s, _ in standing[:10]),
            )
            lines += [
                i18n.t(
                    lang,
                    "voices.standing_line",
                    scope=scope_label(scope, lang, topic),  # a subreddit's topic by name, not a mention
                    rank=e.rank,
                    why=render_why(e.why, lang, topic),
                )
                for scope, e in standing[:10]
            ]
        if not own and not any(who in line for line in lines):
            lines.insert(0, who)
        embed.description = "\n".join(lines)
        linked = (
            await self.app.links.linked_standing(interaction.guild_id, member_id) if self.app.links else None
        )
        if linked is not None:  # one standing for both identities, only for a member who linked them
            link, combined = linked
            combined_lines = [
                i18n.t(
                    lang,
                    "link.standing_line",
                    scope=scope_label(c.scope, lang),
                    rank=c.rank,
                    score=f"{c.score:.4f}",
                )
                for c in combined
                if shown_scope(c.scope)
            ]
            since = i18n.t(lang, "link.linked", name=link.reddit_name, since=link.linked_at[:10])
            embed.add_field(
                name=i18n.t(lang, "link.combined_title", name=link.reddit_name)[:256],
                value="\n".join(combined_lines[:10])[:1024] or since,
                inline=False,
            )
        if own:
            roles = await self.app.voice_roles.standing(interaction.guild_id, member_id)
            role_lines = [role_line(lang, r) for r in roles]
            if role_lines:
                head = (embed.description or "") + "\n\n"
                embed.description = head + fit_lines(
                    role_lines,
                    lambda count: i18n.t(lang, "voices.roles_more", count=count),
                    EMBED_DESCRIPTION_MAX - len(head),
                )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @voices.command(name="role", description="Give a role to the top voices of a scope (moderators)")
    @app_commands.describe(
        role="The role (leave empty to stop giving one for this scope)",
        topic="A channel or category (default: the whole server)",
        top=f"Give it to the top N members (default {DEFAULT_TOP})",
        min_score="Or give it to members at this % of the top voice's score or more",
    )
    @moderator_only()
    async def role(
        self,
        interaction: discord.Interaction,
        role: discord.Role | None = None,
        topic: discord.TextChannel | discord.ForumChannel | discord.CategoryChannel | None = None,
        top: app_commands.Range[int, TOP_MIN, TOP_MAX] | None = None,
        min_score: app_commands.Range[int, PERCENT_MIN, PERCENT_MAX] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        guild_id, by = interaction.guild_id, interaction.user.id
        if role is not None and not can_give(interaction, role):
            raise InvalidInput("brand.role_not_yours", role=role.mention)
        await interaction.response.defer(ephemeral=True, thinking=True)  # the role and channels are read
        scope = scope_for(topic)
        lang = await self.app.lang(guild_id)
        label = scope_label(scope, lang)
        if role is None:
            cleared = await self.app.voice_roles.clear(guild_id, scope)
            if cleared is not None:
                await self.app.audit.record(
                    guild_id, "voice_role_cleared", by=by, role=f"<@&{cleared.role_id}>", scope=label
                )
            await interaction.followup.send(i18n.t(lang, "voices.role_cleared", scope=label), ephemeral=True)
            return
        info = await DiscordModeration(interaction.client).role_info(guild_id, role.id)
        if info is None:
            raise InvalidInput("voices.role_deleted")
        try:
            rule = await self.app.voice_roles.configure(
                guild_id, scope, info, top_n=top, min_percent=min_score, by=by
            )
        except InvalidInput as exc:
            if "scope" in exc.params:  # the scope that already gives this role
                exc.params["scope"] = scope_label(str(exc.params["scope"]), lang)
            raise
        assert rule is not None
        await self.app.audit.record(guild_id, "voice_role_set", by=by, role=role.mention, scope=label)
        key = "voices.role_set" if rule.top_n is not None else "voices.role_set_percent"
        text = i18n.t(lang, key, role=role.mention, scope=label, **rule.bar())
        await interaction.followup.send(text, ephemeral=True)

    @voices.command(name="recompute", description="Recompute the rankings now (moderators)")
    @moderator_only()
    async def recompute(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.app.ingest.flush()
        result = await self.app.voices.recompute(interaction.guild_id)
        lang = await self.app.lang(interaction.guild_id)
        lines = [i18n.t(lang, "voices.recomputed", scopes=result.scopes, seconds=f"{result.seconds:.1f}")]
        # The role changes are made in the background: the answer says how many are left, and what
        # went wrong at the last sync that finished.
        plan = await self.app.voice_roles.planned(interaction.guild_id)
        lines += sync_lines(lang, plan, self.app.voice_roles.last_sync(interaction.guild_id))
        await interaction.followup.send("\n".join(lines)[:2000], ephemeral=True)

    @voices.command(
        name="override", description="Pin a member as trusted, exclude them, or clear it (moderators)"
    )
    @app_commands.choices(
        mode=[app_commands.Choice(name=i18n.t("en", f"voices.mode_{m}"), value=m) for m in OVERRIDE_MODES]
    )
    @app_commands.describe(
        member="The member", mode="Pin as a trusted seed, exclude from rankings, or clear either"
    )
    @moderator_only()
    async def override(
        self, interaction: discord.Interaction, member: discord.Member, mode: app_commands.Choice[str]
    ) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        # Whose standing rested on this member: read before the exclusion takes effect.
        leaning = []
        if mode.value == "exclude":
            leaning = await self.app.voices.dependents(interaction.guild_id, member.id)
        await self.app.communities.set_trust_override(
            interaction.guild_id, member.id, mode.value, by=interaction.user.id
        )
        text = await self.app.say(interaction, f"voices.override_{mode.value}", member=f"<@{member.id}>")
        if leaning:
            await self.app.activations.platform.learn_names(m for m, _ in leaning[:10])
            dependents = i18n.join(
                await self.app.lang(interaction.guild_id),
                (f"{member_mention(self.app, m)} ({round(share * 100)}%)" for m, share in leaning[:10]),
            )
            text += "\n" + await self.app.say(interaction, "voices.override_dependents", members=dependents)
        await interaction.followup.send(text, ephemeral=True)

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        """Needs the Server Members intent; without it each role sync finds who left instead."""
        await self.app.voice_roles.member_left(payload.guild_id, payload.user.id)

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        """Needs the Server Members intent; without it the member's first recorded engagement says so."""
        await self.app.voice_roles.member_returned(member.guild.id, member.id)


def role_line(lang: str, standing: RoleStanding) -> str:
    """Why the member holds a trusted-voice role or not, and what kept the bot from giving it, if
    anything did at the last recompute."""
    role = f"<@&{standing.role_id}>"
    text = i18n.t(lang, standing.key, role=role, scope=scope_label(standing.scope, lang), **standing.params)
    if standing.problem is not None:
        problem = i18n.t(lang, f"voices.role_problem.{standing.problem}")
        text += " " + i18n.t(lang, "voices.role_problem_note", problem=problem)
    elif standing.refused:
        text += " " + i18n.t(lang, "voices.role_refused_note", refused=standing.refused)
    return text


def sync_lines(lang: str, plan: SyncPlan | None, synced: SyncResult | None) -> list[str]:
    """For the moderator who asked for a recompute: the role changes the sync it started has still to
    make and the roles it cannot give (`plan`), and the failures of the last sync that finished."""
    lines = []
    if synced is not None and synced.failed:
        lines.append(i18n.t(lang, "voices.roles_sync_failed"))
    if synced is not None and synced.refused:
        lines.append(i18n.t(lang, "voices.roles_refused", refused=synced.refused))
    if plan is not None and plan.pending:
        lines.append(i18n.t(lang, "voices.roles_sync_pending", pending=plan.pending))
    blocked = plan.blocked if plan is not None else synced.blocked if synced is not None else ()
    for report in blocked:
        problem = i18n.t(lang, f"voices.role_problem.{report.problem}")
        lines.append(
            i18n.t(
                lang,
                "voices.role_blocked",
                role=f"<@&{report.role_id}>",
                scope=scope_label(report.scope, lang),
                problem=problem,
            )
        )
    return lines


async def setup(bot: MicrovoiceBot) -> None:
    assert bot.app is not None
    bot.add_dynamic_items(PageButton)
    await bot.add_cog(Voices(bot.app))
