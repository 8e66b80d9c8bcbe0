"""Giveaways and unique discount codes on Discord: `/activation create giveaway`, `/activation reroll`,
`/activation codes`, `/activation redemptions`, and the Enter / Leave / Claim prize / Get a code buttons.

Thin: each command or click is one call on `app.giveaways` (bot/activations/giveaways.py), then the
reply. The buttons are dynamic items: the activation id is in their custom_id (posted by the service
as actions) and every state lives in the database, so they keep working after a restart.
"""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands

from bot import i18n
from bot.activations.giveaways import CLAIM, CODE, ENTER, LEAVE, GiveawayTerms
from bot.activations.service import Proposal
from bot.app import App, MicrovoiceBot, reply_error
from bot.discord_adapter.activation_commands import (
    activation_group,
    actor_of,
    add_commands,
    app_of,
    create_command,
    create_group,
    created_reply,
    ping_role_id,
    reader,
)
from bot.discord_adapter.checks import require_role
from bot.discord_adapter.platform import member_of
from bot.errors import InvalidInput

_ROLE = re.compile(r"<@&(\d+)>|(\d{5,25})")


# -- buttons ----------------------------------------------------------------------------------------


class _ActivationButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"microvoice:activation:base:(?P<id>\d+)"
):
    """A button whose custom_id is `<prefix>:<activation id>`; subclasses implement `run`."""

    prefix = ""

    def __init__(self, activation_id: int) -> None:
        super().__init__(discord.ui.Button(custom_id=f"{self.prefix}:{activation_id}"))
        self.activation_id = activation_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> _ActivationButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self.run(interaction, app_of(interaction))
        except Exception as exc:
            await reply_error(interaction, exc)

    async def run(self, interaction: discord.Interaction, app: App) -> None:
        raise NotImplementedError


class EnterButton(_ActivationButton, template=ENTER + r":(?P<id>\d+)"):
    prefix = ENTER

    async def run(self, interaction: discord.Interaction, app: App) -> None:
        actor = await actor_of(interaction)
        # Eligibility may wait for the ingest buffer to be written (a giveaway opening under load):
        # acknowledged within Discord's three seconds, answered when known.
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await app.giveaways.enter(actor, self.activation_id, member_of(interaction.user))
        await interaction.followup.send(await app.say(interaction, f"giveaway.{outcome}"), ephemeral=True)


class LeaveButton(_ActivationButton, template=LEAVE + r":(?P<id>\d+)"):
    prefix = LEAVE

    async def run(self, interaction: discord.Interaction, app: App) -> None:
        outcome = await app.giveaways.leave(await actor_of(interaction), self.activation_id)
        await interaction.response.send_message(
            await app.say(interaction, f"giveaway.{outcome}"), ephemeral=True
        )


class ClaimPrizeButton(_ActivationButton, template=CLAIM + r":(?P<id>\d+)"):
    prefix = CLAIM

    async def run(self, interaction: discord.Interaction, app: App) -> None:
        actor = await actor_of(interaction)
        # The claim waits for a draw or reroll of this giveaway that is posting its results.
        await interaction.response.defer(ephemeral=True, thinking=True)
        key = await app.giveaways.claim_prize(actor, self.activation_id)
        await interaction.followup.send(await app.say(interaction, f"giveaway.{key}"), ephemeral=True)


class CodeButton(_ActivationButton, template=CODE + r":(?P<id>\d+)"):
    prefix = CODE

    async def run(self, interaction: discord.Interaction, app: App) -> None:
        actor = await actor_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)  # eligibility, as to enter
        text = await app.giveaways.claim_code(actor, self.activation_id, member_of(interaction.user))
        await interaction.followup.send(text, ephemeral=True)


# -- commands -----------------------------------------------------------------------------------------


def parse_roles(text: str | None) -> list[int]:
    """Role mentions or ids separated by spaces or commas."""
    if not text or not text.strip():
        return []
    found = [int(a or b) for a, b in _ROLE.findall(text)]
    leftover = _ROLE.sub("", text).replace(",", " ").strip()
    if leftover or not found:
        raise InvalidInput("giveaway.error.bad_roles")
    return found


