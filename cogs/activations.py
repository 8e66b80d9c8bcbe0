"""`/activation`: brand activations (Q&A, giveaways, takeovers) — proposed by brand managers, approved
by moderators, run by the scheduler, and always disclosed.

How a kind plugs in
-------------------
A kind lives in its own cog module (``cogs/qa.py``, ``cogs/takeover.py``, ``cogs/giveaway.py``), loaded
after this one (cogs load in name order), and uses only what this module exports:

* ``activation_group`` / ``create_group`` — add subcommands with ``@create_group.command(name=...)``
  (``/activation create <kind>``) or ``@activation_group.command(...)``. This cog puts the group on the
  tree; commands are synced after every cog has loaded.
* ``create_activation(interaction, kind=..., brand_id=..., channel_id=..., starts_at=..., ends_at=...,
  connection=..., title=..., config={...}, after_insert=None) -> Activation`` — every common check
  (caller manages that approved brand or is a moderator, schedule, lengths, saturation) and ONE
  transaction inserting the activation as *pending* plus whatever ``after_insert(db, activation_id)``
  writes. Raises ``MicrovoiceError`` subclasses; the tree renders them as ephemeral localized errors.
* ``register_kind(kind, handler)`` — ``handler.on_live(bot, activation)`` runs once after the guarded
  scheduled→live transition; ``handler.on_end(bot, activation)`` once after live→ended *or* live→
  cancelled (check ``activation.state``: ``'ended'`` or ``'cancelled'``), including boot catch-up.
  Optional ``handler.describe(activation, lang) -> list[str]`` adds lines to ``/activation show``.
* ``post_disclosed(bot, activation, channel_id, content=..., embed=..., view=..., thread=False,
  reference=None, files=None, notify=()) -> discord.Message`` — the ONLY way to post for an
  activation: the disclosure tag goes first in the content and at the start of the embed
  title/author; ``files`` are attached to the same (disclosed) message. No mention pings except the
  user ids in ``notify`` (a giveaway's winners), never @everyone, @here or roles.
  ``thread=True`` also opens a thread on the message (its id is the message id).
* ``disclosed_text(activation, content)`` — the same content transformation, for message edits.
* ``require_manager_or_moderator(interaction, brand_id)`` / ``require_brand_manager(...)`` — the
  "own brands" half of the permission matrix (``bot/roles.py``); the role half is ``require_role``.
* ``brand_autocomplete`` — autocomplete for a ``brand: int`` option (the caller's approved brands).
* ``bot.app.reply_error(interaction, error)`` — ephemeral localized error for views and modals.

Timing: jobs ``activation:{id}:start`` / ``activation:{id}:end`` are rebuilt from the database when
this cog loads; whatever came due while the bot was down is caught up once the gateway is ready.
Every transition is a guarded UPDATE, so a duplicate job can never run a hook twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Any, Protocol

import aiosqlite
import discord
from discord import app_commands
from discord.ext import commands

from bot import disclosure, i18n
from bot.activations import (
    REASON_MAX,
    TITLE_MAX,
    TRANSITIONS,
    Activation,
    ActivationError,
    State,
    check_saturation,
    format_time,
    parse_when,
    validate_kind,
    validate_schedule,
    validate_text,
)
from bot.app import App, MicrovoiceBot
from bot.discord_adapter.checks import RoleRequired, require_moderator, require_role
from bot.errors import Forbidden, InvalidInput

log = logging.getLogger(__name__)

activation_group = app_commands.Group(
    name="activation",
    description="Brand activations: Q&A, giveaways, takeovers",
    guild_only=True,
)
create_group = app_commands.Group(
    name="create",
    description="Propose a brand activation (brand managers and moderators)",
    parent=activation_group,
)

CONNECTION_CHOICES = [
    app_commands.Choice(name="Paid partnership", value="paid"),
    app_commands.Choice(name="Gifted product", value="gifted"),
    app_commands.Choice(name="Affiliate link or discount code", value="affiliate"),
]
#: Help for the schedule options every `/activation create <kind>` command takes.
STARTS_HELP = "Start: 'now', '+2h', 'in 3d' or 'YYYY-MM-DD HH:MM' (UTC)"
ENDS_HELP = "End: '+26h' (from now) or 'YYYY-MM-DD HH:MM' (UTC)"


class KindHandler(Protocol):
    async def on_live(self, bot: MicrovoiceBot, activation: Activation) -> None: ...

    async def on_end(self, bot: MicrovoiceBot, activation: Activation) -> None: ...


_KINDS: dict[str, KindHandler] = {}


def register_kind(kind: str, handler: KindHandler) -> None:
    """Attach the hooks of one activation kind (replaces an earlier registration of the same kind)."""
    _KINDS[kind] = handler


def kind_handler(kind: str) -> KindHandler | None:
    return _KINDS.get(kind)


# -- helpers shared by the kinds --------------------------------------------------------------------


def app_of(interaction: discord.Interaction) -> App:
    app = interaction.client.app  # type: ignore[attr-defined]
    assert app is not None
    return app


async def is_moderator(interaction: discord.Interaction) -> bool:
    try:
        return await require_moderator(interaction)
    except RoleRequired:
        return False


async def require_manager_or_moderator(interaction: discord.Interaction, brand_id: int) -> None:
    """Moderators, or contacts of this (approved) brand; anyone else is refused."""
    assert interaction.guild_id is not None
    if await is_moderator(interaction):
        return
    managed = await app_of(interaction).store.managed_brand_ids(interaction.guild_id, interaction.user.id)
    if brand_id not in managed:
        raise Forbidden("activation.error.not_manager")


async def require_brand_manager(interaction: discord.Interaction, brand_id: int) -> None:
    """Contacts of this (approved) brand only: for what is said in the brand's name, like Q&A answers."""
    assert interaction.guild_id is not None
    managed = await app_of(interaction).store.managed_brand_ids(interaction.guild_id, interaction.user.id)
    if brand_id not in managed:
        raise Forbidden("activation.error.not_brand_manager")


