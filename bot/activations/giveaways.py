"""Giveaways and unique discount codes: proposing a giveaway, entering and leaving it, eligibility, the
commit-reveal draw at the end, rerolls, prize claims, code pools, code claims and redemption reports.

The rules and the draw are pure (`bot.activations.draw`, docs/giveaways.md); each draw round is one
guarded row in the store, so winners are drawn once whatever races or restarts happen, and the results
are posted once: the opening and the results post are steps of the activation's durable intents
(bot/activations/intents.py), retried until done and caught up at start-up. Every post and edit goes
through `Publisher`, so it carries the disclosure. The buttons are actions with fixed ids ending in
the activation id (`ENTER`, `LEAVE`, `CLAIM`, `CODE`); all state lives in the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial

from bot import i18n
from bot.activations import codes, draw
from bot.activations.codes import RedemptionReport
from bot.activations.draw import Eligibility, GiveawayConfig, MemberFacts
from bot.activations.intents import CLOSE, Steps
from bot.activations.model import Activation, State
from bot.activations.service import ActivationService, Actor, Approval, Proposal, brand_label, state_label
from bot.errors import Forbidden, InvalidInput, MicrovoiceError
from bot.ingest import Ingest
from bot.ledger import parse_iso
from bot.platform import Action, Attachment, Card, Member

log = logging.getLogger(__name__)

ENTER = "microvoice:giveaway:enter"
LEAVE = "microvoice:giveaway:leave"
CLAIM = "microvoice:giveaway:claim"
CODE = "microvoice:codes:claim"
EDIT_INTERVAL_SECONDS = 5.0  # at most one edit of a giveaway's post per this many seconds
#: A reroll round whose announcement failed is posted again after this many seconds (and at start-up,
#: and before any further reroll of the giveaway).
REROLL_RETRY_SECONDS = 60.0
CLOSED_STATES = (State.ENDED, State.CANCELLED, State.REJECTED)
#: Reads an uploaded file when the service needs it (after its checks, so a refused caller uploads nothing).
Upload = Callable[[], Awaitable[bytes]]
_CLAIM_KEYS = {"claimed": "claimed", "already": "claim_already", "not_winner": "claim_not_winner"}


@dataclass(frozen=True)
class GiveawayTerms:
    """What `/activation create giveaway` asks for beyond the shared `Proposal` (whose title is the prize)."""

    rules: str
    winners: int
    min_days: int = 0
    min_events: int = 0
    required_role_id: int | None = None
    excluded_role_ids: Sequence[int] = ()
    codes_file: Upload | None = None
    #: One role a moderator chose to ping when the giveaway opens (only that role is notified).
    ping_role_id: int | None = None


def config_of(activation: Activation) -> GiveawayConfig:
    return GiveawayConfig.from_json(activation.config)


class LiveCounter:
    """Coalesced edits of a giveaway's post: at most one per `interval` seconds of the injected clock per
    giveaway, and the last change always reaches the post (a pending edit reads the count when it runs,
    not when it was asked for)."""

    def __init__(
        self,
        refresh: Callable[[int], Awaitable[None]],
        *,
        clock: Callable[[], datetime],
        interval: float = EDIT_INTERVAL_SECONDS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.refresh = refresh
        self.clock = clock
        self.interval = interval
        self.sleep = sleep
        self.edits = 0
        self._pending: dict[int, asyncio.Task[None]] = {}  # edits not started yet, one per giveaway
        self._running: set[asyncio.Task[None]] = set()  # every edit until it is done
        self._last: dict[int, datetime] = {}

    def touch(self, activation_id: int) -> None:
        if activation_id not in self._pending:
            task = asyncio.create_task(self._edit_later(activation_id))
            self._pending[activation_id] = task
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _edit_later(self, activation_id: int) -> None:
        try:
            last = self._last.get(activation_id)
            if last is not None:
                wait = (last + timedelta(seconds=self.interval) - self.clock()).total_seconds()
                if wait > 0:
                    await self.sleep(wait)
        finally:
            self._pending.pop(activation_id, None)
        self._last[activation_id] = self.clock()
        try:
            await self.refresh(activation_id)
            self.edits += 1
        except Exception:
            log.warning("could not update the entry count of giveaway %s", activation_id, exc_info=True)

    async def drain(self) -> None:
        """Wait for the edits already asked for, including one that has started (it has left `_pending`
        but may still be reading the count or editing the post)."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    def close(self) -> None:
        for task in self._running:
            task.cancel()
        self._pending.clear()


