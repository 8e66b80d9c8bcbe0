"""Giveaways and unique discount codes: `/activation create giveaway`, `/activation reroll`,
`/activation codes`, `/activation redemptions`, and the Enter / Leave / Claim prize / Get a code buttons.

The buttons are dynamic items: the activation id is in their custom_id and every state lives in the
database, so they keep working after a restart. Drawing is in `bot/giveaway.py` (pure, provably fair,
docs/giveaways.md); each draw round is one guarded row (`bot/store/giveaways.py`), so winners are drawn
once whatever races or restarts happen. Every post goes through `post_disclosed`, so it carries the
disclosure tag; edits re-apply the same tag.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import codes, disclosure, giveaway, i18n
from bot.activations import Activation, State
from bot.app import App, MicrovoiceBot, reply_error
from bot.discord_adapter.checks import require_role
from bot.errors import InvalidInput, MicrovoiceError
from bot.giveaway import Eligibility, GiveawayConfig, MemberFacts
from bot.ledger import parse_iso
from bot.store import write_codes, write_giveaway_secret
from cogs.activations import (
    CONNECTION_CHOICES,
    ENDS_HELP,
    STARTS_HELP,
    activation_group,
    app_of,
    brand_autocomplete,
    create_activation,
    create_group,
    created_reply,
    disclosed_text,
    is_moderator,
    post_disclosed,
    register_kind,
    reply_to,
    require_manager_or_moderator,
    tag_for,
)

log = logging.getLogger(__name__)

EDIT_INTERVAL_SECONDS = 5.0  # at most one edit of a giveaway's post per this many seconds
_ROLE = re.compile(r"<@&(\d+)>|(\d{5,25})")
_CLOSED_STATES = (State.ENDED, State.CANCELLED, State.REJECTED)


# -- rendering --------------------------------------------------------------------------------------


def config_of(activation: Activation) -> GiveawayConfig:
    return GiveawayConfig.from_json(activation.config)


def _who(lang: str, rules: Eligibility) -> str:
    parts: list[str] = []
    if rules.min_days:
        parts.append(i18n.t(lang, "giveaway.post_min_days", days=rules.min_days))
    if rules.min_events:
        parts.append(i18n.t(lang, "giveaway.post_min_events", events=rules.min_events))
    if rules.required_role_id:
        parts.append(i18n.t(lang, "giveaway.post_required_role", role=f"<@&{rules.required_role_id}>"))
    if rules.excluded_role_ids:
        roles = ", ".join(f"<@&{r}>" for r in rules.excluded_role_ids)
        parts.append(i18n.t(lang, "giveaway.post_excluded_roles", roles=roles))
    text = "; ".join(parts) if parts else i18n.t(lang, "giveaway.post_who_everyone")
    return i18n.t(lang, "giveaway.post_who", rules=text) + " " + i18n.t(lang, "giveaway.post_excluded_auto")


def opening_embed(
    activation: Activation, *, commitment: str, entries: int, pool: tuple[int, int]
) -> discord.Embed:
    """The giveaway post without the disclosure (post_disclosed / `_disclosed_embed` add it)."""
    lang, config = activation.locale, config_of(activation)
    lines = [
        i18n.t(lang, "giveaway.post_rules", rules=config.rules),
        "",
        i18n.t(lang, "giveaway.post_winners", count=config.winners),
        i18n.t(lang, "giveaway.post_closes", when=discord.utils.format_dt(activation.ends_at, "f")),
        _who(lang, config.eligibility),
        i18n.t(lang, "giveaway.post_entries", count=entries),
    ]
    total, claimed = pool
    if total:
        lines.append(i18n.t(lang, "giveaway.post_codes", left=total - claimed, total=total))
    lines += ["", i18n.t(lang, "giveaway.post_commitment", commitment=commitment)]
    title = i18n.t(lang, "giveaway.post_title", prize=i18n.isolate(config.prize))
    return discord.Embed(title=title, description="\n".join(lines)[:4096])


def _disclosed_embed(activation: Activation, embed: discord.Embed) -> discord.Embed:
    return discord.Embed.from_dict(disclosure.disclose_embed(tag_for(activation), embed.to_dict()))


def entry_view(activation: Activation, *, open_: bool, with_codes: bool) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    lang = activation.locale
    view.add_item(EnterButton(activation.id, label=i18n.t(lang, "giveaway.button_enter"), disabled=not open_))
    view.add_item(LeaveButton(activation.id, label=i18n.t(lang, "giveaway.button_leave"), disabled=not open_))
    if with_codes:
        view.add_item(
            CodeButton(activation.id, label=i18n.t(lang, "giveaway.button_code"), disabled=not open_)
        )
    return view


def claim_view(activation: Activation) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ClaimPrizeButton(activation.id, label=i18n.t(activation.locale, "giveaway.button_claim")))
    return view


def _mentions(ids: tuple[int, ...] | list[int]) -> str:
    """Mentions of members; an erased member's pseudonym (negative, /privacy forget) is shown as such."""
    return ", ".join(f"<@{m}>" if m > 0 else "\N{EM DASH}" for m in ids)


