"""`/activation approve|reject|cancel|list|show|retry`, and the `/activation` group on the command tree.

Thin: each command turns the interaction into one call on the activation engine
(`bot/activations/service.py`, which also runs activations on time) and renders the answer. The kinds'
own commands (`/activation create qa|giveaway|takeover`, `reroll`, `codes`, `redemptions`) are added to
the same groups by their cogs (cogs load in name order, after this one).
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot import i18n
from bot.app import MicrovoiceBot
from bot.discord_adapter.activation_commands import activation_group, actor_of, add_commands, app_of
from bot.discord_adapter.checks import require_role
from bot.discord_adapter.render import fit_lines, more_of


@app_commands.command(name="approve", description="Approve a proposed activation (moderators)")
@app_commands.describe(activation_id="The activation's number (see /activation list)")
@app_commands.rename(activation_id="id")
@require_role("activation approve")
async def approve(interaction: discord.Interaction, activation_id: int) -> None:
    app = app_of(interaction)
    approval = await app.activations.approve(await actor_of(interaction), activation_id)
    start = discord.utils.format_dt(approval.activation.starts_at, "f")
    text = await app.say(interaction, "activation.approved", id=activation_id, start=start)
    await interaction.response.send_message(text, ephemeral=True)
    if approval.starts_now:  # approved after its start time: it starts now (after the quick reply)
        await app.activations.advance(activation_id)
        lang = await app.lang(interaction.guild_id)
        problem = await app.activations.problem_text(approval.activation.community_id, activation_id, lang)
        if problem is not None:  # no false success: the opening post is not up (yet)
            await interaction.followup.send(problem, ephemeral=True)


@app_commands.command(name="reject", description="Reject a proposed activation with a reason (moderators)")
@app_commands.describe(activation_id="The activation's number", reason="Why; the brand sees this")
@app_commands.rename(activation_id="id")
@require_role("activation reject")
async def reject(interaction: discord.Interaction, activation_id: int, reason: str) -> None:
    app = app_of(interaction)
    rejected = await app.activations.reject(await actor_of(interaction), activation_id, reason)
    why = i18n.isolate(rejected.reason or "")
    text = await app.say(interaction, "activation.rejected", id=activation_id, reason=why)
    await interaction.response.send_message(text, ephemeral=True)


@app_commands.command(name="cancel", description="Cancel an activation (moderators or its brand's managers)")
@app_commands.describe(activation_id="The activation's number", reason="Optional reason")
@app_commands.rename(activation_id="id")
@require_role("activation cancel")
async def cancel(interaction: discord.Interaction, activation_id: int, reason: str | None = None) -> None:
    app = app_of(interaction)
    actor = await actor_of(interaction)
    await interaction.response.defer(ephemeral=True, thinking=True)  # a live one's end hook takes a while
    moved = await app.activations.cancel(actor, activation_id, reason)
    key = "activation.cancelled" if moved else "activation.error.changed"
    text = await app.say(interaction, key, id=activation_id)
    lang = await app.lang(interaction.guild_id)
    problem = await app.activations.problem_text(actor.community_id, activation_id, lang) if moved else None
    if problem is not None:  # cancelled, but the channel is not back (yet): say so
        text = f"{text}\n{problem}"
    await interaction.followup.send(text, ephemeral=True)


@app_commands.command(name="list", description="Recent activations (moderators; brand managers see theirs)")
@require_role("activation list")
async def list_(interaction: discord.Interaction) -> None:
    app = app_of(interaction)
    lang = await app.lang(interaction.guild_id)
    lines = await app.activations.listing(await actor_of(interaction), lang)
    embed = discord.Embed(
        title=i18n.t(lang, "activation.list_title"),
        description=fit_lines(lines, more_of(lang)) if lines else i18n.t(lang, "activation.list_empty"),
    )
    await interaction.response.send_message(embed=embed, ephemeral=True)


@app_commands.command(
    name="show", description="One activation in detail (moderators or its brand's managers)"
)
@app_commands.describe(activation_id="The activation's number")
@app_commands.rename(activation_id="id")
@require_role("activation show")
async def show(interaction: discord.Interaction, activation_id: int) -> None:
    app = app_of(interaction)
    lang = await app.lang(interaction.guild_id)
    title, lines = await app.activations.details(await actor_of(interaction), activation_id, lang)
    embed = discord.Embed(title=title[:256], description=fit_lines(lines, more_of(lang)))
    await interaction.response.send_message(embed=embed, ephemeral=True)


@app_commands.command(
    name="retry",
    description="Retry an activation's failed platform work once its cause is fixed (moderators)",
)
@app_commands.describe(activation_id="The activation's number")
@app_commands.rename(activation_id="id")
@require_role("activation retry")
async def retry(interaction: discord.Interaction, activation_id: int) -> None:
    app = app_of(interaction)
    actor = await actor_of(interaction)
    await interaction.response.defer(ephemeral=True, thinking=True)  # a takeover's restore takes a while
    outcome = await app.activations.retry(actor, activation_id)
    lang = await app.lang(interaction.guild_id)
    if outcome is None:
        text = i18n.t(lang, "activation.retry_nothing", id=activation_id)
    elif outcome:
        text = i18n.t(lang, "activation.retry_done", id=activation_id)
    else:  # tried again and failed again: what failed, and whether it is still retried
        text = await app.activations.problem_text(actor.community_id, activation_id, lang) or ""
    await interaction.followup.send(text, ephemeral=True)


add_commands(activation_group, approve, reject, cancel, list_, show, retry)


async def setup(bot: MicrovoiceBot) -> None:
    bot.tree.add_command(activation_group, override=True)
