"""Reddit, when configured: `/microvoice reddit add|remove|flair|list|voices` (moderators bind
subreddits to this server's community, choose the flair of sponsored posts and see a subreddit's
trusted voices) and `/link reddit|status|remove`
(members link their own Reddit account).

The rules live in `bot.subreddits.SubredditService` and `bot.links.LinkService`. Without Reddit
credentials this extension adds no command at all, so a Discord-only bot is exactly as before.
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot import i18n
from bot.app import App, MicrovoiceBot
from bot.discord_adapter.checks import moderator_only
from bot.discord_adapter.rankings import DAY_CHOICES, WINDOWS, channel_namer, ranking_page, scope_label
from bot.discord_adapter.render import fit_lines, stamp


class SubredditCommands(app_commands.Group):
    """`/microvoice reddit …`, nested in the settings group."""

    parent_name = "microvoice"

    def __init__(self, app: App) -> None:
        super().__init__(name="reddit", description="Subreddits that are part of this community (moderators)")
        self.app = app

    @property
    def service(self):  # noqa: ANN201 - the service exists whenever this group is registered
        assert self.app.subreddits is not None
        return self.app.subreddits

    @app_commands.command(name="add", description="Bind a subreddit you moderate to this community")
    @app_commands.describe(subreddit="The subreddit, as r/name")
    @moderator_only()
    async def add(self, interaction: discord.Interaction, subreddit: str) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        link = (
            await self.app.links.link(interaction.guild_id, interaction.user.id) if self.app.links else None
        )
        bound = await self.service.bind(
            interaction.guild_id,
            subreddit,
            by=interaction.user.id,
            by_reddit_name=link.reddit_name if link else None,
        )
        lang = await self.app.lang(interaction.guild_id)
        text = (
            i18n.t(lang, "reddit.added", name=bound.name)
            + "\n"
            + i18n.t(lang, "reddit.added_mod" if bound.bot_moderates else "reddit.added_no_mod")
        )
        await interaction.followup.send(text, ephemeral=True)

    @app_commands.command(name="remove", description="Unbind a subreddit from this community")
    @app_commands.describe(subreddit="The subreddit, as r/name")
    @moderator_only()
    async def remove(self, interaction: discord.Interaction, subreddit: str) -> None:
        assert interaction.guild_id is not None
        removed = await self.service.unbind(interaction.guild_id, subreddit)
        await interaction.response.send_message(
            await self.app.say(interaction, "reddit.removed", name=removed.name), ephemeral=True
        )

    @app_commands.command(name="flair", description="The link flair sponsored posts get in a subreddit")
    @app_commands.describe(
        subreddit="A subreddit bound to this server, as r/name",
        flair="The flair's text as the subreddit spells it (leave empty for none)",
    )
    @moderator_only()
    async def flair(self, interaction: discord.Interaction, subreddit: str, flair: str | None = None) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        chosen = await self.service.set_sponsored_flair(interaction.guild_id, subreddit, flair)
        name = subreddit.strip().removeprefix("r/")
        key, params = ("reddit.flair_set", {"flair": chosen}) if chosen else ("reddit.flair_cleared", {})
        text = await self.app.say(interaction, key, name=name, **params)
        await interaction.followup.send(text, ephemeral=True)

    @app_commands.command(name="voices", description="Members a bound subreddit trusts most")
    @app_commands.describe(
        subreddit="A subreddit bound to this server, as r/name",
        days="Look back 30 or 180 days (default 180)",
        public="Show to everyone",
    )
    @app_commands.choices(days=DAY_CHOICES)
    @moderator_only()
    async def voices(
        self,
        interaction: discord.Interaction,
        subreddit: str,
        days: app_commands.Choice[int] | None = None,
        public: bool = False,
    ) -> None:
        """`/voices top` for a subreddit: its members ranked on its comments, paged the same way."""
        assert interaction.guild_id is not None
        bound = await self.service.bound_in(interaction.guild_id, subreddit)
        window = days.value if days else WINDOWS[-1]
        scope = f"category:{bound.subreddit_id}"
        embed, view = await ranking_page(self.app, interaction.guild_id, scope, window)
        await interaction.response.send_message(embed=embed, view=view, ephemeral=not public)

    @app_commands.command(name="list", description="The subreddits bound to this community")
    @moderator_only()
    async def list_(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        lang = await self.app.lang(interaction.guild_id)
        bound = await self.service.list(interaction.guild_id)
        embed = discord.Embed(title=i18n.t(lang, "reddit.list_title"))
        lines = [
            i18n.t(
                lang,
                "reddit.list_line",
                name=b.name,
                added=stamp(b.added_at),
                mod=i18n.t(lang, "reddit.list_mod" if b.bot_moderates else "reddit.list_no_mod"),
            )
            for b in bound
        ]
        embed.description = fit_lines(
            lines, lambda count: i18n.t(lang, "reddit.list_more", count=count)
        ) or i18n.t(lang, "reddit.list_empty")
        await interaction.response.send_message(embed=embed, ephemeral=True)


class LinkCommands(app_commands.Group):
    """`/link …`: a member's own, opt-in link between this Discord identity and a Reddit account."""

    def __init__(self, app: App) -> None:
        super().__init__(name="link", description="Link your Reddit account (optional)", guild_only=True)
        self.app = app

    @property
    def service(self):  # noqa: ANN201 - the service exists whenever this group is registered
        assert self.app.links is not None
        return self.app.links

    @app_commands.command(name="reddit", description="Link your Reddit account with a one-time code")
    @app_commands.describe(username="Your Reddit username, as u/name")
    async def reddit(self, interaction: discord.Interaction, username: str) -> None:
        assert interaction.guild_id is not None
        started = await self.service.start(interaction.guild_id, interaction.user.id, username)
        await interaction.response.send_message(
            await self.app.say(
                interaction,
                "link.start",
                name=started.reddit_name,
                bot=started.bot_account,
                code=started.code,
            ),
            ephemeral=True,
        )

    @app_commands.command(name="status", description="Your linked Reddit account and combined standing")
    async def status(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        lang = await self.app.lang(interaction.guild_id)
        link = await self.service.link(interaction.guild_id, interaction.user.id)
        if link is None:
            await interaction.response.send_message(i18n.t(lang, "link.pending"), ephemeral=True)
            return
        embed = discord.Embed(title=i18n.t(lang, "link.standing_title", name=link.reddit_name))
        combined = [
            c
            for c in await self.service.combined_standing(interaction.guild_id, interaction.user.id)
            if "@" not in c.scope
        ]
        lines = [i18n.t(lang, "link.linked", name=link.reddit_name, since=stamp(link.linked_at))]
        # "channel:<id>" as the reply names it: a Discord channel mentioned, a subreddit's topic by name
        topic = await channel_namer(self.app, interaction.guild_id, (), (c.scope for c in combined[:10]))
        lines += [
            i18n.t(
                lang,
                "link.standing_line",
                scope=scope_label(c.scope, lang, topic),
                rank=c.rank,
                score=f"{c.score:.4f}",
            )
            for c in combined[:10]
        ]
        embed.description = "\n".join(lines)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="remove", description="Unlink your Reddit account now")
    async def remove(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        removed = await self.service.remove(interaction.guild_id, interaction.user.id)
        await interaction.response.send_message(
            await self.app.say(interaction, "link.removed" if removed else "link.nothing_to_remove"),
            ephemeral=True,
        )


async def setup(bot: MicrovoiceBot) -> None:
    app = bot.app
    assert app is not None
    if app.reddit is None:
        return  # Discord-only: no Reddit command is registered
    settings_group = bot.tree.get_command(SubredditCommands.parent_name)
    assert isinstance(settings_group, app_commands.Group), "the settings extension loads first"
    settings_group.add_command(SubredditCommands(app))
    bot.tree.add_command(LinkCommands(app))