# -- eligibility ------------------------------------------------------------------------------------


async def member_facts(interaction: discord.Interaction, app: App) -> MemberFacts:
    assert interaction.guild_id is not None
    user = interaction.user
    joined = user.joined_at if isinstance(user, discord.Member) else None
    if joined is None:
        stored = await app.store.member_joined_at(interaction.guild_id, user.id)
        joined = parse_iso(stored) if stored else None
    roles = frozenset(r.id for r in user.roles) if isinstance(user, discord.Member) else frozenset()
    return MemberFacts(
        member_id=user.id,
        joined_at=joined,
        role_ids=roles,
        events=await app.store.member_engagement_events(interaction.guild_id, user.id),
        is_moderator=await is_moderator(interaction),
        is_brand_contact=await app.store.is_contact_of_any_brand(interaction.guild_id, user.id),
        is_bot=user.bot,
    )


async def refuse_if_ineligible(
    interaction: discord.Interaction, app: App, rules: Eligibility, *, exclude_moderators: bool
) -> None:
    """Raise the member's ephemeral reason if they may not take part."""
    facts = await member_facts(interaction, app)
    if rules.min_events and facts.events < rules.min_events:
        await app.ingest.flush()  # recent engagement may still be in the ingest buffer
        facts = await member_facts(interaction, app)
    refusal = giveaway.check_eligibility(facts, rules, now=app.clock(), exclude_moderators=exclude_moderators)
    if refusal is not None:
        raise MicrovoiceError(refusal.key, **refusal.params)


# -- buttons ----------------------------------------------------------------------------------------


class _ActivationButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"microvoice:activation:base:(?P<id>\d+)"
):
    """A button whose custom_id is `<prefix>:<activation id>`; subclasses implement `run`."""

    prefix = ""
    style = discord.ButtonStyle.secondary

    def __init__(self, activation_id: int, *, label: str = "", disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                style=self.style,
                label=label or None,
                custom_id=f"{self.prefix}:{activation_id}",
                disabled=disabled,
            )
        )
        self.activation_id = activation_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> _ActivationButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            app = app_of(interaction)
            assert interaction.guild_id is not None
            activation = await app.store.get_activation(interaction.guild_id, self.activation_id)
            if activation is None:
                raise InvalidInput("giveaway.closed")
            await self.run(interaction, app, activation)
        except Exception as exc:
            await reply_error(interaction, exc)

    async def run(self, interaction: discord.Interaction, app: App, activation: Activation) -> None:
        raise NotImplementedError


def _cog(interaction: discord.Interaction) -> Giveaways:
    cog = interaction.client.get_cog("Giveaways")  # type: ignore[attr-defined]
    assert isinstance(cog, Giveaways)
    return cog


class EnterButton(_ActivationButton, template=r"microvoice:giveaway:enter:(?P<id>\d+)"):
    prefix = "microvoice:giveaway:enter"
    style = discord.ButtonStyle.primary

    async def run(self, interaction: discord.Interaction, app: App, activation: Activation) -> None:
        assert interaction.guild_id is not None
        if activation.kind != "giveaway" or activation.state != State.LIVE:
            raise InvalidInput("giveaway.closed")
        await refuse_if_ineligible(
            interaction, app, config_of(activation).eligibility, exclude_moderators=True
        )
        outcome = await app.store.enter_giveaway(
            interaction.guild_id, activation.id, interaction.user.id, app.clock()
        )
        await interaction.response.send_message(
            await app.say(interaction, f"giveaway.{outcome}"), ephemeral=True
        )
        if outcome == "entered":
            _cog(interaction).counter.touch(activation)