def tag_for(activation: Activation) -> str:
    return disclosure.tag(activation.locale, activation.brand_name, activation.connection)


def disclosed_text(activation: Activation, content: str | None) -> str:
    return disclosure.disclose_content(tag_for(activation), content)


def notify_only(member_ids: Sequence[int]) -> discord.AllowedMentions:
    """Allowed mentions that ping exactly these members (none if empty); never everyone or roles."""
    users = [discord.Object(id=m) for m in dict.fromkeys(member_ids) if m > 0]  # < 0: an erased member
    if not users:
        return discord.AllowedMentions.none()
    return discord.AllowedMentions(everyone=False, roles=False, users=users, replied_user=False)


async def post_disclosed(
    bot: MicrovoiceBot,
    activation: Activation,
    channel_id: int,
    *,
    content: str | None = None,
    embed: discord.Embed | None = None,
    view: discord.ui.View | None = None,
    thread: bool = False,
    reference: discord.Message | discord.MessageReference | None = None,
    files: Sequence[discord.File] | None = None,
    notify: Sequence[int] = (),
) -> discord.Message:
    """Post a message for an activation. The disclosure cannot be left out: it is added here.

    Mentions never ping, except the members listed in `notify` (e.g. a giveaway's winners): only those
    users, and never @everyone, @here or a role, whatever the text contains.
    """
    tag = tag_for(activation)
    kwargs: dict[str, Any] = dict(
        content=disclosure.disclose_content(tag, content),
        allowed_mentions=notify_only(notify),
    )
    if embed is not None:
        kwargs["embed"] = discord.Embed.from_dict(disclosure.disclose_embed(tag, embed.to_dict()))
    if view is not None:
        kwargs["view"] = view
    if files:
        kwargs["files"] = list(files)
    if reference is not None:
        if isinstance(reference, discord.Message):
            reference = reference.to_reference(fail_if_not_exists=False)
        kwargs["reference"] = reference
    channel = bot.get_channel(channel_id)
    target: discord.abc.Messageable
    if isinstance(channel, discord.abc.Messageable):
        target = channel
    else:
        target = bot.get_partial_messageable(channel_id, guild_id=activation.community_id)
    message = await target.send(**kwargs)
    if thread:
        name = disclosure.fit(f"{tag}{disclosure.SEPARATOR}{activation.title}", 100)
        await message.create_thread(name=name, auto_archive_duration=1440)
    return message


