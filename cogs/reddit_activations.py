"""Activations in a bound subreddit, when Reddit is configured: `/activation create reddit-qa`,
`/activation create reddit-giveaway` and `/activation create reddit-announcement`.

Thin: each command is one call on `app.reddit_activations` (bot/activations/subreddit.py), which makes
every check a Discord activation gets (approved brand, the caller's right to act for it, schedule,
saturation guard counted with the community's Discord activations) and proposes it for moderators'
approval with `/activation approve`, like any other. Without Reddit credentials none of them exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from discord import app_commands
from discord.interactions import Interaction

from bot.activations.service import Proposal
from bot.app import MicrovoiceBot
from bot.discord_adapter.activation_commands import (
    actor_of,
    add_commands,
    app_of,
    create_command,
    create_group,
    created_reply,
)

if TYPE_CHECKING:
    from bot.activations.subreddit import SubredditActivations

SUBREDDIT_HELP = "A subreddit bound to this server (r/name); the post is made there"


def service(interaction: Interaction) -> SubredditActivations:
    found = app_of(interaction).reddit_activations
    assert found is not None, "registered only when Reddit is configured"
    return found


@create_command(
    "reddit-qa",
    "Propose an AMA / Q&A in a subreddit (brand managers, moderators)",
    connection_default="paid",
    brand="The brand (approved) this AMA is with",
    subreddit=SUBREDDIT_HELP,
    title="What the AMA is about (the post's title, after the disclosure)",
)
async def create_reddit_qa(
    interaction: Interaction,
    brand: int,
    subreddit: str,
    title: str,
    starts: str,
    ends: str,
    connection: app_commands.Choice[str] | None = None,
) -> None:
    actor = await actor_of(interaction)
    channel = await service(interaction).subreddit_channel(actor.community_id, subreddit)
    # The subreddit's post requirements are read from Reddit before the proposal is made: longer than
    # Discord waits for a first answer when Reddit is slow.
    await interaction.response.defer(ephemeral=True, thinking=True)
    proposal = Proposal(brand, channel, starts, ends, title, connection.value if connection else "paid")
    await created_reply(interaction, await service(interaction).create_qa(actor, proposal))


@create_command(
    "reddit-giveaway",
    "Propose a giveaway in a subreddit (brand managers, moderators)",
    connection_default="gifted",
    brand="The brand (approved) giving the prize",
    subreddit=SUBREDDIT_HELP,
    prize="The prize (the post's title, after the disclosure)",
    rules="Rules and how the prize is delivered",
    winners="How many winners (1-50)",
    min_account_days="Entrants' Reddit accounts must be at least this many days old",
    min_subreddit_days="Entrants must have been active in this community's subreddits this many days",
    min_karma="Entrants need at least this much Reddit karma",
    min_events="Entrants need at least this many contributions recorded here",
)
async def create_reddit_giveaway(
    interaction: Interaction,
    brand: int,
    subreddit: str,
    prize: str,
    rules: str,
    winners: app_commands.Range[int, 1, 50],
    starts: str,
    ends: str,
    min_account_days: app_commands.Range[int, 0, 3650] = 0,
    min_subreddit_days: app_commands.Range[int, 0, 3650] = 0,
    min_karma: app_commands.Range[int, 0, 1_000_000] = 0,
    min_events: app_commands.Range[int, 0, 100_000] = 0,
    connection: app_commands.Choice[str] | None = None,
) -> None:
    actor = await actor_of(interaction)
    channel = await service(interaction).subreddit_channel(actor.community_id, subreddit)
    # The subreddit's post requirements are read from Reddit before the proposal is made: longer than
    # Discord waits for a first answer when Reddit is slow.
    await interaction.response.defer(ephemeral=True, thinking=True)
    proposal = Proposal(brand, channel, starts, ends, prize, connection.value if connection else "gifted")
    from bot.activations.subreddit import RedditGiveawayTerms  # loaded with the Reddit side (bot/app.py)

    terms = RedditGiveawayTerms(rules, winners, min_account_days, min_subreddit_days, min_karma, min_events)
    activation, _ = await service(interaction).create_giveaway(actor, proposal, terms)
    await created_reply(interaction, activation)


@create_command(
    "reddit-announcement",
    "Propose a sponsored announcement in a subreddit (brand managers, moderators)",
    connection_default="paid",
    brand="The brand (approved) behind the announcement",
    subreddit=SUBREDDIT_HELP,
    title="The post's title, after the disclosure",
    text="The post's text, after the disclosure",
)
async def create_reddit_announcement(
    interaction: Interaction,
    brand: int,
    subreddit: str,
    title: str,
    text: str,
    starts: str,
    ends: str,
    connection: app_commands.Choice[str] | None = None,
) -> None:
    actor = await actor_of(interaction)
    channel = await service(interaction).subreddit_channel(actor.community_id, subreddit)
    # The subreddit's post requirements are read from Reddit before the proposal is made: longer than
    # Discord waits for a first answer when Reddit is slow.
    await interaction.response.defer(ephemeral=True, thinking=True)
    proposal = Proposal(brand, channel, starts, ends, title, connection.value if connection else "paid")
    await created_reply(interaction, await service(interaction).create_announcement(actor, proposal, text))


COMMANDS = (create_reddit_qa, create_reddit_giveaway, create_reddit_announcement)
add_commands(create_group, *COMMANDS)


async def setup(bot: MicrovoiceBot) -> None:
    assert bot.app is not None
    if bot.app.reddit_activations is None:
        # Discord-only: none of these commands exist (the shared group may hold them from another bot
        # built in this process).
        for command in COMMANDS:
            create_group.remove_command(command.name)
        return
    add_commands(create_group, *COMMANDS)