class GiveawayService:
    """The giveaway kind: registered with the engine, and what the giveaway buttons and commands call."""

    def __init__(self, engine: ActivationService, ingest: Ingest) -> None:
        self.engine = engine
        self.store = engine.store
        self.publisher = engine.publisher
        self.platform = engine.platform
        self.clock = engine.clock
        self.ingest = ingest
        self.counter = LiveCounter(self._refresh_live, clock=engine.clock)
        self._locks: dict[int, asyncio.Lock] = {}

    def _lock(self, activation_id: int) -> asyncio.Lock:
        return self._locks.setdefault(activation_id, asyncio.Lock())

    def mentions(self, member_ids: Sequence[int], lang: str) -> str:
        """Mentions of members, listed as `lang` lists; an erased member's pseudonym (negative,
        /privacy forget) shows as a dash."""
        return i18n.join(lang, (self.platform.mention(m) if m > 0 else "\N{EM DASH}" for m in member_ids))

    # -- proposing --------------------------------------------------------------------------------------

    async def create(
        self, actor: Actor, proposal: Proposal, terms: GiveawayTerms, *, stated_by: int | None = None
    ) -> tuple[Activation, str]:
        """A pending giveaway with its secret seed (and code pool) in one transaction; returns it and the
        public commitment of the seed. A ping role is only for moderators to choose."""
        if terms.ping_role_id is not None and not actor.is_moderator:
            raise MicrovoiceError("giveaway.error.ping_moderators")
        config = draw.validate_config(
            prize=proposal.title,
            rules=terms.rules,
            winners=terms.winners,
            min_days=terms.min_days,
            min_events=terms.min_events,
            required_role_id=terms.required_role_id,
            excluded_role_ids=terms.excluded_role_ids,
        )
        pool = (
            codes.parse_pool(codes.decode(await terms.codes_file())) if terms.codes_file is not None else []
        )
        seed = draw.new_seed()
        commitment = draw.commitment(seed)
        activation = await self.engine.create(
            actor,
            "giveaway",
            replace(proposal, title=config.prize),
            # The commitment is public from the start (the seed is not): /activation show lists it.
            config={**config.to_json(), "commitment": commitment, "ping_role_id": terms.ping_role_id},
            insert=partial(
                self.store.insert_giveaway, seed=seed, commitment=commitment, codes=pool, stated_by=stated_by
            ),
        )
        return activation, commitment

    async def create_community(
        self, actor: Actor, proposal: Proposal, terms: GiveawayTerms, *, no_brand: bool
    ) -> tuple[Approval, str]:
        """A community giveaway: no brand is behind it, so its posts say "Community giveaway" instead of
        an advertising disclosure. Only a moderator creates one, and only by stating that no brand
        provided the prize (recorded with who stated it); it is approved at once by that moderator and
        is not counted as sponsored content. The same commit-reveal draw applies."""
        if not actor.is_moderator:
            raise Forbidden("error.moderator_only")
        if not no_brand:
            raise InvalidInput("giveaway.error.statement_required")
        activation, commitment = await self.create(
            actor, replace(proposal, brand_id=None), terms, stated_by=actor.member_id
        )
        return await self.engine.approve(actor, activation.id), commitment

    async def end_now(self, actor: Actor, activation_id: int) -> Activation:
        """End a live giveaway now *with* its draw (cancelling draws nothing). Moderators only."""
        if not actor.is_moderator:
            raise Forbidden("error.moderator_only")
        activation = await self.store.get_activation(actor.community_id, activation_id)
        if activation is None or activation.kind != "giveaway":
            raise InvalidInput("giveaway.error.not_found")
        return await self.engine.end_now(actor, activation_id)

    async def listing(self, actor: Actor, lang: str) -> tuple[list[str], list[str]]:
        """(running giveaways, recent others): everyone sees the running ones; moderators also the
        recent pending, scheduled, ended, cancelled and rejected ones."""
        store, community = self.store, actor.community_id
        running = []
        for a in await store.list_activations(community, kind="giveaway", states=(State.LIVE,)):
            running.append(
                i18n.t(
                    lang,
                    "giveaway.list_running_line",
                    id=a.id,
                    prize=i18n.isolate(a.title),
                    brand=brand_label(a, lang),
                    channel=self.platform.channel_link(a.channel_id),
                    end=self.platform.timestamp(a.ends_at),
                    entries=await store.giveaway_entry_count(a.id),
                )
            )
        recent: list[str] = []
        if actor.is_moderator:
            others = (State.PENDING, State.SCHEDULED, *CLOSED_STATES)
            for a in await store.list_activations(community, kind="giveaway", states=others, limit=15):
                recent.append(
                    i18n.t(
                        lang,
                        "giveaway.list_recent_line",
                        id=a.id,
                        prize=i18n.isolate(a.title),
                        brand=brand_label(a, lang),
                        state=state_label(lang, a.state),
                        start=self.platform.timestamp(a.starts_at),
                    )
                )
        return running, recent

    # -- members --------------------------------------------------------------------------------------

    async def _facts(self, actor: Actor, member: Member | None) -> MemberFacts:
        community_id, member_id = actor.community_id, actor.member_id
        if member is None:
            member = await self.platform.member(community_id, member_id) or Member(member_id)
        joined = member.joined_at
        if joined is None:
            stored = await self.store.member_joined_at(community_id, member_id)
            joined = parse_iso(stored) if stored else None
        return MemberFacts(
            member_id=member_id,
            joined_at=joined,
            role_ids=member.role_ids,
            events=await self.store.member_engagement_events(community_id, member_id),
            is_moderator=actor.is_moderator,
            is_brand_contact=await self.store.is_contact_of_any_brand(community_id, member_id),
            is_bot=member.is_bot,
        )

    async def _require_eligible(
        self, actor: Actor, member: Member | None, rules: Eligibility, *, exclude_moderators: bool
    ) -> None:
        """Raise the member's reason if they may not take part."""
        facts = await self._facts(actor, member)
        if rules.min_events and facts.events < rules.min_events:
            await self.ingest.flush()  # recent engagement may still be in the ingest buffer
            facts = await self._facts(actor, member)
        refusal = draw.check_eligibility(
            facts, rules, now=self.clock(), exclude_moderators=exclude_moderators
        )
        if refusal is not None:
            params = dict(refusal.params)
            if refusal.role_id is not None:
                params["role"] = self.platform.role_mention(refusal.role_id)
            raise MicrovoiceError(refusal.key, **params)

    async def _open(self, actor: Actor, activation_id: int) -> Activation:
        activation = await self.store.get_activation(actor.community_id, activation_id)
        if activation is None:
            raise InvalidInput("giveaway.closed")
        return activation

    async def enter(self, actor: Actor, activation_id: int, member: Member | None = None) -> str:
        """Enter (once); returns the outcome (`entered`, `already`, `closed`) or raises the refusal."""
        activation = await self._open(actor, activation_id)
        if activation.kind != "giveaway" or activation.state != State.LIVE:
            raise InvalidInput("giveaway.closed")
        await self._require_eligible(
            actor, member, config_of(activation).eligibility, exclude_moderators=True
        )
        outcome = await self.store.enter_giveaway(
            actor.community_id, activation.id, actor.member_id, self.clock()
        )
        if outcome == "entered":
            self.counter.touch(activation.id)
        return outcome

    async def leave(self, actor: Actor, activation_id: int) -> str:
        """`left`, `not_entered` or `closed`."""
        activation = await self._open(actor, activation_id)
        outcome = await self.store.leave_giveaway(
            actor.community_id, activation.id, actor.member_id, self.clock()
        )
        if outcome == "left":
            self.counter.touch(activation.id)
        return outcome

    async def claim_prize(self, actor: Actor, activation_id: int) -> str:
        """The catalog key (under `giveaway.`) of the answer: claimed, claimed before, or not a winner.

        Taken in turn with draws and rerolls of the giveaway (its lock): the claim and a reroll's draw
        each check that the other has not happened, which on PostgreSQL holds only if they do not
        run at the same moment (all of a server's interactions reach the process of its shard)."""
        activation = await self._open(actor, activation_id)
        if await self.store.is_contact_of_any_brand(actor.community_id, actor.member_id):
            # became a brand's contact since entering: a moderator replaces them (docs/giveaways.md)
            raise InvalidInput("giveaway.refused.brand_contact")
        async with self._lock(activation.id):
            outcome = await self.store.claim_giveaway_prize(
                actor.community_id, activation.id, actor.member_id, self.clock()
            )
        return _CLAIM_KEYS[outcome]

    async def claim_code(self, actor: Actor, activation_id: int, member: Member | None = None) -> str:
        """The member's unique code (the same one again if they have one), as disclosed text: the code is
        promotional material."""
        activation = await self._open(actor, activation_id)
        if activation.state != State.LIVE or activation.ends_at <= self.clock():
            raise InvalidInput("codes.closed")  # its end job may not have run yet
        rules = config_of(activation).eligibility if activation.kind == "giveaway" else Eligibility()
        await self._require_eligible(actor, member, rules, exclude_moderators=False)
        code, new = await self.store.claim_code(
            actor.community_id, activation.id, actor.member_id, self.clock()
        )
        if code is None:
            # Closed while the member was judged (cancelled, or its end passed): not the pool's fault.
            now = await self.store.get_activation(actor.community_id, activation.id)
            if now is None or now.state != State.LIVE or now.ends_at <= self.clock():
                raise InvalidInput("codes.closed")
            raise InvalidInput("codes.exhausted")
        lang = (await self.engine.community(actor.community_id)).locale
        text = i18n.t(lang, "codes.claimed" if new else "codes.again", code=code)
        if new and activation.kind == "giveaway":
            self.counter.touch(activation.id)
        return self.publisher.text(activation, text)

    # -- codes ----------------------------------------------------------------------------------------

    async def attach_codes(self, actor: Actor, activation_id: int, upload: Upload) -> int:
        """Add a pool (all codes or none); a live activation shows the "Get a code" button at once."""
        activation = await self.engine.managed(actor, activation_id, missing="codes.error.not_found")
        pool = codes.parse_pool(codes.decode(await upload()))
        if activation.state in CLOSED_STATES:
            raise InvalidInput("codes.error.ended")
        if self.engine.platform_name(activation) != "discord":
            # A code is claimed with a button and shown privately: neither exists on Reddit, and the
            # giveaway's refresh would rewrite its Reddit post with the Discord giveaway's text.
            raise InvalidInput("codes.error.not_on_discord")
        if activation.kind != "giveaway" and activation.state != State.LIVE:
            raise InvalidInput("codes.error.not_live")
        if not await self.store.attach_codes(actor.community_id, activation.id, pool, self.clock()):
            raise InvalidInput("codes.error.already_in_pool")
        # Moderators see it: an approved activation gets a "Get a code" post or button they did not review.
        await self.engine.note(activation, "codes_attached", by=actor.member_id, count=len(pool))
        if activation.state == State.LIVE:  # otherwise the giveaway's opening post will carry the button
            if activation.kind == "giveaway":
                await self.refresh_post(activation)
            else:
                await self._post_code_button(activation)
        return len(pool)

    async def _post_code_button(self, activation: Activation) -> None:
        """The stand-alone "Get a code" post for a live activation that is not a giveaway."""
        lang = activation.locale
        total, claimed = await self.store.code_counts(activation.id)
        card = Card(
            title=i18n.t(lang, "codes.post_title", title=i18n.isolate(activation.title)),
            description=i18n.t(lang, "codes.post_body", left=total - claimed, total=total),
        )
        action = Action(f"{CODE}:{activation.id}", i18n.t(lang, "giveaway.button_code"), "success")
        await self.publisher.post(activation, activation.channel_id, card=card, actions=[action])

    async def redemptions(self, actor: Actor, activation_id: int, upload: Upload) -> RedemptionReport:
        """Record the redeemed codes a shop reported (a CSV) and report conversions."""
        activation = await self.engine.managed(actor, activation_id, missing="codes.error.not_found")
        reported = codes.parse_redemptions(codes.decode(await upload()))
        pool = await self.store.code_pool(actor.community_id, activation.id)
        if not pool:
            raise InvalidInput("codes.error.no_pool")
        new, report = codes.match_redemptions(pool, reported)
        await self.store.record_redemptions(
            actor.community_id,
            activation.id,
            [(row.code_id, item.redeemed_at) for row, item in new],
            by=actor.member_id,
            now=self.clock(),
        )
        return report

    # -- the opening post ------------------------------------------------------------------------------

    def _who(self, lang: str, rules: Eligibility) -> str:
        parts: list[str] = []
        if rules.min_days:
            parts.append(i18n.t(lang, "giveaway.post_min_days", days=rules.min_days))
        if rules.min_events:
            parts.append(i18n.t(lang, "giveaway.post_min_events", events=rules.min_events))
        if rules.required_role_id:
            role = self.platform.role_mention(rules.required_role_id)
            parts.append(i18n.t(lang, "giveaway.post_required_role", role=role))
        if rules.excluded_role_ids:
            roles = i18n.join(lang, (self.platform.role_mention(r) for r in rules.excluded_role_ids))
            parts.append(i18n.t(lang, "giveaway.post_excluded_roles", roles=roles))
        text = "; ".join(parts) if parts else i18n.t(lang, "giveaway.post_who_everyone")
        return (
            i18n.t(lang, "giveaway.post_who", rules=text) + " " + i18n.t(lang, "giveaway.post_excluded_auto")
        )

    async def _opening(self, activation: Activation, *, open_: bool) -> tuple[Card, list[Action]]:
        """The opening post (entries, codes left, the commitment) and its buttons, without the disclosure."""
        lang, config = activation.locale, config_of(activation)
        commitment = await self.store.giveaway_commitment(activation.id) or ""
        entries = await self.store.giveaway_entry_count(activation.id)
        total, claimed = await self.store.code_counts(activation.id)
        lines = [
            i18n.t(lang, "giveaway.post_rules", rules=config.rules),
            "",
            i18n.t(lang, "giveaway.post_winners", count=config.winners),
            i18n.t(lang, "giveaway.post_closes", when=self.platform.timestamp(activation.ends_at)),
            self._who(lang, config.eligibility),
            i18n.t(lang, "giveaway.post_entries", count=entries),
        ]
        if total:
            lines.append(i18n.t(lang, "giveaway.post_codes", left=total - claimed, total=total))
        statement = await self.store.community_statement(activation.id) if activation.community else None
        if statement is not None:
            by = self.platform.mention(statement[0]) if statement[0] > 0 else "\N{EM DASH}"
            lines += ["", i18n.t(lang, "giveaway.post_community", by=by)]
        lines += ["", i18n.t(lang, "giveaway.post_commitment", commitment=commitment)]
        card = Card(
            title=i18n.t(lang, "giveaway.post_title", prize=i18n.isolate(config.prize)),
            description="\n".join(lines)[:4096],
        )
        closed = not open_
        actions = [
            Action(f"{ENTER}:{activation.id}", i18n.t(lang, "giveaway.button_enter"), "primary", closed),
            Action(f"{LEAVE}:{activation.id}", i18n.t(lang, "giveaway.button_leave"), "secondary", closed),
        ]
        if total:
            actions.append(
                Action(f"{CODE}:{activation.id}", i18n.t(lang, "giveaway.button_code"), "success", closed)
            )
        return card, actions

    async def refresh_post(self, activation: Activation, *, open_: bool = True) -> None:
        """Re-render the opening post (entry count, codes left, buttons) with the disclosure re-applied."""
        if activation.message_id is None:
            return
        card, actions = await self._opening(activation, open_=open_)
        await self.publisher.edit(
            activation, activation.channel_id, activation.message_id, card=card, actions=actions
        )

    async def _refresh_live(self, activation_id: int) -> None:
        activation = await self.store.activation_by_id(activation_id)
        if activation is not None and activation.state == State.LIVE:
            await self.refresh_post(activation)

    # -- the kind's hooks ------------------------------------------------------------------------------

    async def on_live(self, activation: Activation, steps: Steps) -> None:
        card, actions = await self._opening(activation, open_=True)
        ping = activation.config.get("ping_role_id")
        content = None
        if ping:  # only this role is notified (allowed mentions), never everyone or other roles
            content = i18n.t(activation.locale, "giveaway.ping", role=self.platform.role_mention(int(ping)))
        posted = await steps.post(
            "post",
            activation,
            activation.channel_id,
            content=content,
            card=card,
            actions=actions,
            notify_roles=(int(ping),) if ping else (),
        )
        await self.store.set_activation_post(activation.community_id, activation.id, message_id=posted.id)

    async def on_end(self, activation: Activation, steps: Steps) -> None:
        await self._finish(activation, steps)

    def describe(self, activation: Activation, lang: str) -> list[str]:
        config = config_of(activation)
        return [
            i18n.t(lang, "giveaway.post_title", prize=i18n.isolate(config.prize)),
            i18n.t(lang, "giveaway.post_winners", count=config.winners),
            i18n.t(lang, "giveaway.describe_commitment", commitment=activation.config.get("commitment", "?")),
        ]

    async def recover(self) -> None:
        """Giveaways that ended but whose results were never posted, without a closing intent (they ended
        before intents existed); the ones with an intent are caught up by the engine."""
        for activation_id in await self.store.unannounced_rerolls():
            activation = await self.store.activation_by_id(activation_id)
            if activation is not None and self.engine.owns(activation.community_id):
                await self.announce_rerolls(activation_id)
        for activation_id in await self.store.unannounced_giveaways():
            activation = await self.store.activation_by_id(activation_id)
            if (
                activation is not None
                and self.engine.owns(activation.community_id)
                and self.engine.platform_name(activation) == "discord"
            ):
                try:
                    await self.finish(activation)
                except Exception:
                    log.exception("giveaway %s: could not finish at start-up", activation_id)

    def close(self) -> None:
        self.counter.close()

    # -- the draw --------------------------------------------------------------------------------------

    async def finish(self, activation: Activation) -> None:
        """The closing intent: draw round 0 once, post the results once, close the opening post. Safe to
        call again (it does nothing once done)."""
        await self.engine.intents.ensure(activation, CLOSE)

    async def _finish(self, activation: Activation, steps: Steps) -> None:
        async with self._lock(activation.id):
            store, now = self.store, self.clock()
            if activation.state == State.CANCELLED:
                await self._close_post(activation, steps)
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
                winners = draw.draw(seed, entrants, config.winners, round_no=0)
                await store.record_giveaway_draw(
                    activation.community_id,
                    activation.id,
                    0,
                    entrants=entrants,
                    entrants_sha256=draw.entrants_digest(entrants),
                    winners=winners,
                    by=None,
                    now=now,
                )
                await self.engine.note(
                    activation, "giveaway_drawn", winners=len(winners), entrants=len(entrants)
                )
            first = next(d for d in await store.giveaway_draws(activation.id) if d.round == 0)
            if first.message_id is None:
                seed = await store.reveal_giveaway_seed(activation.id, now) or ""
                commitment = await store.giveaway_commitment(activation.id) or ""
                posted_id = await self._announce(
                    steps,
                    activation,
                    config,
                    list(first.winners),
                    first.entrants,
                    first.entrants_sha256,
                    seed,
                    commitment,
                )
                await store.set_draw_message(activation.id, 0, posted_id)
            await self._close_post(activation, steps)

    async def _announce(
        self,
        steps: Steps,
        activation: Activation,
        config: GiveawayConfig,
        winners: list[int],
        entrants: Sequence[int],
        digest: str,
        seed: str,
        commitment: str,
    ) -> int:
        lang = activation.locale
        lines = [
            i18n.t(lang, "giveaway.result_winners", winners=self.mentions(winners, lang))
            if winners
            else i18n.t(lang, "giveaway.result_none"),
            "",
            i18n.t(lang, "giveaway.result_entrants", count=len(entrants), digest=digest),
            i18n.t(lang, "giveaway.result_seed", seed=seed, commitment=commitment),
            i18n.t(lang, "giveaway.result_verify", seed=seed, commitment=commitment, count=config.winners),
        ]
        if winners:
            lines += ["", i18n.t(lang, "giveaway.result_claim")]
        card = Card(
            title=i18n.t(lang, "giveaway.result_title", prize=i18n.isolate(config.prize)),
            description="\n".join(lines)[:4096],
        )
        # The sorted entrant list is attached to the results post itself, so the disclosed post and the
        # data to verify it are one message; only the winners are notified (never everyone or roles).
        listing = "\n".join(str(e) for e in entrants).encode("ascii")
        posted = await steps.post(
            "results",
            activation,
            activation.channel_id,
            content=i18n.t(lang, "giveaway.result_ping", winners=self.mentions(winners, lang))
            if winners
            else None,
            card=card,
            actions=[self._claim_action(activation)] if winners else [],
            attachments=[Attachment("entrants.txt", listing)],
            reply_to=activation.message_id,
            notify=winners,
        )
        return posted.id

    def _claim_action(self, activation: Activation) -> Action:
        return Action(
            f"{CLAIM}:{activation.id}", i18n.t(activation.locale, "giveaway.button_claim"), "success"
        )

    async def _close_post(self, activation: Activation, steps: Steps) -> None:
        """A step of the closing intent, retried like the results post: an opening post left open would
        keep inviting entries to a giveaway that is over."""
        current = await self.store.activation_by_id(activation.id)
        if current is None or current.message_id is None:
            return

        async def close() -> bool:
            await self.refresh_post(current, open_=False)
            return True

        await steps.do("close_post", close)

    async def _announce_round(
        self, activation: Activation, round_no: int, replaced: Sequence[int], winners: Sequence[int]
    ) -> None:
        """Post a reroll round's result (who was replaced, the new winners, pinged) and record its post."""
        lang, config = activation.locale, config_of(activation)
        await self.engine.platform.learn_names([*replaced, *winners])  # Reddit: u/names after a restart
        if winners:
            line = i18n.t(
                lang,
                "giveaway.reroll_winners",
                round=round_no,
                replaced=self.mentions(replaced, lang),
                winners=self.mentions(winners, lang),
            )
        else:
            line = i18n.t(
                lang, "giveaway.reroll_none", round=round_no, replaced=self.mentions(replaced, lang)
            )
        card = Card(
            title=i18n.t(lang, "giveaway.reroll_title", prize=i18n.isolate(config.prize)),
            description=line + "\n" + i18n.t(lang, "giveaway.reroll_verify", count=len(replaced)),
        )
        posted = await self.publisher.post(
            activation,
            activation.thread_id or activation.channel_id,  # on Reddit: a comment on the giveaway post
            content=i18n.t(lang, "giveaway.result_ping", winners=self.mentions(winners, lang))
            if winners
            else None,
            card=card,
            actions=[self._claim_action(activation)] if winners else [],
            notify=list(winners),
        )
        await self.store.set_draw_message(activation.id, round_no, posted.id)

    async def _announce_missing(self, activation: Activation) -> int:
        """Post the reroll rounds whose announcement failed; how many were posted."""
        posted = 0
        for d in await self.store.giveaway_draws(activation.id):
            if d.round > 0 and d.message_id is None:
                await self._announce_round(activation, d.round, d.replaced, d.winners)
                posted += 1
        return posted

    async def announce_rerolls(self, activation_id: int) -> None:
        """The retry of failed reroll announcements (scheduled after a failure, and at start-up)."""
        activation = await self.store.activation_by_id(activation_id)
        if activation is None:
            return
        try:
            async with self._lock(activation.id):
                await self._announce_missing(activation)
        except Exception as error:
            log.warning("giveaway %s: a reroll's announcement failed again (%s)", activation_id, error)
            self.engine.scheduler.after(
                f"giveaway-reroll:{activation_id}",
                REROLL_RETRY_SECONDS,
                partial(self.announce_rerolls, activation_id),
            )

    async def reroll(
        self, actor: Actor, activation_id: int, member_id: int | None = None
    ) -> tuple[int, list[int], list[int]]:
        """Replace unclaimed winners (all, or `member_id`) with the next deterministic round; returns the
        round, who was replaced and the new winners."""
        activation = await self.store.get_activation(actor.community_id, activation_id)
        if activation is None or activation.kind != "giveaway":
            raise InvalidInput("giveaway.error.not_found")
        store = self.store
        async with self._lock(activation.id):
            await self._announce_missing(activation)  # an earlier round's winners are pinged first
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
            winners = draw.draw_in_order(seed, pool, len(replaced), round_no=round_no)
            if not await store.record_giveaway_draw(
                activation.community_id,
                activation.id,
                round_no,
                entrants=pool,
                entrants_sha256=draw.entrants_digest(pool),
                winners=winners,
                replaced=replaced,
                by=actor.member_id,
                now=self.clock(),
            ):
                raise InvalidInput("giveaway.error.race")
            await self.engine.note(
                activation, "giveaway_rerolled", by=actor.member_id, round=round_no, count=len(replaced)
            )
            try:
                await self._announce_round(activation, round_no, replaced, winners)
            except Exception:
                # The round stands (drawn and recorded): its announcement is tried again shortly, before
                # any further reroll of this giveaway, and at start-up, so no winner goes unpinged.
                self.engine.scheduler.after(
                    f"giveaway-reroll:{activation.id}",
                    REROLL_RETRY_SECONDS,
                    partial(self.announce_rerolls, activation.id),
                )
                raise
            return round_no, replaced, winners
