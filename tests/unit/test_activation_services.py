"""The activation services (engine, giveaways, Q&A, takeovers) on a real store and an in-memory platform.

No Discord: `tests/unit/fakes.py` implements `bot.platform.Platform`; time is an injected clock. Every
test ends by checking that everything published for an activation carries its disclosure.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import i18n
from bot.activations import Activation, disclosure
from bot.activations import draw as fairdraw
from bot.activations.giveaways import CLAIM, CODE, ENTER, LEAVE, GiveawayService, GiveawayTerms, LiveCounter
from bot.activations.intents import CLOSE
from bot.activations.qa import ASK, HIDE, VOTE, QaService
from bot.activations.service import (
    BRAND_NOT_APPROVED,
    DUE_AT_ONCE,
    MISSED,
    TAKER_NOT_ELIGIBLE,
    ActivationService,
    Actor,
    Proposal,
)
from bot.activations.takeovers import TakeoverService, TakerMessage
from bot.discord_adapter.platform import DiscordPlatform
from bot.errors import Forbidden, InvalidInput, MicrovoiceError
from bot.ingest import Ingest
from bot.ledger import EngagementEvent, iso
from bot.platform import Author, Member, Overwrite, Platform
from bot.reports.service import PlatformSink, ReportService
from bot.scheduler import Scheduler
from bot.store import Store
from bot.store.ledger import LedgerWriter
from tests.unit.fakes import POSTING, FakePlatform, Outage

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
GUILD, CHANNEL = 100, 500
DEFAULT = "The built-in terms, as shown."
REPORTS = 600  # the moderators' report channel
MOD, CONTACT, PARTNER, FAN, BOT = 1, 2, 3, 4, 5


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    store: Store
    platform: FakePlatform
    clock: Clock
    scheduler: Scheduler
    engine: ActivationService
    giveaways: GiveawayService
    qa: QaService
    takeovers: TakeoverService
    brand: int

    def actor(self, member_id: int) -> Actor:
        return Actor(GUILD, member_id, is_moderator=member_id == MOD)

    def proposal(self, title: str = "Ask Acme", *, start: timedelta = H, length: timedelta = H) -> Proposal:
        return Proposal(
            self.brand, CHANNEL, self.clock.now + start, self.clock.now + start + length, title, "paid"
        )

    async def run_to(self, moment: datetime) -> int:
        self.clock.now = moment
        return await self.engine.run_due()


@pytest.fixture
async def world(database: str | Path) -> AsyncIterator[World]:
    store = await Store.open(database)
    clock, platform, scheduler = Clock(NOW), FakePlatform(), Scheduler()
    engine = ActivationService(store, platform, scheduler, clock=clock)
    giveaways = GiveawayService(engine, Ingest(store))
    qa = QaService(engine)
    takeovers = TakeoverService(engine, relay=False)
    for kind, service in (("giveaway", giveaways), ("qa", qa), ("takeover", takeovers)):
        engine.register(kind, service)
    brand = await store.create_brand(GUILD, "Acme", [CONTACT], [], by=MOD, now=NOW)
    await store.set_brand_status(GUILD, brand.id, expected="pending", status="approved", by=MOD, now=NOW)
    assert await store.accept_terms(
        GUILD, PARTNER, 0, now=NOW, default_text=DEFAULT
    )  # the built-in terms (no version yet)
    platform.members[(GUILD, FAN)] = Member(FAN, joined_at=NOW - timedelta(days=400))
    platform.members[(GUILD, BOT)] = Member(BOT, is_bot=True)
    platform.members[(GUILD, PARTNER)] = Member(PARTNER)
    w = World(store, platform, clock, scheduler, engine, giveaways, qa, takeovers, brand.id)
    try:
        yield w
        assert_all_disclosed(w)
    finally:
        giveaways.close()
        await engine.close()
        await store.close()


def assert_all_disclosed(w: World) -> None:
    """Every message the bot published (not the members' own) starts with the tag, and so does every
    card title, thread name and changed topic."""
    marks = disclosure.marks()
    for message in w.platform.messages.values():
        if message.post.content == "member text":
            continue
        assert any(message.post.content.startswith(f"**{m}") for m in marks), message.post.content
        if message.post.card is not None:
            assert message.post.card.title.startswith(marks), message.post.card
    for name in w.platform.threads.values():
        assert name.startswith(marks), name
    for _, post in w.platform.private:
        assert any((post.content or "").startswith(f"**{m}") for m in marks), post.content


def test_the_fake_and_the_discord_platform_implement_the_protocol():
    wanted = {
        n: inspect.signature(f) for n, f in vars(Platform).items() if inspect.isfunction(f) and n[0] != "_"
    }
    assert {"post", "edit", "grant_posting", "restore_overwrite", "send_private", "member"} <= set(wanted)
    for cls in (FakePlatform, DiscordPlatform):
        for name, signature in wanted.items():
            assert inspect.signature(getattr(cls, name)).parameters.keys() == signature.parameters.keys(), (
                cls.__name__,
                name,
            )
            assert inspect.iscoroutinefunction(getattr(cls, name)) == inspect.iscoroutinefunction(
                getattr(Platform, name)
            ), (cls.__name__, name)


def test_the_services_import_no_platform_library():
    root = Path(__file__).resolve().parents[2] / "bot"
    for path in [root / "platform.py", *sorted((root / "activations").glob("*.py"))]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {(node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not imported & {"discord", "praw", "aiosqlite", "cogs"}, path.name


# -- the engine -------------------------------------------------------------------------------------


async def test_engine_create_approve_and_run_a_qa_on_time(world: World):
    w = world
    with pytest.raises(Forbidden) as refused:
        await w.qa.create(w.actor(FAN), w.proposal())
    assert refused.value.key == "activation.error.not_manager"
    with pytest.raises(InvalidInput) as past:
        await w.qa.create(w.actor(CONTACT), w.proposal(start=-H))
    assert past.value.key == "activation.error.start_in_past"
    qa = await w.qa.create(w.actor(CONTACT), w.proposal())
    assert qa.state == "pending" and qa.locale == "en" and qa.brand_name == "Acme"

    with pytest.raises(MicrovoiceError):
        await w.engine.reject(w.actor(MOD), qa.id, "   ")
    approval = await w.engine.approve(w.actor(MOD), qa.id)
    assert approval.activation.state == "scheduled" and not approval.starts_now
    assert f"activation:{qa.id}:start" in w.scheduler.job_ids()
    with pytest.raises(MicrovoiceError) as again:
        await w.engine.approve(w.actor(MOD), qa.id)
    assert again.value.key == "activation.error.bad_state" and again.value.params["state"] == "scheduled"

    assert await w.run_to(NOW + H) == 1
    assert await w.engine.run_due() == 0 and await w.engine.advance(qa.id) == 0  # a duplicate job
    live = await w.store.get_activation(GUILD, qa.id)
    assert live is not None and live.state == "live" and live.thread_id == live.message_id
    opening = w.platform.messages[live.message_id]
    assert [a.id for a in opening.post.actions] == [ASK]
    assert w.platform.threads[live.message_id].endswith("Ask Acme")
    assert f"activation:{qa.id}:end" in w.scheduler.job_ids()

    assert await w.run_to(NOW + 2 * H) == 1
    summary = w.platform.posts_in(CHANNEL)[-1]
    assert summary.post.reply_to == live.message_id and "Q&A summary" in summary.post.card.title
    title, lines = await w.engine.details(w.actor(MOD), qa.id, "en")
    assert title.startswith(f"Activation #{qa.id}")
    assert lines[-1] == "History: awaiting approval → scheduled → live → ended"
    assert any(line.startswith("Disclosure: Ad · Paid partnership with") for line in lines)
    assert await w.engine.listing(w.actor(CONTACT), "en") and await w.engine.listing(w.actor(MOD), "en")
    with pytest.raises(Forbidden):
        await w.engine.listing(w.actor(FAN), "en")


async def test_an_activation_with_minutes_of_its_window_left_is_not_approved(world: World):
    w = world
    qa = await w.qa.create(w.actor(CONTACT), w.proposal())  # 13:00 - 14:00
    w.clock.now = NOW + 2 * H - timedelta(minutes=4)
    with pytest.raises(InvalidInput) as late:
        await w.engine.approve(w.actor(MOD), qa.id)
    assert late.value.key == "activation.error.window_nearly_over" and late.value.params == {"minutes": 5}
    assert (await w.store.get_activation(GUILD, qa.id)).state == "pending"  # type: ignore[union-attr]
    w.clock.now = NOW + 2 * H - timedelta(minutes=30)
    assert (await w.engine.approve(w.actor(MOD), qa.id)).starts_now  # half an hour left: it runs


async def test_engine_cancels_at_start_when_the_brand_lost_its_approval(world: World):
    w = world
    qa = await w.qa.create(w.actor(CONTACT), w.proposal())
    await w.engine.approve(w.actor(MOD), qa.id)
    await w.store.set_brand_status(GUILD, w.brand, expected="approved", status="suspended", by=MOD, now=NOW)
    assert await w.run_to(NOW + H) == 0
    cancelled = await w.store.get_activation(GUILD, qa.id)
    assert cancelled is not None and cancelled.state == "cancelled" and cancelled.reason == BRAND_NOT_APPROVED
    assert w.platform.messages == {}  # nothing was posted for it
    _, lines = await w.engine.details(w.actor(MOD), qa.id, "he")
    assert i18n.t("he", "activation.show_reason", reason=i18n.t("he", "activation.brand_lapsed")) in lines


@pytest.mark.parametrize("gone", ["left the partner program", "left the server", "erased"])
async def test_a_takeover_whose_taker_is_no_longer_eligible_is_cancelled_at_start(world: World, gone: str):
    w = world
    before = Overwrite(allow="1024", deny="0", kind=1)
    w.platform.overwrites[(CHANNEL, PARTNER)] = before
    takeover = await w.takeovers.create(w.actor(CONTACT), w.proposal(), PARTNER, Member(PARTNER))
    await w.engine.approve(w.actor(MOD), takeover.id)
    if gone == "left the partner program":
        assert await w.store.end_partnership(GUILD, PARTNER, "left", now=NOW)
    elif gone == "left the server":
        w.platform.members.pop((GUILD, PARTNER), None)
    else:
        await w.store.forget_member(GUILD, PARTNER, pseudonym=-77, now=NOW)
    assert await w.run_to(NOW + H) == 0
    cancelled = await w.store.get_activation(GUILD, takeover.id)
    assert cancelled is not None and cancelled.state == "cancelled" and cancelled.reason == TAKER_NOT_ELIGIBLE
    assert w.platform.overwrites[(CHANNEL, PARTNER)] == before  # no posting rights were given
    assert w.platform.messages == {} and w.platform.private == []  # nothing posted, nobody written to
    _, lines = await w.engine.details(w.actor(MOD), takeover.id, "en")
    assert "Reason: the member taking the channel over was no longer an opted-in partner" in "\n".join(lines)


async def test_a_takeover_whose_taker_is_still_eligible_starts(world: World):
    w = world
    takeover = await w.takeovers.create(w.actor(CONTACT), w.proposal(), PARTNER, Member(PARTNER))
    await w.engine.approve(w.actor(MOD), takeover.id)
    assert await w.run_to(NOW + H) == 1
    assert (await w.store.get_activation(GUILD, takeover.id)).state == "live"  # type: ignore[union-attr]


async def test_engine_catches_up_at_start_up_once(world: World):
    w = world
    qa = await w.qa.create(w.actor(CONTACT), w.proposal())
    await w.engine.approve(w.actor(MOD), qa.id)
    w.clock.now = NOW + 2 * H - timedelta(minutes=5)  # down through the start, back before the end
    restarted = ActivationService(w.store, w.platform, Scheduler(), clock=w.clock)
    restarted.register("qa", QaService(restarted))
    await restarted.start()
    await restarted.booted.wait()
    live = await w.store.get_activation(GUILD, qa.id)
    assert live is not None and live.state == "live"
    assert len(w.platform.posts_in(CHANNEL)) == 1  # the opening, once
    assert await restarted.run_due() == 0


async def test_due_activations_advance_side_by_side_a_bounded_number_at_once(
    world: World, monkeypatch: pytest.MonkeyPatch
):
    """A catch-up advances due activations side by side, so a hanging call holds back no other, and no
    more than `DUE_AT_ONCE` at a time (a start-up after long downtime opens them a few at a time)."""
    w = world
    qa = await w.qa.create(w.actor(CONTACT), w.proposal())
    await w.engine.approve(w.actor(MOD), qa.id)
    scheduled = await w.store.get_activation(GUILD, qa.id)
    count = DUE_AT_ONCE + 4
    # Many due at once, as the sponsored limits would never let one server have them (a fleet's worth).
    due = [replace(scheduled, id=qa.id + n) for n in range(count)]
    monkeypatch.setattr(w.store, "open_activations", lambda: asyncio.sleep(0, due))
    held, running, most, done = asyncio.Event(), set(), 0, []

    async def advance(activation_id: int) -> int:
        nonlocal most
        running.add(activation_id)
        most = max(most, len(running))
        await held.wait()  # a platform call that hangs
        running.discard(activation_id)
        done.append(activation_id)
        return 1

    monkeypatch.setattr(w.engine, "advance", advance)
    w.clock.now = NOW + H
    catch_up = asyncio.ensure_future(w.engine.run_due())
    for _ in range(20):
        await asyncio.sleep(0)
    assert len(running) == DUE_AT_ONCE  # each held by its own hanging call, none waiting on another's
    held.set()
    assert await catch_up == count
    assert most == DUE_AT_ONCE and sorted(done) == [a.id for a in due]


async def test_activations_due_together_advance_while_the_ingest_writer_is_busy(world: World):
    """Activations of every kind due at the same moment advance side by side on the store's one
    connection, one's reads between another's writes, while the ingest writer writes batch after batch
    on its own: each write waits for the batch under way, and every transition and its platform work
    is done on its first attempt (none refused by a "locked" database and retried)."""
    w = world
    limits = {"max_sponsored_per_week": 50, "min_gap_hours": 0}
    await w.store.update_settings(GUILD, limits, by=MOD, now=NOW)
    ids = []
    for n in range(DUE_AT_ONCE + 1):
        # approved apart (the saturation guard), then made due together
        start = NOW + H * (1 + 2 * n)
        proposal = Proposal(w.brand, CHANNEL + 1 + n, start, start + H, f"Acme {n}", "paid")
        if n % 3 == 0:
            activation = await w.qa.create(w.actor(CONTACT), proposal)
        elif n % 3 == 1:
            activation, _ = await w.giveaways.create(
                w.actor(CONTACT), proposal, GiveawayTerms(rules="One entry each.", winners=1)
            )
        else:
            activation = await w.takeovers.create(w.actor(CONTACT), proposal, PARTNER, Member(PARTNER))
        await w.engine.approve(w.actor(MOD), activation.id)
        ids.append(activation.id)
    await w.store.write(
        "UPDATE activations SET starts_at = :s, ends_at = :e", dict(s=iso(NOW + H), e=iso(NOW + 2 * H))
    )
    for moment in (NOW + H, NOW + 2 * H):
        async with ingest_writing(w.store):
            assert await w.run_to(moment) == len(ids)
    intents = await w.store.fetch_all("SELECT action, state, attempts FROM activation_intents ORDER BY id")
    assert intents == [(action, "done", 1) for action in ("open", "close") for _ in ids]
    for activation_id in ids:
        ended = await w.store.get_activation(GUILD, activation_id)
        assert ended is not None and ended.state == "ended"


@asynccontextmanager
async def ingest_writing(store: Store) -> AsyncIterator[None]:
    """The ingest writer busy through the block: batch after batch on its own connection, each holding
    the database's write lock a moment (SQLite), or a batch's transaction held open (PostgreSQL)."""
    if store.postgresql:
        conn = await store.db.pool.acquire()
        try:
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO guild_settings (community_id, locale) VALUES (7, 'he')"
                    " ON CONFLICT (community_id) DO UPDATE SET locale = excluded.locale"
                )
                yield
        finally:
            await store.db.pool.release(conn)
        return
    stop = threading.Event()

    def write_batches() -> None:
        writer, n = LedgerWriter(store.path), 0
        try:
            while not stop.is_set():
                n += 1
                writer.write(
                    [EngagementEvent("discord", 7, 70, m, "message", f"{n}:{m}", NOW) for m in range(200)]
                )
        finally:
            writer.close()

    thread = threading.Thread(target=write_batches)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        await asyncio.to_thread(thread.join)


async def test_an_activation_whose_whole_window_passed_while_down_is_cancelled_unposted(world: World):
    """Nothing is posted after an activation's end: an opening then would announce what is over
    (a giveaway nobody could enter, a takeover already past). Moderators are told, to propose it
    again."""
    w = world
    qa = await w.qa.create(w.actor(CONTACT), w.proposal())
    await w.engine.approve(w.actor(MOD), qa.id)
    w.clock.now = NOW + 3 * H  # the whole window passed while the bot was down
    restarted = ActivationService(w.store, w.platform, Scheduler(), clock=w.clock)
    restarted.register("qa", QaService(restarted))
    await restarted.start()
    await restarted.booted.wait()
    missed = await w.store.get_activation(GUILD, qa.id)
    assert missed is not None and missed.state == "cancelled" and missed.reason == MISSED
    assert w.platform.posts_in(CHANNEL) == []
    _, lines = await restarted.details(w.actor(MOD), qa.id, "ar")
    assert i18n.t("ar", "activation.show_reason", reason=i18n.t("ar", "activation.missed")) in lines
    assert await restarted.run_due() == 0


async def test_the_sweep_catches_up_what_a_lost_job_left_behind(world: World):
    """Jobs live in memory: one that failed (a locked database, a lost connection) or whose process
    stepped its clock is gone. The periodic sweep advances what is overdue and runs intents whose
    retry is long past."""
    w = world
    qa = await w.qa.create(w.actor(CONTACT), w.proposal())
    await w.engine.approve(w.actor(MOD), qa.id)
    await w.engine.start()
    await w.engine.booted.wait()
    w.platform.fail_posts = 1  # the opening's first attempt fails; its retry job never runs
    w.clock.now = NOW + H + timedelta(minutes=1)  # the start job never ran either
    await w.engine.sweep()
    live = await w.store.get_activation(GUILD, qa.id)
    assert live is not None and live.state == "live"
    assert w.platform.posts_in(CHANNEL) == []  # the opening failed once, retry pending
    w.clock.now += timedelta(minutes=30)  # well past its retry time
    await w.engine.sweep()
    assert len(w.platform.posts_in(CHANNEL)) == 1  # opened, once
    await w.engine.sweep()
    assert len(w.platform.posts_in(CHANNEL)) == 1


async def test_an_activation_whose_platform_is_not_running_here_stays_to_do(world: World):
    """With no handler for the activation's kind on its platform (Reddit switched off, say), its
    opening is not marked done with nothing done: it stays pending, retried."""
    w = world
    qa = await w.qa.create(w.actor(CONTACT), w.proposal())
    await w.engine.approve(w.actor(MOD), qa.id)
    w.clock.now = NOW + H + timedelta(minutes=1)
    restarted = ActivationService(w.store, w.platform, Scheduler(), clock=w.clock)  # no kind registered
    await restarted.start()
    await restarted.booted.wait()
    assert [i.activation_id for i in await w.store.pending_intents()] == [qa.id]
    assert w.platform.posts_in(CHANNEL) == []


async def test_a_qa_whose_thread_could_not_be_opened_is_still_summed_up(world: World):
    """Its opening post is up (with its "Ask" action) even though its thread was refused: at the end
    it gets its summary like any other."""
    w = world
    w.platform.refuse_threads = True
    qa = await w.qa.create(w.actor(CONTACT), w.proposal())
    await w.engine.approve(w.actor(MOD), qa.id)
    await w.run_to(NOW + H + timedelta(minutes=1))
    [opening] = w.platform.posts_in(CHANNEL)
    await w.run_to(NOW + 3 * H)
    posts = w.platform.posts_in(CHANNEL)
    assert len(posts) == 2 and posts[1].post.reply_to == opening.id  # the summary


async def test_a_report_that_could_not_be_posted_is_posted_later_once(world: World):
    """Posting an activation's report can fail (Discord down for a moment) or be cut short (the bot
    stopped right after the end): the hourly report job posts it later, once."""
    w = world
    moderators = FakePlatform()
    reports = ReportService(w.store, clock=w.clock, sink=PlatformSink(moderators))
    w.engine.on_ended(reports.activation_ended)
    await w.store.update_settings(GUILD, {"report_channel_id": REPORTS, "min_gap_hours": 0}, by=MOD, now=NOW)
    qa = await w.qa.create(w.actor(CONTACT), w.proposal())
    await w.engine.approve(w.actor(MOD), qa.id)

    def reported() -> int:  # activation reports (the hourly job posts the weekly digest there too)
        cards = [m.post.card for m in moderators.posts_in(REPORTS)]
        return sum(1 for c in cards if c is not None and c.title.startswith(f"Activation #{qa.id} "))

    moderators.fail_posts = 1
    await w.run_to(NOW + H)
    await w.run_to(NOW + 2 * H)  # ended; its report failed
    assert reported() == 0
    await reports.run_digests()
    assert reported() == 1
    ended = await w.store.activation_by_id(qa.id)
    assert ended is not None
    await reports.activation_ended(ended)  # heard again: not posted twice
    await reports.run_digests()
    assert reported() == 1


async def test_end_listeners_hear_an_activation_that_ends_once_and_reports_post_through_the_platform(
    world: World,
):
    w = world
    heard: list[tuple[int, str]] = []

    async def failing(activation: Activation) -> None:
        raise RuntimeError("a listener that breaks changes nothing")

    async def listener(activation: Activation) -> None:
        heard.append((activation.id, activation.state))

    # A report is the moderators' own, not a sponsored post: it goes through a platform of its own here,
    # so every post on `w.platform` is still an activation's (and disclosed).
    moderators = FakePlatform()
    reports = ReportService(w.store, clock=w.clock, sink=PlatformSink(moderators))
    w.engine.on_ended(failing)
    w.engine.on_ended(listener)
    w.engine.on_ended(reports.activation_ended)
    settings = {"report_channel_id": REPORTS, "min_gap_hours": 0}
    await w.store.update_settings(GUILD, settings, by=MOD, now=NOW)
    qa = await w.qa.create(w.actor(CONTACT), w.proposal())
    cancelled = await w.qa.create(w.actor(CONTACT), w.proposal("Later", start=3 * H))
    for activation in (qa, cancelled):
        await w.engine.approve(w.actor(MOD), activation.id)
    assert await w.run_to(NOW + H) == 1
    assert heard == []  # going live is not an end
    assert await w.run_to(NOW + 2 * H) == 1
    assert await w.engine.advance(qa.id) == 0  # a duplicate job: no second end
    assert heard == [(qa.id, "ended")]
    [report] = moderators.posts_in(REPORTS)
    card = report.post.card
    assert card is not None and card.title.startswith(f"Activation #{qa.id} report")
    assert card.image == f"activation-{qa.id}.png"
    stem = f"activation-{qa.id}"
    assert [a.filename for a in report.post.attachments] == [f"{stem}.png", f"{stem}.csv"]
    await w.run_to(NOW + 3 * H)
    assert await w.engine.cancel(w.actor(MOD), cancelled.id, None)
    assert heard == [(qa.id, "ended")]  # a cancelled activation did not end on time
    assert len(moderators.posts_in(REPORTS)) == 1
    # One a moderator ends early is reported too.
    early = await w.qa.create(w.actor(CONTACT), w.proposal("Early"))
    await w.engine.approve(w.actor(MOD), early.id)
    await w.run_to(w.clock.now + H)
    await w.engine.end_now(w.actor(MOD), early.id)
    assert heard[-1] == (early.id, "ended")
    assert len(moderators.posts_in(REPORTS)) == 2


async def test_engine_cancel_checks_the_brand_and_the_state(world: World):
    w = world
    qa = await w.qa.create(w.actor(CONTACT), w.proposal())
    with pytest.raises(Forbidden):
        await w.engine.cancel(w.actor(FAN), qa.id, None)
    assert await w.engine.cancel(w.actor(CONTACT), qa.id, "changed our minds")
    with pytest.raises(MicrovoiceError) as done:
        await w.engine.cancel(w.actor(MOD), qa.id, None)
    assert done.value.key == "activation.error.bad_state"
    assert [(b, n) for b, n in await w.engine.brand_choices(w.actor(CONTACT), "ac")] == [(w.brand, "Acme")]
    assert await w.engine.brand_choices(w.actor(FAN), "") == []


# -- giveaways ----------------------------------------------------------------------------------------


async def open_giveaway(w: World, *, winners: int = 1, codes: bytes | None = None, **rules: object) -> int:
    async def upload() -> bytes:
        assert codes is not None
        return codes

    terms = GiveawayTerms(rules="One entry each.", winners=winners, codes_file=upload if codes else None)
    terms = replace(terms, **rules)
    activation, commitment = await w.giveaways.create(w.actor(CONTACT), w.proposal("A cookbook"), terms)
    assert activation.config["commitment"] == commitment
    await w.engine.approve(w.actor(MOD), activation.id)
    assert await w.run_to(NOW + H) == 1
    return activation.id


async def test_giveaway_entries_eligibility_and_the_live_count(world: World):
    w = world

    async def sleep(seconds: float) -> None:  # the counter waits on the injected clock, not real time
        w.clock.now += timedelta(seconds=seconds)

    w.giveaways.counter.sleep = sleep
    gid = await open_giveaway(w, min_days=30, required_role_id=77)
    live = await w.store.get_activation(GUILD, gid)
    assert live is not None and live.message_id is not None
    opening = w.platform.messages[live.message_id]
    assert [a.id for a in opening.post.actions] == [f"{ENTER}:{gid}", f"{LEAVE}:{gid}"]
    assert "@&77" in opening.post.card.description

    # The member is looked up on the platform when the caller did not bring their facts.
    with pytest.raises(MicrovoiceError) as role:
        await w.giveaways.enter(w.actor(FAN), gid)
    assert role.value.key == "giveaway.refused.required_role" and role.value.params == {"role": "@&77"}
    regular = Member(FAN, role_ids=frozenset({77}), joined_at=NOW - timedelta(days=31))
    assert await w.giveaways.enter(w.actor(FAN), gid, regular) == "entered"
    assert await w.giveaways.enter(w.actor(FAN), gid, regular) == "already"
    newcomer = Member(6, role_ids=frozenset({77}), joined_at=NOW - timedelta(days=3))
    with pytest.raises(MicrovoiceError) as new:
        await w.giveaways.enter(w.actor(6), gid, newcomer)
    assert new.value.key == "giveaway.refused.too_new" and new.value.params == {"days": 30, "have": 3}
    for who, key in ((CONTACT, "brand_contact"), (MOD, "moderator"), (BOT, "bot")):
        veteran = Member(who, role_ids=frozenset({77}), joined_at=NOW - timedelta(days=40), is_bot=who == BOT)
        with pytest.raises(MicrovoiceError) as refused:
            await w.giveaways.enter(w.actor(who), gid, veteran)
        assert refused.value.key == f"giveaway.refused.{key}"

    await w.giveaways.counter.drain()
    assert "Entries so far: 1" in w.platform.messages[live.message_id].post.card.description
    assert await w.giveaways.leave(w.actor(FAN), gid) == "left"
    assert await w.giveaways.leave(w.actor(FAN), gid) == "not_entered"
    await w.giveaways.counter.drain()
    assert w.giveaways.counter.edits >= 1


async def test_giveaway_draw_is_committed_once_and_rerolls_the_unclaimed(world: World):
    w = world
    gid = await open_giveaway(w, winners=2)
    fans = list(range(200, 206))
    for fan in fans:
        assert await w.giveaways.enter(w.actor(fan), gid, Member(fan)) == "entered"
    seed = await w.store.scalar("SELECT seed FROM giveaway_secrets WHERE activation_id = ?", (gid,))
    assert await w.run_to(NOW + 2 * H) == 1
    first, second = fairdraw.draw(seed, fans, 2)

    results = [m for m in w.platform.posts_in(CHANNEL) if m.post.attachments]
    assert len(results) == 1
    post = results[0].post
    assert post.notify == (first, second) and f"@{first}" in (post.content or "")
    assert post.attachments[0].data == "\n".join(map(str, fans)).encode()
    assert f"`{seed}`" in post.card.description and [a.id for a in post.actions] == [f"{CLAIM}:{gid}"]
    opening = w.platform.messages[results[0].post.reply_to or 0]
    assert all(a.disabled for a in opening.post.actions)  # the entry post is closed

    ended = await w.store.activation_by_id(gid)
    assert ended is not None
    await asyncio.gather(*(w.giveaways.finish(ended) for _ in range(3)))
    await w.giveaways.recover()
    assert len([m for m in w.platform.posts_in(CHANNEL) if m.post.attachments]) == 1

    assert await w.giveaways.claim_prize(w.actor(first), gid) == "claimed"
    assert await w.giveaways.claim_prize(w.actor(first), gid) == "claim_already"
    assert await w.giveaways.claim_prize(w.actor(fans[-1] + 1), gid) == "claim_not_winner"
    round_no, replaced, winners = await w.giveaways.reroll(w.actor(MOD), gid)
    assert (round_no, replaced) == (1, [second])
    assert winners == fairdraw.draw_rounds(seed, fans, [2, 1])[1]
    assert w.platform.posts_in(CHANNEL)[-1].post.notify == tuple(winners)
    with pytest.raises(InvalidInput) as nothing:
        await w.giveaways.reroll(w.actor(MOD), gid, first)
    assert nothing.value.key == "giveaway.error.nothing_to_reroll"


async def test_codes_are_claimed_once_each_and_disclosed(world: World):
    w = world
    gid = await open_giveaway(w, codes=b"code\nSAVE-1\nSAVE-2\n")
    live = await w.store.get_activation(GUILD, gid)
    assert live is not None and live.message_id is not None
    assert f"{CODE}:{gid}" in [a.id for a in w.platform.messages[live.message_id].post.actions]
    first = await w.giveaways.claim_code(w.actor(FAN), gid, Member(FAN))
    assert disclosure.starts_disclosed(first, disclosure.tag("en", "Acme", "paid")) and "SAVE-1" in first
    assert "SAVE-1" in await w.giveaways.claim_code(w.actor(FAN), gid, Member(FAN))  # the same again
    assert "SAVE-2" in await w.giveaways.claim_code(w.actor(7), gid, Member(7))
    with pytest.raises(InvalidInput) as gone:
        await w.giveaways.claim_code(w.actor(8), gid, Member(8))
    assert gone.value.key == "codes.exhausted"

    async def csv() -> bytes:
        return b"code\nsave-1\nOTHER\n"

    with pytest.raises(Forbidden):
        await w.giveaways.redemptions(w.actor(FAN), gid, csv)
    report = await w.giveaways.redemptions(w.actor(CONTACT), gid, csv)
    assert (report.new, report.unknown, report.claimed, report.conversion_pct) == (1, ("OTHER",), 2, 50)


async def test_no_code_is_handed_out_once_the_giveaway_is_closed(world: World):
    """A giveaway cancelled while the member is judged (their engagement read again, the ingest
    buffer written) hands out no code: the claim itself checks that the activation is still live."""
    w = world
    gid = await open_giveaway(w, codes=b"A1\nA2\n", min_events=1)
    calls = 0

    async def events(community_id: int, member_id: int) -> int:
        nonlocal calls
        calls += 1
        return 0 if calls == 1 else 5  # not enough until the buffer is written

    async def cancel_meanwhile() -> int:
        await w.engine.cancel(w.actor(MOD), gid, "stop")
        return 0

    w.store.member_engagement_events = events  # type: ignore[method-assign]
    w.giveaways.ingest.flush = cancel_meanwhile  # type: ignore[method-assign]
    with pytest.raises(InvalidInput) as closed:
        await w.giveaways.claim_code(w.actor(FAN), gid, Member(FAN))
    assert closed.value.key == "codes.closed"
    assert await w.store.claimed_code(gid, FAN) is None


async def test_no_code_is_handed_out_past_the_end_before_the_end_job_ran(world: World):
    w = world
    gid = await open_giveaway(w, codes=b"B1\n")
    w.clock.now = NOW + 2 * H + timedelta(minutes=3)  # its end has passed; its end job has not run
    with pytest.raises(InvalidInput) as late:
        await w.giveaways.claim_code(w.actor(FAN), gid, Member(FAN))
    assert late.value.key == "codes.closed"
    assert await w.store.claimed_code(gid, FAN) is None


async def test_a_code_already_in_the_pool_in_another_case_is_refused(world: World):
    """`SAVE10` in the pool, then a file with `save10`: refused as already there (a shop ignoring case
    would see one code used twice, and the redemption report counted them as one)."""
    w = world
    gid = await open_giveaway(w, codes=b"SAVE10\n")

    async def again() -> bytes:
        return b"save10\nNEW1\n"

    with pytest.raises(InvalidInput) as refused:
        await w.giveaways.attach_codes(w.actor(CONTACT), gid, again)
    assert refused.value.key == "codes.error.already_in_pool"
    assert [c.code for c in await w.store.code_pool(GUILD, gid)] == ["SAVE10"]


async def test_a_reroll_whose_announcement_failed_is_posted_before_anything_else(world: World):
    """A reroll is recorded but posting its result fails: the round stands, its announcement is tried
    again (here at start-up) and before any further reroll, so no winner it drew is replaced
    without having been pinged (before, the next reroll replaced them silently)."""
    w = world
    gid = await open_giveaway(w, winners=1)
    fans = list(range(200, 206))
    for fan in fans:
        await w.giveaways.enter(w.actor(fan), gid, Member(fan))
    assert await w.run_to(NOW + 2 * H) == 1
    w.platform.fail_posts = 1
    with pytest.raises(Exception, match="posting is down"):
        await w.giveaways.reroll(w.actor(MOD), gid)
    [_, first_reroll] = await w.store.giveaway_draws(gid)
    assert first_reroll.message_id is None and len(first_reroll.winners) == 1
    assert any(job.startswith("giveaway-reroll:") for job in w.scheduler.job_ids())  # retried shortly
    await w.giveaways.recover()  # or at start-up
    announced = w.platform.posts_in(CHANNEL)[-1].post
    assert announced.notify == first_reroll.winners
    [_, first_reroll] = await w.store.giveaway_draws(gid)
    assert first_reroll.message_id is not None

    w.platform.fail_posts = 1  # fails again; the next reroll posts it before drawing anew
    with pytest.raises(Exception, match="posting is down"):
        await w.giveaways.reroll(w.actor(MOD), gid)
    round_no, _, winners = await w.giveaways.reroll(w.actor(MOD), gid)
    pinged = [m.post.notify for m in w.platform.posts_in(CHANNEL)[-2:]]
    assert round_no == 3 and pinged[1] == tuple(winners)
    [*_, second_reroll, _] = await w.store.giveaway_draws(gid)
    assert pinged[0] == second_reroll.winners and second_reroll.message_id is not None


async def test_a_winner_who_became_a_brand_contact_cannot_claim(world: World):
    w = world
    gid = await open_giveaway(w, winners=1)
    assert await w.giveaways.enter(w.actor(FAN), gid, Member(FAN)) == "entered"
    await w.run_to(NOW + 2 * H)
    brand = await w.store.create_brand(GUILD, "Other", [FAN], [], by=MOD, now=w.clock.now)
    await w.store.set_brand_status(
        GUILD, brand.id, expected="pending", status="approved", by=MOD, now=w.clock.now
    )
    with pytest.raises(InvalidInput) as refused:
        await w.giveaways.claim_prize(w.actor(FAN), gid)
    assert refused.value.key == "giveaway.refused.brand_contact"
    assert await w.store.scalar("SELECT count(*) FROM giveaway_claims") == 0


async def test_code_pool_on_a_live_qa_gets_its_own_disclosed_post(world: World):
    w = world
    qa = await w.qa.create(w.actor(CONTACT), w.proposal())

    async def pool() -> bytes:
        return b"A-1\nA-2\n"

    with pytest.raises(InvalidInput) as early:
        await w.giveaways.attach_codes(w.actor(CONTACT), qa.id, pool)
    assert early.value.key == "codes.error.not_live"
    await w.engine.approve(w.actor(MOD), qa.id)
    await w.run_to(NOW + H)
    assert await w.giveaways.attach_codes(w.actor(CONTACT), qa.id, pool) == 2
    post = w.platform.posts_in(CHANNEL)[-1].post
    assert [a.id for a in post.actions] == [f"{CODE}:{qa.id}"] and "2 of 2" in post.card.description


async def test_live_counter_coalesces_by_the_injected_clock_without_real_sleeps():
    clock = Clock(NOW)
    waits: list[float] = []
    release = asyncio.Event()
    refreshed: list[datetime] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        await release.wait()
        clock.now += timedelta(seconds=seconds)

    async def refresh(activation_id: int) -> None:
        refreshed.append(clock.now)

    counter = LiveCounter(refresh, clock=clock, interval=5.0, sleep=sleep)
    counter.touch(7)
    await counter.drain()
    assert refreshed == [NOW] and waits == []  # the first change is shown at once

    clock.now = NOW + timedelta(seconds=1)
    for _ in range(3):  # a burst: one pending edit, waiting out the rest of the interval
        counter.touch(7)
        await asyncio.sleep(0)
    assert waits == [4.0]
    release.set()
    await counter.drain()
    assert refreshed == [NOW, NOW + timedelta(seconds=5)] and counter.edits == 2

    clock.now += timedelta(seconds=60)  # long after the last edit: at once again
    counter.touch(7)
    await counter.drain()
    assert waits == [4.0] and counter.edits == 3


# -- Q&A ----------------------------------------------------------------------------------------------


async def test_qa_questions_votes_hiding_and_answers(world: World):
    w = world
    qa = await w.qa.create(w.actor(CONTACT), w.proposal())
    await w.engine.approve(w.actor(MOD), qa.id)
    await w.run_to(NOW + H)
    live = await w.store.get_activation(GUILD, qa.id)
    assert live is not None and live.message_id is not None
    assert (await w.qa.asking(w.actor(FAN), live.message_id)).id == qa.id

    qid, posted = await w.qa.ask(w.actor(FAN), qa.id, "  Is it vegan?  ")
    question = w.platform.messages[posted.id]
    assert question.channel_id == live.thread_id
    assert [a.id for a in question.post.actions] == [VOTE, HIDE] and "@4" in (question.post.content or "")
    assert (await w.qa.vote(w.actor(PARTNER), posted.id))[0].label == "▲ 1"
    assert (await w.qa.vote(w.actor(PARTNER), posted.id))[0].label == "▲ 0"

    with pytest.raises(Forbidden) as not_brand:
        await w.qa.answer(w.actor(MOD), qid, "Yes")  # a moderator does not speak for the brand
    assert not_brand.value.key == "activation.error.not_brand_manager"
    w.platform.fail_posts = 1
    with pytest.raises(MicrovoiceError) as outage:  # told to try again, not "something went wrong"
        await w.qa.answer(w.actor(CONTACT), qid, "Yes, fully.")
    assert outage.value.key == "qa.error.not_posted" and isinstance(outage.value.__cause__, Outage)
    answer = await w.qa.answer(w.actor(CONTACT), qid, "Yes, fully.")  # the failed post did not count
    assert w.platform.messages[answer.id].post.reply_to == posted.id
    with pytest.raises(MicrovoiceError) as twice:
        await w.qa.answer(w.actor(CONTACT), qid, "Again")
    assert twice.value.key == "qa.error.already_answered"

    _, other_post = await w.qa.ask(w.actor(PARTNER), qa.id, "Price?")
    hidden = await w.qa.hide(w.actor(MOD), other_post.id)
    assert disclosure.starts_disclosed(hidden, disclosure.tag("en", "Acme", "paid"))
    with pytest.raises(MicrovoiceError):
        await w.qa.vote(w.actor(FAN), other_post.id)

    await w.run_to(NOW + 2 * H)
    summary = w.platform.posts_in(CHANNEL)[-1].post.card
    assert summary is not None and "2 questions, 1 answered, 2 participants." in summary.description
    with pytest.raises(MicrovoiceError) as closed:
        await w.qa.ask(w.actor(FAN), qa.id, "Late?")
    assert closed.value.key == "qa.error.closed"


async def test_no_question_is_taken_past_the_qas_end_before_its_end_job_ran(world: World):
    """After a restart the catch-up ends activations one by one: a Q&A whose window is over but whose
    end has not run yet takes no more questions (as a giveaway takes no more entries)."""
    w = world
    qa = await w.qa.create(w.actor(CONTACT), w.proposal())
    await w.engine.approve(w.actor(MOD), qa.id)
    await w.run_to(NOW + H)
    live = await w.store.get_activation(GUILD, qa.id)
    assert live is not None and live.message_id is not None
    w.clock.now = live.ends_at + timedelta(minutes=1)  # still live in the database
    for attempt in (w.qa.asking(w.actor(FAN), live.message_id), w.qa.ask(w.actor(FAN), qa.id, "Late?")):
        with pytest.raises(MicrovoiceError) as closed:
            await attempt
        assert closed.value.key == "qa.error.closed"
    assert await w.store.scalar("SELECT count(*) FROM qa_questions") == 0
    assert await w.store.add_question(GUILD, qa.id, FAN, "Late?", now=w.clock.now) == 0  # the insert too


async def test_a_brand_name_in_an_answer_and_in_lists_is_no_masked_link(world: World):
    w = world
    linked = "[Acme](https://acme.example/win)"
    await w.store.write("UPDATE brands SET name = :n WHERE id = :b", {"n": linked, "b": w.brand})
    qa = await w.qa.create(w.actor(CONTACT), w.proposal())
    await w.engine.approve(w.actor(MOD), qa.id)
    await w.run_to(NOW + H)
    qid, _ = await w.qa.ask(w.actor(FAN), qa.id, "Is it vegan?")
    answer = w.platform.messages[(await w.qa.answer(w.actor(CONTACT), qid, "Yes.")).id].post.content or ""
    shown = disclosure.sanitize_brand(linked)
    assert f"\u2068{shown}\u2069" in answer.split("\n", 1)[1]  # after the tag line: escaped, not a link
    assert "[Acme](https" not in answer
    listing = "\n".join(await w.engine.listing(w.actor(MOD), "en"))
    assert shown in listing and "[Acme](https" not in listing


# -- takeovers ----------------------------------------------------------------------------------------


async def test_takeover_taker_must_be_a_partner_or_contact_and_no_bot(world: World):
    w = world
    for taker in (FAN, BOT):
        with pytest.raises(InvalidInput) as refused:
            await w.takeovers.create(w.actor(CONTACT), w.proposal(), taker)
        assert refused.value.key == "takeover.error.not_partner" and refused.value.params == {
            "taker": f"@{taker}"
        }
    assert await w.store.scalar("SELECT count(*) FROM activations") == 0
    w.platform.members[(GUILD, PARTNER)] = Member(PARTNER)
    created = await w.takeovers.create(w.actor(CONTACT), w.proposal(), PARTNER)
    assert created.config == {"taker_id": PARTNER}
    by_contact = await w.takeovers.create(w.actor(MOD), w.proposal(start=3 * H), CONTACT, Member(CONTACT))
    assert by_contact.kind == "takeover"


async def test_takeover_restore_plan_puts_the_channel_back_exactly(world: World):
    w = world
    before = Overwrite(allow="1024", deny=str(1 << 13 | POSTING), kind=1)
    w.platform.overwrites[(CHANNEL, PARTNER)] = before
    w.platform.topics[CHANNEL] = "Weekly recipes"
    takeover = await w.takeovers.create(w.actor(CONTACT), w.proposal(), PARTNER, Member(PARTNER))
    await w.engine.approve(w.actor(MOD), takeover.id)
    await w.run_to(NOW + H)

    during = w.platform.overwrites[(CHANNEL, PARTNER)]
    assert int(during.allow) & POSTING and int(during.allow) & 1024 and not int(during.deny) & POSTING
    assert int(during.deny) & (1 << 13)
    tag = disclosure.tag("en", "Acme", "paid")
    assert w.platform.topics[CHANNEL] == f"{tag} · Weekly recipes"
    plan = await w.takeovers.restore_plan(takeover)
    assert plan is not None and (plan.overwrite, plan.topic, plan.restored) == (
        before,
        "Weekly recipes",
        False,
    )
    ((to, note),) = w.platform.private
    assert to == PARTNER and f"#{CHANNEL}" in (note.content or "")

    # The taker's own messages get a disclosed reply, once even if delivered twice.
    own = w.platform.member_message(CHANNEL)
    message = TakerMessage(GUILD, CHANNEL, own, PARTNER, Author("partner"), text=None, plain=True)
    await w.takeovers.on_message(message)
    await w.takeovers.on_message(message)
    replies = [m for m in w.platform.posts_in(CHANNEL) if m.post.reply_to == own]
    assert len(replies) == 1
    await w.takeovers.on_message(TakerMessage(GUILD, CHANNEL, 1, FAN, Author("fan"), "hi", True))
    assert len(w.platform.posts_in(CHANNEL)) == 3  # the opening, the member's message, the reply
    posted = await w.takeovers.post(w.actor(PARTNER), takeover.id, "Recipe: oats")
    assert "Recipe: oats" in (w.platform.messages[posted.id].post.content or "")
    with pytest.raises(MicrovoiceError):
        await w.takeovers.post(w.actor(FAN), takeover.id, "Not mine")

    assert await w.engine.cancel(w.actor(MOD), takeover.id, None)  # restores at once
    assert w.platform.overwrites[(CHANNEL, PARTNER)] == before
    assert w.platform.topics[CHANNEL] == "Weekly recipes"
    done = await w.takeovers.restore_plan(takeover)
    assert done is not None and done.restored
    closing = w.platform.posts_in(CHANNEL)[-1].post.content or ""
    assert "was cancelled" in closing
    ended = await w.store.get_activation(GUILD, takeover.id)
    assert ended is not None
    assert await w.engine.intents.ensure(ended, CLOSE)  # a second end changes nothing
    assert w.platform.posts_in(CHANNEL)[-1].post.content == closing


async def test_takeover_relay_republishes_plain_text_in_the_takers_name(world: World):
    w = world
    relaying = TakeoverService(w.engine, relay=True)
    w.engine.register("takeover", relaying)
    takeover = await relaying.create(w.actor(CONTACT), w.proposal(), PARTNER, Member(PARTNER))
    await w.engine.approve(w.actor(MOD), takeover.id)
    await w.run_to(NOW + H)
    assert w.platform.overwrites[(CHANNEL, PARTNER)] == Overwrite(str(POSTING), "0", kind=1)
    own = w.platform.member_message(CHANNEL)
    await relaying.on_message(
        TakerMessage(GUILD, CHANNEL, own, PARTNER, Author("Pat", "a.png"), "Oats!", True)
    )
    assert w.platform.messages[own].deleted
    relayed = w.platform.posts_in(CHANNEL)[-1]
    assert relayed.author == Author("Pat", "a.png") and (relayed.post.content or "").endswith("\nOats!")
    await w.run_to(NOW + 2 * H)
    assert (CHANNEL, PARTNER) not in w.platform.overwrites  # there was none before
    assert w.platform.topics[CHANNEL] is None
    assert await w.store.scalar("SELECT mode FROM takeover_posts") == "relay"