class LeaveButton(_ActivationButton, template=r"microvoice:giveaway:leave:(?P<id>\d+)"):
    prefix = "microvoice:giveaway:leave"

    async def run(self, interaction: discord.Interaction, app: App, activation: Activation) -> None:
        assert interaction.guild_id is not None
        outcome = await app.store.leave_giveaway(
            interaction.guild_id, activation.id, interaction.user.id, app.clock()
        )
        await interaction.response.send_message(
            await app.say(interaction, f"giveaway.{outcome}"), ephemeral=True
        )
        if outcome == "left":
            _cog(interaction).counter.touch(activation)


class ClaimPrizeButton(_ActivationButton, template=r"microvoice:giveaway:claim:(?P<id>\d+)"):
    prefix = "microvoice:giveaway:claim"
    style = discord.ButtonStyle.success

    async def run(self, interaction: discord.Interaction, app: App, activation: Activation) -> None:
        assert interaction.guild_id is not None
        outcome = await app.store.claim_giveaway_prize(
            interaction.guild_id, activation.id, interaction.user.id, app.clock()
        )
        key = {"claimed": "claimed", "already": "claim_already", "not_winner": "claim_not_winner"}[outcome]
        await interaction.response.send_message(await app.say(interaction, f"giveaway.{key}"), ephemeral=True)


class CodeButton(_ActivationButton, template=r"microvoice:codes:claim:(?P<id>\d+)"):
    prefix = "microvoice:codes:claim"
    style = discord.ButtonStyle.success

    async def run(self, interaction: discord.Interaction, app: App, activation: Activation) -> None:
        assert interaction.guild_id is not None
        if activation.state != State.LIVE:
            raise InvalidInput("codes.closed")
        rules = config_of(activation).eligibility if activation.kind == "giveaway" else Eligibility()
        await refuse_if_ineligible(interaction, app, rules, exclude_moderators=False)
        code, new = await app.store.claim_code(
            interaction.guild_id, activation.id, interaction.user.id, app.clock()
        )
        if code is None:
            raise InvalidInput("codes.exhausted")
        text = await app.say(interaction, "codes.claimed" if new else "codes.again", code=code)
        # The code is promotional material: the reply is disclosed like every activation message.
        await interaction.response.send_message(disclosed_text(activation, text), ephemeral=True)
        if new and activation.kind == "giveaway":
            _cog(interaction).counter.touch(activation)


# -- the live entry count ----------------------------------------------------------------------------


