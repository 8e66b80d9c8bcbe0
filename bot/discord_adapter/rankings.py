"""Rankings as Discord shows them: a page of trusted voices with its explanations and paging
buttons, shared by `/voices top` and `/microvoice reddit voices`. A Discord member is named by a
mention; a subreddit's members and topics, which Discord cannot mention, by their Reddit names."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot import i18n
from bot.discord_adapter.checks import RoleRequired, require_moderator
from bot.discord_adapter.components import SafeCallback, page_button, reply_error
from bot.errors import InvalidInput
from bot.ledger import parse_iso
from bot.platform import PlatformUnavailable
from bot.subreddits.ids import account_fullname, is_reddit_id
from bot.trust import Page, render_why

if TYPE_CHECKING:
    from bot.app import App

PER_PAGE = 5
WINDOWS = (30, 180)
#: The `days` option of the ranking commands (Discord has no Arabic or Hebrew client locale: option
#: choices are shown in English).
DAY_CHOICES = [app_commands.Choice(name=i18n.t("en", "voices.choice_days", days=d), value=d) for d in WINDOWS]


def scope_label(scope: str, lang: str, channel: Callable[[int], str] | None = None) -> str:
    """A scope as a reply names it: the whole community, or its channel (`channel`: how to name
    one, default a Discord mention)."""
    if scope == "all":
        return i18n.t(lang, "voices.scope_all")
    _, _, ident = scope.partition(":")
    return (channel or channel_mention)(int(ident)) if ident.isdigit() else f"<#{ident}>"


def channel_mention(channel_id: int) -> str:
    return f"<#{channel_id}>"


async def channel_namer(
    app: App, guild_id: int, whys: Iterable[dict[str, Any]], scopes: Iterable[str] = ()
) -> Callable[[int], str]:
    """How the explanations of these entries (and these scopes' titles) name a channel: a Discord
    channel by its mention, a subreddit or its topic (a channel mention of it would show no one) by
    its recorded name, all read at once."""
    parts = (params for why in whys for _, params in why.get("parts", []))
    ids = [int(params["channel_id"]) for params in parts if "channel_id" in params]
    ids += [int(ident) for _, _, ident in (scope.partition(":") for scope in scopes) if ident.isdigit()]
    reddit = [i for i in ids if is_reddit_id(i)]
    names = await app.voices.channel_names(guild_id, reddit) if reddit else {}

    def name(channel_id: int) -> str:
        if not is_reddit_id(channel_id):
            return channel_mention(channel_id)
        return discord.utils.escape_markdown(names.get(channel_id, "Reddit"))

    return name


async def channel_titler(app: App, guild_id: int, scopes: Iterable[str]) -> Callable[[int], str]:
    """How a title names a channel: by its recorded name (`#cooking`), since Discord shows a mention
    in an embed's title as raw text; by its id while no name is recorded."""
    ids = [int(ident) for _, _, ident in (scope.partition(":") for scope in scopes) if ident.isdigit()]
    names = await app.voices.channel_names(guild_id, ids) if ids else {}

    def name(channel_id: int) -> str:
        known = names.get(channel_id)
        if known is None:
            return f"#{channel_id}"
        shown = discord.utils.escape_markdown(known)
        return shown if is_reddit_id(channel_id) else f"#{shown}"

    return name


def member_mention(app: App, member_id: int) -> str:
    """A ranked member as a Discord reply names them: a mention for a Discord member; for a Reddit
    account (a subreddit's members are ranked with the server's) its u/name, or its account
    fullname while the name is not known, as text (a mention of a Reddit id would show no one)."""
    if not is_reddit_id(member_id):
        return f"<@{member_id}>"
    try:
        shown = app.activations.platform.mention(member_id)
    except PlatformUnavailable:
        shown = account_fullname(member_id)
    return discord.utils.escape_markdown(shown)


async def ranking_page(
    app: App, guild_id: int, scope: str, window: int, page: int = 0
) -> tuple[discord.Embed, discord.ui.View]:
    """One page of a scope's stored ranking over `window` days (a `WINDOWS` entry), rendered. A page
    past the end (a button from before the ranking shrank) shows the last page."""
    stored = scope if window == WINDOWS[-1] else f"{scope}@{window}d"
    found = await app.voices.top(guild_id, stored, page=max(0, page), per_page=PER_PAGE)
    if not found.entries and found.total and found.page >= found.pages:
        found = await app.voices.top(guild_id, stored, page=found.pages - 1, per_page=PER_PAGE)
    shown = Page(scope, found.entries, found.page, found.pages, found.total, found.computed_at)
    return await render_page(app, guild_id, shown, window)


async def render_page(
    app: App, guild_id: int, page: Page, window: int
) -> tuple[discord.Embed, discord.ui.View]:
    lang = await app.lang(guild_id)
    channel = await channel_namer(app, guild_id, (e.why for e in page.entries), [page.scope])
    named = await channel_titler(app, guild_id, [page.scope])
    title = i18n.t(lang, "voices.top_title", scope=scope_label(page.scope, lang, named), days=window)
    embed = discord.Embed(title=title)
    if not page.entries:
        embed.description = i18n.t(
            lang,
            "voices.empty",
            peers=app.settings.trust_min_peers,
            tenure=round(app.voices.params.seed_min_tenure_days),
        )
    else:
        await app.activations.platform.learn_names(e.member_id for e in page.entries)
        lines = [
            i18n.t(
                lang,
                "voices.line",
                rank=e.rank,
                member=member_mention(app, e.member_id),
                why=render_why(e.why, lang, channel),
            )
            for e in page.entries
        ]
        embed.description = "\n".join(lines)
    footer = i18n.t(lang, "voices.page", page=page.page + 1, pages=page.pages)
    if page.computed_at:
        # A footer cannot hold a <t:…> mention: Discord shows the embed's timestamp after it instead,
        # in each reader's own time zone.
        footer += " · " + i18n.t(lang, "voices.computed")
        embed.timestamp = parse_iso(page.computed_at)
    embed.set_footer(text=footer)
    view = discord.ui.View(timeout=None)
    if page.pages > 1:
        for delta, emoji in (
            (-1, "\N{BLACK LEFT-POINTING TRIANGLE}"),
            (1, "\N{BLACK RIGHT-POINTING TRIANGLE}"),
        ):
            target = page.page + delta
            button = PageButton(
                page.scope, target, window, disabled=not 0 <= target < page.pages, emoji=emoji
            )
            view.add_item(button)
    return embed, view


class PageButton(
    SafeCallback,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"microvoice:voices:(?P<scope>all|channel:\d+|category:\d+):(?P<page>-?\d+):(?P<window>\d+)",
):
    """A pagination button whose state lives in its custom_id, so it works after a restart."""

    def __init__(
        self, scope: str, page: int, window: int, *, disabled: bool = False, emoji: str = ""
    ) -> None:
        super().__init__(
            page_button(f"microvoice:voices:{scope}:{page}:{window}", disabled=disabled, emoji=emoji)
        )
        self.scope, self.page, self.window = scope, page, window

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PageButton:
        return cls(match["scope"], int(match["page"]), int(match["window"]))

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        try:
            if interaction.guild_id is None:
                raise InvalidInput("error.button_guild_only")
            return await require_moderator(interaction)
        except RoleRequired as exc:
            app: App = interaction.client.app  # type: ignore[attr-defined]
            await interaction.response.send_message(await app.say(interaction, exc.key), ephemeral=True)
            return False
        except Exception as error:  # discord.py would only log it: the user is answered
            await reply_error(interaction, error)
            return False

    async def run(self, interaction: discord.Interaction) -> None:
        app: App = interaction.client.app  # type: ignore[attr-defined]
        if interaction.guild_id is None:
            raise InvalidInput("error.button_guild_only")
        page = max(0, self.page)
        embed, view = await ranking_page(app, interaction.guild_id, self.scope, self.window, page)
        await interaction.response.edit_message(embed=embed, view=view)
