"""Composition root: `App` holds the services, `MicrovoiceBot` is the discord.py client that uses them.

`bot/` stays free of discord imports except here: this module is the seam between the platform and
the core. Nothing is built at import time; `build_bot(settings)` builds everything once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib
import json
import logging
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import discord
import discord.asset
import discord.gateway
import discord.http
import yarl
from discord import app_commands
from discord.ext import commands

import cogs
from bot import allocator, cpu, i18n
from bot.activations.giveaways import GiveawayService
from bot.activations.qa import QaService
from bot.activations.service import SWEEP_JOB, SWEEP_MINUTES, ActivationService
from bot.activations.takeovers import TakeoverService
from bot.audit import AuditLog
from bot.command_sync import (
    GLOBAL,
    LEGACY_PREFIX,
    REFUSAL_HINTS,
    REFUSED_STATUSES,
    CommandSync,
    PermanentSyncError,
    SyncElsewhere,
    SyncFailed,
    legacy_scope,
    parse_record,
    record_key,
    scope_label,
)
from bot.community import CommunityService
from bot.config import Settings
from bot.discord_adapter.checks import guard_server_only
from bot.discord_adapter.messages import DiscordHistory
from bot.discord_adapter.moderation import DiscordModeration
from bot.discord_adapter.platform import DiscordPlatform
from bot.discord_adapter.render import bad_option
from bot.engagement import EngagementRecorder
from bot.errors import MicrovoiceError, ShuttingDown
from bot.gapfill import GapFill
from bot.ingest import Ingest
from bot.invite import invite_url
from bot.live_takeovers import LiveTakeovers
from bot.partners import BrandService, PartnerService
from bot.platform import PlatformRouter
from bot.privacy import RETENTION_EVERY_MINUTES, RETENTION_FIRST_SECONDS, RETENTION_JOB, PrivacyService
from bot.reports.service import DIGEST_EVERY_MINUTES, DIGEST_JOB, PlatformSink, ReportService
from bot.scheduler import Scheduler
from bot.shards import Shards, ShardsLost, ShardTaken, shard_lock_name
from bot.store import CommunitySettings, HeldLocks, Store, discover_migrations
from bot.subreddits.ids import platform_of
from bot.trust import TrustParams, Voices
from bot.trust.voice_role_service import VoiceRoles

if TYPE_CHECKING:
    from bot.activations.subreddit import SubredditActivations
    from bot.links import LinkService
    from bot.subreddits import SubredditService
    from reddit import RedditAdapter

log = logging.getLogger(__name__)


def point_discord_at(api_base: str, gateway_url: str, cdn_base: str = "") -> None:
    """Send discord.py's REST and gateway traffic (and, if given, asset URLs) to these endpoints.

    discord.py keeps its endpoints as class attributes; this is the one place that changes them. The
    gateway URL is needed as well as the REST base: an unsharded client connects to discord.py's
    default gateway instead of asking `GET /gateway/bot`, and falls back to it after a lost session.
    """
    discord.http.Route.BASE = api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    if cdn_base:
        discord.asset.Asset.BASE = cdn_base.rstrip("/")


@cache
def discover_cogs() -> tuple[str, ...]:
    """Every module in cogs/ that defines an extension `setup`, in name order. Found (and imported) once
    per process; `setup_hook` calls each module's `setup` on the module imported here."""
    names: list[str] = []
    for info in sorted(pkgutil.iter_modules(cogs.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"cogs.{info.name}")
        if callable(getattr(module, "setup", None)):
            names.append(module.__name__)
    return tuple(names)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class App:
    """The services a cog may use. Cogs turn interactions into calls on this and nothing else."""

    settings: Settings
    store: Store
    ingest: Ingest
    voices: Voices
    scheduler: Scheduler
    communities: CommunityService
    partners: PartnerService
    brands: BrandService
    privacy: PrivacyService
    activations: ActivationService
    giveaways: GiveawayService
    qa: QaService
    takeovers: TakeoverService
    recorder: EngagementRecorder
    gapfill: GapFill
    live_takeovers: LiveTakeovers
    command_sync: CommandSync
    voice_roles: VoiceRoles
    audit: AuditLog
    reports: ReportService
    clock: Callable[[], datetime] = utcnow
    shards: Shards = field(default_factory=Shards)

    def owns(self, community_id: int) -> bool:
        """Whether this process runs that community's scheduled work (its guild is on our shards)."""
        return self.shards.owns(community_id)

    # The Reddit side, only when Reddit credentials are set (otherwise the bot is Discord-only).
    reddit: RedditAdapter | None = None
    subreddits: SubredditService | None = None
    links: LinkService | None = None
    reddit_activations: SubredditActivations | None = None

    async def community(self, community_id: int) -> CommunitySettings:
        return await self.communities.get(community_id)

    async def lang(self, community_id: int | None) -> str:
        return await self.communities.lang(community_id)

    def forget_locale(self, community_id: int) -> None:
        self.communities.forget_locale(community_id)

    async def say(self, interaction: discord.Interaction, key: str, **params: object) -> str:
        return i18n.t(await self.lang(interaction.guild_id), key, **params)


async def reply_error(interaction: discord.Interaction, error: BaseException) -> None:
    """The one error path for commands, buttons and modals: a clear, localized, ephemeral reply
    (never a traceback in Discord); unexpected errors are logged with their traceback."""
    cause = getattr(error, "original", error)
    if isinstance(cause, ShuttingDown):  # the connection and the database are closing: nothing to say
        log.info("interaction %s not answered: the bot is shutting down", interaction.id)
        return
    if isinstance(cause, MicrovoiceError) or hasattr(cause, "key"):
        key, params = cause.key, getattr(cause, "params", {})  # type: ignore[union-attr]
    elif isinstance(cause, app_commands.TransformerError):  # a value the command's options do not allow
        key, params = bad_option(interaction, cause)
    elif isinstance(cause, app_commands.NoPrivateMessage):
        key, params = "error.guild_only", {}
    elif isinstance(cause, app_commands.CommandOnCooldown):
        key, params = "error.cooldown", {"seconds": int(cause.retry_after) + 1}
    elif isinstance(cause, app_commands.CheckFailure):
        key, params = "error.forbidden", {}
    else:
        name = interaction.command.qualified_name if interaction.command else "component"
        log.error("/%s failed (interaction %s)", name, interaction.id, exc_info=error)
        key, params = "error.generic", {}
    app = getattr(interaction.client, "app", None)
    text = await app.say(interaction, key, **params) if app else i18n.t("en", key, **params)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver the error reply for interaction %s", interaction.id)


def describe_discord_error(error: Exception) -> str:
    """Discord's own error (status, code, message and form errors) rather than discord.py's summary."""
    if isinstance(error, discord.HTTPException):
        return f"HTTP {error.status}, code {error.code}: {error.text}".strip()
    return str(error) or type(error).__name__


class MicrovoiceTree(app_commands.CommandTree["MicrovoiceBot"]):
    """One error path for every command: a clear ephemeral reply, never a traceback in Discord."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await reply_error(interaction, error)


def intents_for(settings: Settings) -> discord.Intents:
    """Only non-privileged intents unless the operator enabled a privileged one in the portal."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.guild_reactions = True
    # Not privileged: GUILD_BAN_ADD ends a banned member's partner status at once.
    intents.moderation = True
    intents.members = settings.members_intent
    intents.message_content = settings.message_content_intent
    return intents


#: How long a starting process waits for its shards' locks (a process killed a moment ago releases
#: them when the database notices it is gone) before it refuses to start.
SHARD_LOCK_WAIT = 15.0
#: How long the weekly digest caught up at start-up waits for the start-up gap fill (what was sent
#: while the bot was down) before it is posted anyway.
GAP_FILL_WAIT = 600.0


class MicrovoiceBot(commands.Bot):
    def __init__(
        self, settings: Settings, *, clock: Callable[[], datetime] = utcnow, **client_options: Any
    ) -> None:
        """`client_options` go to discord.py's client as they are (e.g. `guild_ready_timeout`)."""
        super().__init__(
            # No text commands: member messages are never parsed for a command (see `on_message`).
            command_prefix=(),
            intents=intents_for(settings),
            tree_cls=MicrovoiceTree,
            # User-supplied text must never ping @everyone, @here or roles.
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            **client_options,
        )
        self.settings = settings
        self.clock = clock
        self.app: App | None = None
        self._store: Store | None = None
        self._shard_locks: HeldLocks | None = None
        self._closing: asyncio.Future[None] | None = None
        self._stopping: asyncio.Task[None] | None = None
        #: Why the bot stopped itself (its shards taken over), for a non-zero exit; None otherwise.
        self.stopped_by: Exception | None = None

    @property
    def on_message(self) -> Any:
        """Absent: commands.Bot's own handler would look for a prefix command in every member message
        (and log the member's first word when it finds none). discord.py dispatches an event to the
        client only when the attribute exists; the cogs' listeners still get every message."""
        raise AttributeError("on_message")

    @property
    def shards(self) -> Shards:
        return Shards(self.settings.shard_ids, self.settings.shard_count)

    async def open_store(self) -> Store:
        """The database, ready for this process: connected, its shards' locks taken (and watched), and
        only then migrated, so a process refused its shards changes nothing, not even the schema.
        Processes starting together migrate in turn (bot/store/migrate.py). `python -m bot run` calls
        this before logging in to Discord; `setup_hook` otherwise."""
        if self._store is not None:
            return self._store
        store = await Store.open(self.settings.database, migrate=False)
        shards = self.shards
        held: HeldLocks | None = None
        try:
            if shards.sharded:  # two processes serving one shard would run its jobs twice
                names = {shard_lock_name(shards.count, i): i for i in shards.owned}
                taken = await store.hold(list(names))
                waited = 0.0
                while isinstance(taken, list) and waited < SHARD_LOCK_WAIT:
                    # A process just killed still holds its locks until the server notices it is gone.
                    await asyncio.sleep(1.0)
                    waited += 1.0
                    taken = await store.hold(list(names))
                if isinstance(taken, list):
                    raise ShardTaken(shards.count, sorted(names[n] for n in taken))
                held = taken
                held.watch(lambda lost: self._shards_lost(sorted(names[n] for n in lost)))
            await store.migrate(discover_migrations())
        except BaseException:
            if held is not None:
                await held.release()
            await store.close()
            raise
        self._store, self._shard_locks = store, held
        return store

    def _shards_lost(self, lost: list[int]) -> None:
        """Another process serves some of our shards now (our locks went with a lost connection): stop
        at once rather than run their jobs a second time."""
        error = ShardsLost(self.shards.count, lost)
        log.error("%s", error)
        self.stopped_by = error
        if self.app is not None:
            self.app.scheduler.shutdown()  # no job starts while the rest shuts down
        self._stopping = asyncio.create_task(self.close(), name="microvoice-stop")

    async def setup_hook(self) -> None:
        store = await self.open_store()
        shards = self.shards
        params = TrustParams(min_peers_listed=self.settings.trust_min_peers)
        # Brand contacts and erased members' pseudonyms are never ranked.
        voices = Voices(
            store,
            params=params,
            clock=self.clock,
            excluded=store.ranking_exclusions,
            memory_budget_mb=self.settings.trust_memory_mb,
        )
        ingest = Ingest(
            store,
            batch_size=self.settings.ingest_batch_size,
            flush_ms=self.settings.ingest_flush_ms,
            on_written=voices.absorb,  # keeps the cached trust graphs up to date
        )
        ingest.start()
        await ingest.load_erased()
        recorder = EngagementRecorder(ingest)
        await recorder.load(store)
        live_takeovers = LiveTakeovers(store)
        await live_takeovers.load()
        scheduler = Scheduler()
        clock = self.clock
        moderation = DiscordModeration(self)
        audit = AuditLog(store, default_locale=self.settings.default_locale)
        audit.attach(moderation)
        voice_roles = VoiceRoles(store, clock=clock, pace=self.settings.voice_role_pace_ms / 1000)
        communities = CommunityService(
            store,
            ingest,
            clock=clock,
            default_locale=self.settings.default_locale,
            default_retention_days=self.settings.retention_days,
            audit=audit,
        )

        async def sync_voice_roles(community_id: int) -> None:
            # Never awaited to the end: the changes are made by the community's own sync task.
            reason = i18n.t(await communities.lang(community_id), "voices.role_reason")
            voice_roles.request(community_id, moderation, reason=reason)

        brands = BrandService(store, communities, clock=clock, audit=audit)

        async def take_back_roles(community_id: int, member_id: int) -> list[int]:
            """The trusted-voice roles, and the roles of the brands they are a contact of, taken back
            before an erasure (afterwards nothing records who holds them); returns those Discord refused."""
            reason = i18n.t(await communities.lang(community_id), "voices.role_reason_erased")
            held = await voice_roles.held_by(community_id, member_id)
            held += [r for r in await brands.contact_roles(community_id, member_id) if r not in held]
            kept = []
            for role_id in held:
                if await moderation.remove_role(community_id, member_id, role_id, reason=reason) == "refused":
                    kept.append(role_id)
            return kept

        voices.after_recompute = sync_voice_roles
        privacy = PrivacyService(
            store,
            ingest,
            voices,
            clock=clock,
            default_retention_days=self.settings.retention_days,
            owns=shards.owns,
            linked=store.linked_identities,
            audit=audit,
            before_erase=take_back_roles,
            roles_held=voice_roles.syncing,
        )
        platform = DiscordPlatform(self)
        activations = ActivationService(
            store,
            # Activations in a subreddit go to the Reddit platform once it is attached (_build_reddit).
            PlatformRouter(platform, platform_of=platform_of),
            scheduler,
            clock=clock,
            default_locale=self.settings.default_locale,
            audit=audit,
            owns=shards.owns,
        )
        reports = ReportService(
            store,
            clock=clock,
            default_locale=self.settings.default_locale,
            sink=PlatformSink(platform),
            flush=ingest.flush,
            owns=shards.owns,
        )
        activations.on_ended(reports.activation_ended)  # its report goes to the report channel
        giveaways = GiveawayService(activations, ingest)
        qa = QaService(activations)
        takeovers = TakeoverService(activations, relay=self.settings.message_content_intent)
        activations.register("giveaway", giveaways)
        activations.register("qa", qa)
        activations.register("takeover", takeovers)
        self.app = App(
            settings=self.settings,
            store=store,
            ingest=ingest,
            voices=voices,
            scheduler=scheduler,
            communities=communities,
            partners=PartnerService(store, communities, clock=clock, audit=audit),
            brands=brands,
            privacy=privacy,
            activations=activations,
            giveaways=giveaways,
            qa=qa,
            takeovers=takeovers,
            recorder=recorder,
            gapfill=GapFill(store, recorder, DiscordHistory(self)),
            live_takeovers=live_takeovers,
            command_sync=CommandSync(
                self.sync_commands_if_changed, clock=clock, describe=describe_discord_error
            ),
            voice_roles=voice_roles,
            audit=audit,
            reports=reports,
            clock=clock,
            shards=shards,
        )
        if self.settings.reddit_enabled:
            self._build_reddit(self.app)
        # Each cog module's `setup`, called on the module imported once, not `load_extension`: that would
        # run every cog module again at each start (building its commands anew), and unloading it at
        # close scans every loaded module; `commands.Bot.close` still removes each cog.
        for name in discover_cogs():
            await importlib.import_module(name).setup(self)
        guard_server_only(self.tree)
        await activations.start()
        # Never awaited here: a refused, failing or rate-limited sync must not hold up or stop the
        # bot (the ledger records from the first event); see bot/command_sync.py.
        self.app.command_sync.start()
        scheduler.every_minutes(
            "trust-recompute", self.settings.trust_interval_minutes, self._recompute_trust
        )
        scheduler.every_minutes(RETENTION_JOB, RETENTION_EVERY_MINUTES, privacy.purge_expired)
        # An interval job first runs one interval after it is added: a bot restarted daily would
        # never purge. The first purge runs soon after start-up.
        scheduler.after(f"{RETENTION_JOB}-at-start", RETENTION_FIRST_SECONDS, privacy.purge_expired)
        scheduler.every_minutes(SWEEP_JOB, SWEEP_MINUTES, activations.sweep)
        scheduler.every_minutes(DIGEST_JOB, DIGEST_EVERY_MINUTES, reports.run_digests)
        reports.start(self._gap_filled)
        if self.app.reddit_activations is not None:
            from bot.activations.subreddit import SYNC_EVERY_MINUTES, SYNC_JOB

            scheduler.every_minutes(SYNC_JOB, SYNC_EVERY_MINUTES, self.app.reddit_activations.sync_live)
        scheduler.start()
        if self.app.reddit is not None:
            self.app.reddit.start()
        # The start-up reads above (known bots, thread owners, live takeovers, pending work) filled
        # the page cache with pages no command needs.
        await store.release_memory()

    def _build_reddit(self, app: App) -> None:
        """The Reddit side: its adapter (praw, in a thread of its own) and the services it feeds."""
        # Imported only when Reddit is configured: praw, and the services only the Reddit side uses.
        from bot.activations.subreddit import SubredditActivations
        from bot.links import LinkService
        from bot.subreddits import SubredditService
        from reddit import RedditAdapter, RedditPlatform

        adapter = RedditAdapter(self.settings, owns=app.owns, reads_inbox=app.shards.first)
        app.reddit = adapter
        app.subreddits = SubredditService(app.store, app.ingest, adapter, clock=self.clock)
        app.links = LinkService(
            app.store,
            bot_account=self.settings.reddit_username,
            clock=self.clock,
            platform=app.activations.platform,
            lang_of=app.communities.lang,
        )
        adapter.attach(app.subreddits, app.links)
        platform = RedditPlatform(adapter, app.subreddits, lang_of=app.communities.lang)
        adapter.on_author = platform.remember  # names the accounts it streams (rankings, replies)
        app.privacy.on_erased.append(platform.forget)  # an erased account's name leaves memory too
        app.activations.platform.attach("reddit", platform)
        app.reddit_activations = SubredditActivations(app.activations, platform, app.ingest)
        app.reddit_activations.register()

    async def on_ready(self) -> None:
        if not self.guilds and self.application_id is not None:
            log.warning("Microvoice is in no server yet; invite it with %s", invite_url(self.application_id))

    async def _recompute_trust(self) -> None:
        if self.app is not None:
            await self.app.ingest.flush()
            await self.app.voices.recompute_all(only=self.app.owns)
            await self.app.store.release_memory()

    async def close(self) -> None:
        """Idempotent: a second caller (the runner after the bot stopped itself) waits for the first."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._shut_down())
        await asyncio.shield(self._closing)

    async def _shut_down(self) -> None:
        app = self.app
        if app is not None:
            await app.audit.drain()  # lines still being posted go out before the connection closes
            await app.command_sync.close()  # not left to fail (and log) on a closed connection
            await app.voice_roles.close()  # role changes under way stop after the one in flight
            await app.activations.close()  # platform work under way stops, to be caught up at start-up
        try:
            await super().close()
        finally:
            if app is not None:
                if app.reddit is not None:
                    await app.reddit.stop()
                await app.command_sync.close()
                await app.live_takeovers.close()
                await app.reports.close()
                app.giveaways.close()
                app.scheduler.shutdown()
                await app.ingest.stop()
                self.app = None
            if self._shard_locks is not None:
                await self._shard_locks.release()
                self._shard_locks = None
            if self._store is not None:
                await self._store.close()
                self._store = None

    # -- command sync -----------------------------------------------------------------------------

    async def _gap_filled(self) -> None:
        """Discord is ready and the start-up gap fill has ended (or `GAP_FILL_WAIT` passed): a digest
        claimed now counts what was sent while the bot was down (it is never redone)."""
        assert self.app is not None
        await self.wait_until_ready()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.app.gapfill.settled.wait(), GAP_FILL_WAIT)

    def _tree_fingerprint(self, guild: discord.abc.Snowflake | None) -> str:
        payload: list[dict[str, Any]] = [c.to_dict(self.tree) for c in self.tree.get_commands(guild=guild)]
        blob = json.dumps(sorted(payload, key=lambda c: c["name"]), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    async def sync_commands_if_changed(self, *, force: bool = False) -> bool:
        """Sync only when the command tree changed (Discord allows about 200 syncs a day). Sharded
        processes share the application's commands: one of them syncs at a time, under a database-wide
        lock; another process meanwhile raises `SyncElsewhere`, and finds the fingerprints stored when
        it looks again."""
        assert self.app is not None
        async with self.app.store.exclusive("command-sync") as mine:
            if not mine:
                raise SyncElsewhere
            return await self._sync_commands(force=force)

    async def _sync_commands(self, *, force: bool) -> bool:
        """Register the tree in each configured scope whose commands changed since this application
        last registered them there, then empty the scopes it registered before but no longer uses
        (guilds left out of MICROVOICE_COMMAND_GUILD_IDS; the global scope once guild-only). A scope
        Discord refuses for good is remembered and skipped; the others go on."""
        assert self.app is not None and self.application_id is not None
        app_id = self.application_id
        store, refused = self.app.store, self.app.command_sync.refused
        key = record_key(app_id)
        record = await self._command_record(key)
        wanted = [str(g) for g in self.settings.command_guild_ids] or [GLOBAL]
        failures: list[str] = []
        reasons: dict[str, str] = {}  # each failed scope's own reason
        changed = False
        for scope in wanted:
            if scope in refused:
                continue
            guild = None if scope == GLOBAL else discord.Object(id=int(scope))
            if guild is not None:
                self.tree.copy_global_to(guild=guild)
            fingerprint = self._tree_fingerprint(guild)
            if not force and record.get(scope) == fingerprint:
                continue
            try:
                await self.tree.sync(guild=guild)
            except (discord.HTTPException, OSError) as error:
                reason = f"{scope_label(scope)}: {describe_discord_error(error)}"
                if isinstance(error, discord.HTTPException) and error.status in REFUSED_STATUSES:
                    hint = REFUSAL_HINTS.get(error.code) if guild is not None else None
                    refused[scope] = f"{reason} — {hint}" if hint else reason
                else:
                    failures.append(reason)
                    reasons[scope] = reason
                continue
            record[scope] = fingerprint
            await store.set_state(key, json.dumps(record, sort_keys=True))
            log.info("application commands registered (%s)", scope_label(scope))
            changed = True
        for scope in [s for s in record if s not in wanted]:
            try:
                if scope == GLOBAL:
                    await self.http.bulk_upsert_global_commands(app_id, [])
                else:
                    await self.http.bulk_upsert_guild_commands(app_id, int(scope), [])
            except (discord.HTTPException, OSError) as error:
                # 403/404: the bot is no longer in that server, and its commands went with it.
                if not (isinstance(error, discord.HTTPException) and error.status in (403, 404)):
                    label = scope_label(scope, configured=False)
                    reasons[scope] = f"removing the commands of {label}: {describe_discord_error(error)}"
                    failures.append(reasons[scope])
                    continue
            del record[scope]
            await store.set_state(key, json.dumps(record, sort_keys=True))
            log.info("application commands removed (%s)", scope_label(scope, configured=False))
            changed = True
        if failures:
            raise SyncFailed("; ".join([*failures, *refused.values()]), {**refused, **reasons})
        if refused:
            raise PermanentSyncError("; ".join(refused.values()), refused)
        return changed

    async def _command_record(self, key: str) -> dict[str, str]:
        """What this application registered where. Records written before they named the application
        become this application's, once: their scopes are emptied if no longer configured, and every
        configured scope is registered again (the fingerprints may be another application's)."""
        assert self.app is not None
        store = self.app.store
        raw = await store.get_state(key)
        if raw is not None:
            return parse_record(raw)
        rows = await store.fetch_all(
            "SELECT key FROM bot_state WHERE key LIKE :prefix", dict(prefix=f"{LEGACY_PREFIX}%")
        )
        legacy = {str(k): legacy_scope(str(k)) for (k,) in rows}
        record = {scope: "" for scope in legacy.values() if scope is not None}
        await store.set_state(key, json.dumps(record, sort_keys=True))
        for old, scope in legacy.items():
            if scope is not None:
                await store.write("DELETE FROM bot_state WHERE key = :key", dict(key=old))
        return record


class ShardedMicrovoiceBot(MicrovoiceBot, commands.AutoShardedBot):
    """The bot as one process of several: discord.py's sharded client, on the shards in settings."""


def build_bot(
    settings: Settings, *, clock: Callable[[], datetime] = utcnow, **client_options: Any
) -> MicrovoiceBot:
    allocator.tune()  # before the bot starts its threads (see bot/allocator.py)
    cpu.prefer_fast_sorts()  # before the first recompute imports numpy (see bot/cpu.py)
    cpu.log_setting()
    if settings.shard_count:
        options = dict(shard_count=settings.shard_count, **client_options)
        if settings.shard_ids:
            options["shard_ids"] = list(settings.shard_ids)
        return ShardedMicrovoiceBot(settings, clock=clock, **options)
    return MicrovoiceBot(settings, clock=clock, **client_options)