class LiveCounter:
    """Coalesced edits of a giveaway's post: at most one per `interval` seconds per giveaway, and the
    last change always reaches the post (a pending edit reads the count when it runs, not when asked)."""

    def __init__(self, bot: MicrovoiceBot, interval: float = EDIT_INTERVAL_SECONDS) -> None:
        self.bot = bot
        self.interval = interval
        self._pending: dict[int, asyncio.Task[None]] = {}
        self._last: dict[int, float] = {}
        self.edits = 0

    def touch(self, activation: Activation) -> None:
        if activation.id in self._pending:
            return
        self._pending[activation.id] = asyncio.create_task(self._edit_later(activation.id))

    async def _edit_later(self, activation_id: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            wait = self._last.get(activation_id, float("-inf")) + self.interval - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
        finally:
            self._pending.pop(activation_id, None)
        self._last[activation_id] = loop.time()
        app = self.bot.app
        if app is None:
            return
        activation = await app.store.activation_by_id(activation_id)
        if activation is None or activation.state != State.LIVE:
            return
        try:
            await refresh_post(self.bot, activation)
            self.edits += 1
        except discord.HTTPException:
            log.warning("could not update the entry count of giveaway %s", activation_id)

    def close(self) -> None:
        for task in self._pending.values():
            task.cancel()
        self._pending.clear()


async def refresh_post(bot: MicrovoiceBot, activation: Activation, *, open_: bool = True) -> None:
    """Re-render the opening post (entry count, codes left, buttons) with the disclosure re-applied."""
    app = bot.app
    if app is None or activation.message_id is None:
        return
    commitment = await app.store.giveaway_commitment(activation.id) or ""
    entries = await app.store.giveaway_entry_count(activation.id)
    pool = await app.store.code_counts(activation.id)
    embed = opening_embed(activation, commitment=commitment, entries=entries, pool=pool)
    message = bot.get_partial_messageable(
        activation.channel_id, guild_id=activation.community_id
    ).get_partial_message(activation.message_id)
    await message.edit(
        content=disclosed_text(activation, None),
        embed=_disclosed_embed(activation, embed),
        view=entry_view(activation, open_=open_, with_codes=pool[0] > 0),
        allowed_mentions=discord.AllowedMentions.none(),
    )


# -- the kind's hooks --------------------------------------------------------------------------------


class GiveawayKind:
    def __init__(self, cog: Giveaways) -> None:
        self.cog = cog

    async def on_live(self, bot: MicrovoiceBot, activation: Activation) -> None:
        assert bot.app is not None
        store = bot.app.store
        commitment = await store.giveaway_commitment(activation.id) or ""
        pool = await store.code_counts(activation.id)
        embed = opening_embed(activation, commitment=commitment, entries=0, pool=pool)
        message = await post_disclosed(
            bot,
            activation,
            activation.channel_id,
            embed=embed,
            view=entry_view(activation, open_=True, with_codes=pool[0] > 0),
        )
        await store.set_activation_post(activation.community_id, activation.id, message_id=message.id)

    async def on_end(self, bot: MicrovoiceBot, activation: Activation) -> None:
        await self.cog.finish(activation)

    def describe(self, activation: Activation, lang: str) -> list[str]:
        config = config_of(activation)
        return [
            i18n.t(lang, "giveaway.post_title", prize=i18n.isolate(config.prize)),
            i18n.t(lang, "giveaway.post_winners", count=config.winners),
            i18n.t(lang, "giveaway.describe_commitment", commitment=activation.config.get("commitment", "?")),
        ]


def codes_post_embed(activation: Activation, total: int, claimed: int) -> discord.Embed:
    """The stand-alone "Get a code" post for a live activation that is not a giveaway."""
    lang = activation.locale
    return discord.Embed(
        title=i18n.t(lang, "codes.post_title", title=i18n.isolate(activation.title)),
        description=i18n.t(lang, "codes.post_body", left=total - claimed, total=total),
    )


class Giveaways(commands.Cog):
    """Finishes giveaways (draw once, announce once) and owns the coalesced entry-count edits."""

    def __init__(self, bot: MicrovoiceBot, app: App) -> None:
        self.bot = bot
        self.app = app
        self.counter = LiveCounter(bot)
        self._locks: dict[int, asyncio.Lock] = {}
        self._boot: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        self._boot = asyncio.create_task(self._finish_unannounced())

    async def cog_unload(self) -> None:
        self.counter.close()
        if self._boot is not None and not self._boot.done():
            self._boot.cancel()

    async def _finish_unannounced(self) -> None:
        """A giveaway that ended but whose results were never posted (the bot stopped in between)."""
        await self.bot.wait_until_ready()
        for activation_id in await self.app.store.unannounced_giveaways():
            activation = await self.app.store.activation_by_id(activation_id)
            if activation is not None and self.app.owns(activation.community_id):
                try:
                    await self.finish(activation)
                except Exception:
                    log.exception("giveaway %s: could not finish at boot", activation_id)

    async def finish(self, activation: Activation) -> None:
        """Draw round 0 once, post the results once, close the opening post. Safe to call again."""
        async with self._locks.setdefault(activation.id, asyncio.Lock()):
            store, now = self.app.store, self.app.clock()
            if activation.state == State.CANCELLED:
                await self._close_post(activation)
                return
            if activation.state != State.ENDED:
                return
            config = config_of(activation)
            if not any(d.round == 0 for d in await store.giveaway_draws(activation.id)):
                seed = await store.giveaway_seed_for_draw(activation.id)
                if seed is None:
                    log.error("giveaway %s has no seed; cannot draw", activation.id)
                    return
                entrants = await store.giveaway_entrants(activation.id)
                winners = giveaway.draw(seed, entrants, config.winners, round_no=0)
                await store.record_giveaway_draw(
                    activation.community_id,
                    activation.id,
                    0,
                    entrants=entrants,
                    entrants_sha256=giveaway.entrants_digest(entrants),
                    winners=winners,
                    by=None,
                    now=now,
                )
            first = next(d for d in await store.giveaway_draws(activation.id) if d.round == 0)
            if first.message_id is None:
                seed = await store.reveal_giveaway_seed(activation.id, now) or ""
                commitment = await store.giveaway_commitment(activation.id) or ""
                message = await self._announce(activation, config, first, seed, commitment)
                await store.set_draw_message(activation.id, 0, message.id)
            await self._close_post(activation)

    async def _announce(
        self, activation: Activation, config: GiveawayConfig, draw: Any, seed: str, commitment: str
    ) -> discord.Message:
        lang = activation.locale
        lines = [
            i18n.t(lang, "giveaway.result_winners", winners=_mentions(draw.winners))
            if draw.winners
            else i18n.t(lang, "giveaway.result_none"),
            "",
            i18n.t(lang, "giveaway.result_entrants", count=len(draw.entrants), digest=draw.entrants_sha256),
            i18n.t(lang, "giveaway.result_seed", seed=seed, commitment=commitment),
            i18n.t(lang, "giveaway.result_verify", seed=seed, commitment=commitment, count=config.winners),
        ]
        if draw.winners:
            lines += ["", i18n.t(lang, "giveaway.result_claim")]
        embed = discord.Embed(
            title=i18n.t(lang, "giveaway.result_title", prize=i18n.isolate(config.prize)),
            description="\n".join(lines)[:4096],
        )
        reference = reply_to(activation.message_id, activation.channel_id)
        # The sorted entrant list is attached to the results post itself, so the disclosed post and the
        # data to verify it are one message; only the winners are pinged (never everyone or roles).
        listing = "\n".join(str(e) for e in draw.entrants).encode("ascii")
        message = await post_disclosed(
            self.bot,
            activation,
            activation.channel_id,
            content=i18n.t(lang, "giveaway.result_ping", winners=_mentions(draw.winners))
            if draw.winners
            else None,
            embed=embed,
            view=claim_view(activation) if draw.winners else None,
            reference=reference,
            files=[discord.File(io.BytesIO(listing), filename="entrants.txt")],
            notify=draw.winners,
        )
        return message

    async def _close_post(self, activation: Activation) -> None:
        current = await self.app.store.activation_by_id(activation.id)
        if current is None or current.message_id is None:
            return
        try:
            await refresh_post(self.bot, current, open_=False)
        except discord.HTTPException:
            log.warning("could not close the post of giveaway %s", activation.id)

    async def reroll(
        self, activation: Activation, *, member_id: int | None, by: int
    ) -> tuple[int, list[int], list[int]]:
        """Replace unclaimed winners (all, or `member_id`) with the next deterministic round."""
        store = self.app.store
        async with self._locks.setdefault(activation.id, asyncio.Lock()):
            draws = await store.giveaway_draws(activation.id)
            seed = await store.giveaway_seed_for_draw(activation.id)
            if activation.state != State.ENDED or not draws or seed is None:
                raise InvalidInput("giveaway.error.not_ended")
            standing = await store.giveaway_standing(activation.id)
            replaced = [m for m in standing.unclaimed if member_id is None or m == member_id]
            if not replaced:
                raise InvalidInput("giveaway.error.nothing_to_reroll")
            round_no = standing.rounds
            # The stored (published, canonical) order: an erased entrant keeps their place as a pseudonym.
            pool = [e for e in draws[0].entrants if e not in standing.drawn]
            winners = giveaway.draw_in_order(seed, pool, len(replaced), round_no=round_no)
            done = await store.record_giveaway_draw(
                activation.community_id,
                activation.id,
                round_no,
                entrants=pool,
                entrants_sha256=giveaway.entrants_digest(pool),
                winners=winners,
                replaced=replaced,
                by=by,
                now=self.app.clock(),
            )
            if not done:
                raise InvalidInput("giveaway.error.race")
            lang, config = activation.locale, config_of(activation)
            if winners:
                line = i18n.t(
                    lang,
                    "giveaway.reroll_winners",
                    round=round_no,
                    replaced=_mentions(replaced),
                    winners=_mentions(winners),
                )
            else:
                line = i18n.t(lang, "giveaway.reroll_none", round=round_no, replaced=_mentions(replaced))
            embed = discord.Embed(
                title=i18n.t(lang, "giveaway.reroll_title", prize=i18n.isolate(config.prize)),
                description=line + "\n" + i18n.t(lang, "giveaway.reroll_verify", count=len(replaced)),
            )
            message = await post_disclosed(
                self.bot,
                activation,
                activation.channel_id,
                content=i18n.t(lang, "giveaway.result_ping", winners=_mentions(winners)) if winners else None,
                embed=embed,
                view=claim_view(activation) if winners else None,
                notify=winners,
            )
            await store.set_draw_message(activation.id, round_no, message.id)
            return round_no, replaced, winners


# -- commands -----------------------------------------------------------------------------------------


def parse_roles(text: str | None) -> list[int]:
    if not text or not text.strip():
        return []
    found = [int(a or b) for a, b in _ROLE.findall(text)]
    leftover = _ROLE.sub("", text).replace(",", " ").strip()
    if leftover or not found:
        raise InvalidInput("giveaway.error.bad_roles")
    return found


async def read_attachment(attachment: discord.Attachment) -> str:
    if attachment.size > codes.MAX_FILE_BYTES:
        raise InvalidInput("codes.error.file_too_big", high=codes.MAX_FILE_BYTES // 1000)
    return codes.decode(await attachment.read())


@create_group.command(
    name="giveaway", description="Propose a provably fair giveaway (brand managers, moderators)"
)
@app_commands.describe(
    brand="The brand (approved) giving the prize",
    channel="Where the giveaway is posted",
    prize="What winners get (up to 200 characters)",
    rules="Official rules text (required)",
    winners="How many winners (1-50)",
    starts=STARTS_HELP,
    ends=ENDS_HELP,
    min_days="Minimum days in the community to enter",
    min_events="Minimum engagement events (messages, replies, reactions) to enter",
    required_role="Only members with this role may enter",
    excluded_roles="Role mentions or ids that may not enter, separated by spaces",
    pool_file="Optional: a text file of unique discount codes, one per line",
    connection="The material connection the disclosure names (default: gifted product)",
)
@app_commands.rename(pool_file="codes")
@app_commands.choices(connection=CONNECTION_CHOICES)
@app_commands.autocomplete(brand=brand_autocomplete)
@require_role("activation create giveaway")
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
) -> None:
    assert interaction.guild_id is not None
    app = app_of(interaction)
    config = giveaway.validate_config(
        prize=prize,
        rules=rules,
        winners=winners,
        min_days=min_days,
        min_events=min_events,
        required_role_id=required_role.id if required_role else None,
        excluded_role_ids=parse_roles(excluded_roles),
    )
    pool = codes.parse_pool(await read_attachment(pool_file)) if pool_file is not None else []
    seed = giveaway.new_seed()
    commitment = giveaway.commitment(seed)
    now = app.clock()
    guild_id = interaction.guild_id

    async def after_insert(db: Any, activation_id: int) -> None:
        await write_giveaway_secret(db, activation_id, guild_id, seed, commitment)
        if pool:
            await write_codes(db, activation_id, guild_id, pool, now)

    activation = await create_activation(
        interaction,
        kind="giveaway",
        brand_id=brand,
        channel_id=channel.id,
        starts_at=starts,
        ends_at=ends,
        connection=connection.value if connection else "gifted",
        title=config.prize,
        # The commitment is public from the start (the seed is not): /activation show lists it.
        config={**config.to_json(), "commitment": commitment},
        after_insert=after_insert,
    )
    await created_reply(interaction, activation)
    await interaction.followup.send(
        await app.say(interaction, "giveaway.created", id=activation.id, commitment=commitment),
        ephemeral=True,
    )


async def _managed_activation(interaction: discord.Interaction, activation_id: int) -> Activation:
    assert interaction.guild_id is not None
    activation = await app_of(interaction).store.get_activation(interaction.guild_id, activation_id)
    if activation is None:
        raise InvalidInput("codes.error.not_found")
    await require_manager_or_moderator(interaction, activation.brand_id)
    return activation


@activation_group.command(
    name="reroll", description="Redraw giveaway winners who did not claim their prize (moderators)"
)
@app_commands.describe(
    activation_id="The giveaway's number", member="Only replace this winner (default: every unclaimed one)"
)
@app_commands.rename(activation_id="id")
@require_role("activation reroll")
async def reroll(
    interaction: discord.Interaction, activation_id: int, member: discord.Member | None = None
) -> None:
    assert interaction.guild_id is not None
    app = app_of(interaction)
    activation = await app.store.get_activation(interaction.guild_id, activation_id)
    if activation is None or activation.kind != "giveaway":
        raise InvalidInput("giveaway.error.not_found")
    await interaction.response.defer(ephemeral=True, thinking=True)
    round_no, _, winners = await _cog(interaction).reroll(
        activation, member_id=member.id if member else None, by=interaction.user.id
    )
    await interaction.followup.send(
        await app.say(interaction, "giveaway.rerolled", round=round_no, winners=_mentions(winners) or "-"),
        ephemeral=True,
    )


@activation_group.command(
    name="codes", description="Attach a pool of unique discount codes to an activation (brand managers)"
)
@app_commands.describe(activation_id="The activation's number", file="A text file: one code per line")
@app_commands.rename(activation_id="id")
@require_role("activation codes")
async def attach_codes(
    interaction: discord.Interaction, activation_id: int, file: discord.Attachment
) -> None:
    assert interaction.guild_id is not None
    app = app_of(interaction)
    activation = await _managed_activation(interaction, activation_id)
    pool = codes.parse_pool(await read_attachment(file))
    if activation.state in _CLOSED_STATES:
        raise InvalidInput("codes.error.ended")
    if activation.kind != "giveaway" and activation.state != State.LIVE:
        raise InvalidInput("codes.error.not_live")
    if not await app.store.attach_codes(interaction.guild_id, activation.id, pool, app.clock()):
        raise InvalidInput("codes.error.already_in_pool")
    await interaction.response.send_message(
        await app.say(interaction, "codes.attached", count=len(pool), id=activation.id), ephemeral=True
    )
    if activation.state != State.LIVE:
        return  # a giveaway's opening post will carry the button
    bot: MicrovoiceBot = interaction.client  # type: ignore[assignment]
    if activation.kind == "giveaway":
        await refresh_post(bot, activation)
        return
    total, claimed = await app.store.code_counts(activation.id)
    view = discord.ui.View(timeout=None)
    view.add_item(CodeButton(activation.id, label=i18n.t(activation.locale, "giveaway.button_code")))
    await post_disclosed(
        bot,
        activation,
        activation.channel_id,
        embed=codes_post_embed(activation, total, claimed),
        view=view,
    )


@activation_group.command(
    name="redemptions", description="Report redeemed discount codes with a CSV (brand managers)"
)
@app_commands.describe(activation_id="The activation's number", file="CSV from your shop: a code column")
@app_commands.rename(activation_id="id")
@require_role("activation redemptions")
async def redemptions(interaction: discord.Interaction, activation_id: int, file: discord.Attachment) -> None:
    assert interaction.guild_id is not None
    app = app_of(interaction)
    activation = await _managed_activation(interaction, activation_id)
    reported = codes.parse_redemptions(await read_attachment(file))
    pool = await app.store.code_pool(interaction.guild_id, activation.id)
    if not pool:
        raise InvalidInput("codes.error.no_pool")
    new, report = codes.match_redemptions(pool, reported)
    await app.store.record_redemptions(
        interaction.guild_id,
        activation.id,
        [(row.code_id, item.redeemed_at) for row, item in new],
        by=interaction.user.id,
        now=app.clock(),
    )
    text = await app.say(
        interaction,
        "codes.redemptions",
        id=activation.id,
        new=report.new,
        already=report.already,
        unknown=len(report.unknown),
        unclaimed=report.unclaimed,
        redeemed=report.redeemed_claimed,
        claimed=report.claimed,
        pct=report.conversion_pct,
    )
    if report.unknown:
        listed = ", ".join(f"`{c}`" for c in report.unknown[:20])
        text += "\n" + await app.say(interaction, "codes.redemptions_unknown", codes=listed)
    await interaction.response.send_message(text[:2000], ephemeral=True)


async def setup(bot: MicrovoiceBot) -> None:
    assert bot.app is not None
    bot.add_dynamic_items(EnterButton, LeaveButton, ClaimPrizeButton, CodeButton)
    cog = Giveaways(bot, bot.app)
    register_kind("giveaway", GiveawayKind(cog))
    await bot.add_cog(cog)