@create_command(
    "giveaway",
    "Propose a provably fair giveaway (brand managers, moderators)",
    connection_default="gifted",
    brand="The brand (approved) giving the prize",
    channel="Where the giveaway is posted",
    prize="What winners get (up to 200 characters)",
    rules="Official rules text (required)",
    winners="How many winners (1-50)",
    min_days="Minimum days in the community to enter",
    min_events="Minimum engagement events (messages, replies, reactions) to enter",
    required_role="Only members with this role may enter",
    excluded_roles="Role mentions or ids that may not enter, separated by spaces",
    pool_file="Optional: a text file of unique discount codes, one per line",
    ping_role="A role to ping when the giveaway opens (moderators; only that role is notified)",
)
@app_commands.rename(pool_file="codes")
async def create_giveaway(
    interaction: discord.Interaction,
    brand: int,
    channel: discord.TextChannel,
    prize: str,
    rules: str,
    winners: int,
    starts: str,
    ends: str,
    min_days: int = 0,
    min_events: int = 0,
    required_role: discord.Role | None = None,
    excluded_roles: str | None = None,
    pool_file: discord.Attachment | None = None,
    connection: app_commands.Choice[str] | None = None,
    ping_role: discord.Role | None = None,
) -> None:
    app = app_of(interaction)
    # Reading a code file from Discord's CDN may take longer than the 3 s an interaction waits.
    await interaction.response.defer(ephemeral=True, thinking=True)
    actor = await actor_of(interaction)
    proposal = Proposal(brand, channel.id, starts, ends, prize, connection.value if connection else "gifted")
    terms = GiveawayTerms(
        rules=rules,
        winners=winners,
        min_days=min_days,
        min_events=min_events,
        required_role_id=required_role.id if required_role else None,
        excluded_role_ids=parse_roles(excluded_roles),
        codes_file=reader(pool_file) if pool_file is not None else None,
        ping_role_id=ping_role_id(actor, ping_role, channel),
    )
    activation, commitment = await app.giveaways.create(actor, proposal, terms)
    await created_reply(
        interaction,
        activation,
        await app.say(interaction, "giveaway.describe_commitment", commitment=commitment),
    )


@app_commands.command(
    name="reroll", description="Redraw giveaway winners who did not claim their prize (moderators)"
)
@app_commands.describe(
    activation_id="The giveaway's number", member="Only replace this winner (default: every unclaimed one)"
)
@app_commands.rename(activation_id="id")
@require_role("activation reroll")
async def reroll(
    interaction: discord.Interaction, activation_id: int, member: discord.User | None = None
) -> None:
    # Any user, not only a member: a winner who left the server is the one most often replaced.
    app = app_of(interaction)
    actor = await actor_of(interaction)
    await interaction.response.defer(ephemeral=True, thinking=True)
    round_no, _, winners = await app.giveaways.reroll(actor, activation_id, member.id if member else None)
    shown = app.giveaways.mentions(winners, await app.lang(interaction.guild_id)) or "-"
    await interaction.followup.send(
        await app.say(interaction, "giveaway.rerolled", round=round_no, winners=shown), ephemeral=True
    )


@app_commands.command(
    name="codes", description="Attach a pool of unique discount codes to an activation (brand managers)"
)
@app_commands.describe(activation_id="The activation's number", file="A text file: one code per line")
@app_commands.rename(activation_id="id")
@require_role("activation codes")
async def attach_codes(
    interaction: discord.Interaction, activation_id: int, file: discord.Attachment
) -> None:
    app = app_of(interaction)
    await interaction.response.defer(ephemeral=True, thinking=True)  # the file, and a live post's update
    count = await app.giveaways.attach_codes(await actor_of(interaction), activation_id, reader(file))
    text = await app.say(interaction, "codes.attached", count=count, id=activation_id)
    await interaction.followup.send(text, ephemeral=True)


@app_commands.command(
    name="redemptions", description="Report redeemed discount codes with a CSV (brand managers)"
)
@app_commands.describe(activation_id="The activation's number", file="CSV from your shop: a code column")
@app_commands.rename(activation_id="id")
@require_role("activation redemptions")
async def redemptions(interaction: discord.Interaction, activation_id: int, file: discord.Attachment) -> None:
    app = app_of(interaction)
    await interaction.response.defer(ephemeral=True, thinking=True)  # the file is read from the CDN
    report = await app.giveaways.redemptions(await actor_of(interaction), activation_id, reader(file))
    text = await app.say(
        interaction,
        "codes.redemptions",
        id=activation_id,
        new=report.new,
        already=report.already,
        unknown=len(report.unknown),
        unclaimed=report.unclaimed,
        redeemed=report.redeemed_claimed,
        claimed=report.claimed,
        pct=report.conversion_pct,
    )
    if report.unknown:
        listed = i18n.join(await app.lang(interaction.guild_id), (f"`{c}`" for c in report.unknown[:20]))
        text += "\n" + await app.say(interaction, "codes.redemptions_unknown", codes=listed)
    await interaction.followup.send(text[:2000], ephemeral=True)


add_commands(create_group, create_giveaway)
add_commands(activation_group, reroll, attach_codes, redemptions)


async def setup(bot: MicrovoiceBot) -> None:
    bot.add_dynamic_items(EnterButton, LeaveButton, ClaimPrizeButton, CodeButton)