def reply_to(message_id: int | None, channel_id: int) -> discord.MessageReference | None:
    """A reply reference that still posts if the referenced message was deleted."""
    if message_id is None:
        return None
    return discord.MessageReference(message_id=message_id, channel_id=channel_id, fail_if_not_exists=False)


async def brand_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[int]]:
    """Approved brands the caller may act for (all approved brands for moderators)."""
    if interaction.guild_id is None:
        return []
    app = app_of(interaction)
    brands = await app.store.approved_brands(interaction.guild_id)
    if not await is_moderator(interaction):
        managed = set(await app.store.managed_brand_ids(interaction.guild_id, interaction.user.id))
        brands = [(b, n) for b, n in brands if b in managed]
    needle = current.strip().lower()
    return [
        app_commands.Choice(name=f"{name} (#{bid})"[:100], value=bid)
        for bid, name in brands
        if not needle or needle in name.lower() or needle == str(bid)
    ][:25]


def _when(value: datetime | str, now: datetime) -> datetime:
    return value if isinstance(value, datetime) else parse_when(value, now=now)


async def create_activation(
    interaction: discord.Interaction,
    *,
    kind: str,
    brand_id: int,
    channel_id: int,
    starts_at: datetime | str,
    ends_at: datetime | str,
    connection: str,
    title: str,
    config: dict[str, Any],
    after_insert: Callable[[aiosqlite.Connection, int], Awaitable[None]] | None = None,
) -> Activation:
    """All the checks every kind shares, then one transaction: the pending activation + `after_insert`."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    guild_id = interaction.guild_id
    app = app_of(interaction)
    now = app.clock()
    validate_kind(kind, connection)
    clean_title = validate_text(title, limit=TITLE_MAX, what="title")
    brand = await app.store.brand_status(guild_id, brand_id)
    if brand is None:
        raise InvalidInput("activation.error.unknown_brand", brand=brand_id)
    if brand[1] != "approved":
        raise InvalidInput("activation.error.brand_not_approved", brand=i18n.isolate(brand[0]))
    await require_manager_or_moderator(interaction, brand_id)
    start, end = _when(starts_at, now), _when(ends_at, now)
    validate_schedule(start, end, now=now)
    community = await app.community(guild_id)

    def guard(windows: list[tuple[datetime, datetime]]) -> None:
        check_saturation(
            start,
            end,
            windows,
            max_per_week=community.max_sponsored_per_week,
            min_gap_hours=community.min_gap_hours,
        )

    activation_id = await app.store.insert_activation(
        community_id=guild_id,
        brand_id=brand_id,
        kind=kind,
        connection=connection,
        title=clean_title,
        channel_id=channel_id,
        starts_at=start,
        ends_at=end,
        locale=community.locale,
        config=config,
        created_by=interaction.user.id,
        now=now,
        check_windows=guard,
        after_insert=after_insert,
    )
    created = await app.store.get_activation(guild_id, activation_id)
    assert created is not None
    log.info("activation %s (%s) proposed in %s", activation_id, kind, guild_id)
    return created


async def created_reply(interaction: discord.Interaction, activation: Activation) -> None:
    """The ephemeral confirmation every `/activation create <kind>` ends with."""
    app = app_of(interaction)
    text = await app.say(
        interaction,
        "activation.created",
        id=activation.id,
        kind=await app.say(interaction, f"activation.kind.{activation.kind}"),
        title=i18n.isolate(activation.title),
        start=discord.utils.format_dt(activation.starts_at, "f"),
        end=discord.utils.format_dt(activation.ends_at, "f"),
    )
    await interaction.response.send_message(text, ephemeral=True)


# -- the engine -------------------------------------------------------------------------------------


class Activations(commands.Cog):
    """Runs activations: jobs at start/end, boot catch-up, and the guarded transitions with their hooks."""

    def __init__(self, bot: MicrovoiceBot, app: App) -> None:
        self.bot = bot
        self.app = app
        self.booted = asyncio.Event()
        self._locks: dict[int, asyncio.Lock] = {}
        self._boot_task: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        now = self.app.clock()
        for activation in await self.app.store.open_activations():
            if self.app.owns(activation.community_id) and activation.due(now) is None:
                self.schedule(activation)
        self._boot_task = asyncio.create_task(self._catch_up())

    async def cog_unload(self) -> None:
        if self._boot_task is not None and not self._boot_task.done():
            self._boot_task.cancel()

    async def _catch_up(self) -> None:
        """Whatever came due while the bot was down, once the gateway is ready (channels are cached)."""
        try:
            await self.bot.wait_until_ready()
            caught = await self.run_due()
            if caught:
                log.info("caught up %s activation transition(s) at boot", caught)
        finally:
            self.booted.set()

    def schedule(self, activation: Activation) -> None:
        if activation.state == State.SCHEDULED:
            job, when = f"activation:{activation.id}:start", activation.starts_at
        elif activation.state == State.LIVE:
            job, when = f"activation:{activation.id}:end", activation.ends_at
        else:
            return
        self.app.scheduler.at(job, when, partial(self.advance, activation.id))

    async def run_due(self) -> int:
        """Advance every activation that is due at the app clock; returns how many transitions happened."""
        now = self.app.clock()
        total = 0
        for activation in await self.app.store.open_activations():
            if self.app.owns(activation.community_id) and activation.due(now) is not None:
                total += await self.advance(activation.id)
        return total

    async def advance(self, activation_id: int) -> int:
        """Make every transition this activation owes now, each once; then schedule its next job."""
        await self.bot.wait_until_ready()
        lock = self._locks.setdefault(activation_id, asyncio.Lock())
        done = 0
        async with lock:
            activation = await self.app.store.activation_by_id(activation_id)
            now = self.app.clock()
            while activation is not None and (target := activation.due(now)) is not None:
                if target == State.LIVE and not await self._brand_still_approved(activation):
                    await self.app.store.transition_activation(
                        activation.community_id,
                        activation.id,
                        activation.state,
                        State.CANCELLED,
                        actor=None,
                        now=now,
                        reason="brand no longer approved",
                    )
                    return done
                moved = await self.app.store.transition_activation(
                    activation.community_id, activation.id, activation.state, target, actor=None, now=now
                )
                activation = await self.app.store.activation_by_id(activation_id)
                if not moved or activation is None:
                    break
                done += 1
                await self._run_hook(activation)
                activation = await self.app.store.activation_by_id(activation_id)
            # Only after a transition: a job that found nothing due (the activation was cancelled, or
            # an injected test clock lags the real one) must not re-arm itself in a loop.
            if activation is not None and done:
                self.schedule(activation)
        return done

    async def _brand_still_approved(self, activation: Activation) -> bool:
        brand = await self.app.store.brand_status(activation.community_id, activation.brand_id)
        return brand is not None and brand[1] == "approved"

    async def _run_hook(self, activation: Activation) -> None:
        handler = kind_handler(activation.kind)
        if handler is None:
            log.warning("no handler for activation kind %s (activation %s)", activation.kind, activation.id)
            return
        hook = handler.on_live if activation.state == State.LIVE else handler.on_end
        try:
            await hook(self.bot, activation)
        except Exception:
            # The transition stands (it must not repeat); the failure is logged for an operator.
            log.exception("activation %s: %s hook failed", activation.id, activation.state)

    async def cancel(self, activation: Activation, *, by: int, reason: str | None) -> bool:
        now = self.app.clock()
        async with self._locks.setdefault(activation.id, asyncio.Lock()):
            moved = await self.app.store.transition_activation(
                activation.community_id,
                activation.id,
                activation.state,
                State.CANCELLED,
                actor=by,
                now=now,
                reason=reason,
            )
            if moved and activation.state == State.LIVE:
                current = await self.app.store.activation_by_id(activation.id)
                if current is not None:
                    await self._run_hook(current)
        return moved


def engine(interaction: discord.Interaction) -> Activations:
    cog = interaction.client.get_cog("Activations")  # type: ignore[attr-defined]
    assert isinstance(cog, Activations)
    return cog


async def _load(interaction: discord.Interaction, activation_id: int) -> Activation:
    assert interaction.guild_id is not None
    activation = await app_of(interaction).store.get_activation(interaction.guild_id, activation_id)
    if activation is None:
        raise InvalidInput("activation.error.not_found", id=activation_id)
    return activation


def _state_label(lang: str, state: str) -> str:
    return i18n.t(lang, f"activation.state.{state}")


# -- commands ---------------------------------------------------------------------------------------


@activation_group.command(name="approve", description="Approve a proposed activation (moderators)")
@app_commands.describe(activation_id="The activation's number (see /activation list)")
@app_commands.rename(activation_id="id")
@require_role("activation approve")
async def approve(interaction: discord.Interaction, activation_id: int) -> None:
    assert interaction.guild_id is not None
    app = app_of(interaction)
    activation = await _load(interaction, activation_id)
    if activation.state != State.PENDING:
        raise ActivationError(
            "activation.error.bad_state",
            state=_state_label(await app.lang(interaction.guild_id), activation.state),
        )
    brand = await app.store.brand_status(interaction.guild_id, activation.brand_id)
    if brand is None or brand[1] != "approved":
        raise InvalidInput("activation.error.brand_not_approved", brand=i18n.isolate(activation.brand_name))
    now = app.clock()
    if now >= activation.ends_at:
        raise InvalidInput("activation.error.window_passed")
    community = await app.community(interaction.guild_id)

    def guard(windows: list[tuple[datetime, datetime]]) -> None:
        check_saturation(
            activation.starts_at,
            activation.ends_at,
            windows,
            max_per_week=community.max_sponsored_per_week,
            min_gap_hours=community.min_gap_hours,
        )

    moved = await app.store.approve_activation(
        interaction.guild_id, activation.id, by=interaction.user.id, now=now, check_windows=guard
    )
    if not moved:
        raise ActivationError("activation.error.changed")
    cog = engine(interaction)
    approved = await app.store.get_activation(interaction.guild_id, activation.id)
    due = approved is not None and approved.due(now) is not None
    if approved is not None and not due:
        cog.schedule(approved)
    await interaction.response.send_message(
        await app.say(
            interaction,
            "activation.approved",
            id=activation.id,
            start=discord.utils.format_dt(activation.starts_at, "f"),
        ),
        ephemeral=True,
    )
    if due:  # approved after its start time: it starts now (after the reply, which must be quick)
        await cog.advance(activation.id)


@activation_group.command(
    name="reject", description="Reject a proposed activation with a reason (moderators)"
)
@app_commands.describe(activation_id="The activation's number", reason="Why; the brand sees this")
@app_commands.rename(activation_id="id")
@require_role("activation reject")
async def reject(interaction: discord.Interaction, activation_id: int, reason: str) -> None:
    assert interaction.guild_id is not None
    app = app_of(interaction)
    why = validate_text(reason, limit=REASON_MAX, what="reason")
    activation = await _load(interaction, activation_id)
    if activation.state != State.PENDING:
        raise ActivationError(
            "activation.error.bad_state",
            state=_state_label(await app.lang(interaction.guild_id), activation.state),
        )
    moved = await app.store.transition_activation(
        interaction.guild_id,
        activation.id,
        State.PENDING,
        State.REJECTED,
        actor=interaction.user.id,
        now=app.clock(),
        reason=why,
    )
    if not moved:
        raise ActivationError("activation.error.changed")
    await interaction.response.send_message(
        await app.say(interaction, "activation.rejected", id=activation.id, reason=i18n.isolate(why)),
        ephemeral=True,
    )


@activation_group.command(
    name="cancel", description="Cancel an activation (moderators or its brand's managers)"
)
@app_commands.describe(activation_id="The activation's number", reason="Optional reason")
@app_commands.rename(activation_id="id")
@require_role("activation cancel")
async def cancel(interaction: discord.Interaction, activation_id: int, reason: str | None = None) -> None:
    assert interaction.guild_id is not None
    app = app_of(interaction)
    activation = await _load(interaction, activation_id)
    await require_manager_or_moderator(interaction, activation.brand_id)
    why = validate_text(reason, limit=REASON_MAX, what="reason") if reason else None
    if State.CANCELLED not in _next_states(activation.state):
        raise ActivationError(
            "activation.error.bad_state",
            state=_state_label(await app.lang(interaction.guild_id), activation.state),
        )
    await interaction.response.defer(ephemeral=True, thinking=True)
    moved = await engine(interaction).cancel(activation, by=interaction.user.id, reason=why)
    key = "activation.cancelled" if moved else "activation.error.changed"
    await interaction.followup.send(await app.say(interaction, key, id=activation.id), ephemeral=True)


def _next_states(state: str) -> frozenset[State]:
    return TRANSITIONS[State(state)]


@activation_group.command(
    name="list", description="Recent activations (moderators; brand managers see theirs)"
)
@require_role("activation list")
async def list_(interaction: discord.Interaction) -> None:
    assert interaction.guild_id is not None
    app = app_of(interaction)
    lang = await app.lang(interaction.guild_id)
    brand_ids: list[int] | None = None
    if not await is_moderator(interaction):
        brand_ids = await app.store.managed_brand_ids(interaction.guild_id, interaction.user.id)
        if not brand_ids:
            raise Forbidden("activation.error.not_manager")
    items = await app.store.list_activations(interaction.guild_id, brand_ids=brand_ids)
    embed = discord.Embed(title=i18n.t(lang, "activation.list_title"))
    if not items:
        embed.description = i18n.t(lang, "activation.list_empty")
    else:
        embed.description = "\n".join(
            i18n.t(
                lang,
                "activation.list_line",
                id=a.id,
                kind=i18n.t(lang, f"activation.kind.{a.kind}"),
                state=_state_label(lang, a.state),
                title=i18n.isolate(a.title),
                brand=i18n.isolate(a.brand_name),
                start=discord.utils.format_dt(a.starts_at, "f"),
            )
            for a in items
        )[:4000]
    await interaction.response.send_message(embed=embed, ephemeral=True)


@activation_group.command(
    name="show", description="One activation in detail (moderators or its brand's managers)"
)
@app_commands.describe(activation_id="The activation's number")
@app_commands.rename(activation_id="id")
@require_role("activation show")
async def show(interaction: discord.Interaction, activation_id: int) -> None:
    assert interaction.guild_id is not None
    app = app_of(interaction)
    lang = await app.lang(interaction.guild_id)
    activation = await _load(interaction, activation_id)
    await require_manager_or_moderator(interaction, activation.brand_id)
    lines = [
        i18n.t(lang, "activation.show_brand", brand=i18n.isolate(activation.brand_name)),
        i18n.t(lang, "activation.show_state", state=_state_label(lang, activation.state)),
        i18n.t(lang, "activation.show_channel", channel=f"<#{activation.channel_id}>"),
        i18n.t(
            lang,
            "activation.show_window",
            start=discord.utils.format_dt(activation.starts_at, "f"),
            end=discord.utils.format_dt(activation.ends_at, "f"),
            utc=f"{format_time(activation.starts_at)} – {format_time(activation.ends_at)}",
        ),
        i18n.t(lang, "activation.show_disclosure", tag=tag_for(activation)),
    ]
    if activation.reason:
        lines.append(i18n.t(lang, "activation.show_reason", reason=i18n.isolate(activation.reason)))
    handler = kind_handler(activation.kind)
    describe = getattr(handler, "describe", None)
    if callable(describe):
        lines.extend(describe(activation, lang))
    history = await app.store.activation_log(activation.id)
    lines.append(
        i18n.t(
            lang,
            "activation.show_history",
            history=" → ".join(_state_label(lang, to) for _, to, _, _ in history),
        )
    )
    embed = discord.Embed(
        title=i18n.t(
            lang,
            "activation.show_title",
            id=activation.id,
            kind=i18n.t(lang, f"activation.kind.{activation.kind}"),
            title=i18n.isolate(activation.title),
        )[:256],
        description="\n".join(lines)[:4000],
    )
    await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: MicrovoiceBot) -> None:
    assert bot.app is not None
    bot.tree.add_command(activation_group, override=True)
    await bot.add_cog(Activations(bot, bot.app))
