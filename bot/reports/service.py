"""Reports as a service: community reports, activation reports, the weekly digest and the report an
activation gets when it ends. Platform-free: scheduled reports go to a `ReportSink`, which for the bot
is `PlatformSink` over the `bot.platform.Platform` protocol (a report is one post: a card with the
headline figures, its chart as the card's picture, and the PNG and CSV attached).

Wiring (bot/app.py): the job `report-digest` runs `run_digests` hourly and once when the platform is
ready, so a digest missed while the bot was down is posted at start-up; `activation_ended` listens to
the activation engine (`ActivationService.on_ended`).

Guarantees: every figure goes through `privacy.publish` with the community's k (never below 3)
before the embed lines, the chart and the CSV are made from it; a brand manager gets a report only
for an activation of a brand they manage (the same store check /activation show makes); a week's
digest is claimed in the database before it is posted, so it is posted once per community and week,
whatever restarts or duplicate jobs happen (a failed post gives the claim back for the next run).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot import i18n
from bot.activations import TERMINAL, Activation, State
from bot.audit import plain
from bot.errors import Forbidden, InvalidInput
from bot.platform import Attachment, Card, Platform, Post
from bot.reports.csv_export import to_csv
from bot.reports.metrics import (
    BASELINE_WEEKS,
    EPOCH,
    WEEK_HOURS,
    ActivationInput,
    CommunityInput,
    MemberDays,
    Report,
    Topic,
    activation_figures,
    community_figures,
    day_of,
    measured_hours,
    week_of,
    week_start_day,
)
from bot.reports.privacy import Published, PublishedReport, effective_k, publish
from bot.store import Store
from bot.subreddits.ids import is_reddit_id

log = logging.getLogger(__name__)

DAYS_MIN, DAYS_MAX, DAYS_DEFAULT = 1, 90, 30
#: States an activation report can be made for: it ran, at least in part (and it opened, `went_live`).
REPORTABLE = (State.LIVE, State.ENDED, State.CANCELLED)
COMMUNITY_HEADLINE = (
    "active_members",
    "daily_active_avg",
    "weekly_active",
    "monthly_active",
    "new_members",
    "returning_members",
    "messages_per_active",
    "replies_per_active",
    "reactions_per_active",
    "reply_rate_percent",
)
PERCENT_METRICS = frozenset({"reply_rate_percent", "conversion_percent", "share_percent", "lift_percent"})


@dataclass(frozen=True)
class ReportFile:
    name: str
    data: bytes


@dataclass(frozen=True)
class RenderedReport:
    """What a platform shows: a title and lines (an embed), a PNG chart and a CSV file."""

    title: str
    lines: tuple[str, ...]
    files: tuple[ReportFile, ...]
    published: PublishedReport
    lang: str


DIGEST_JOB = "report-digest"
#: How long after its end an activation's report that could not be posted is still tried.
REPORT_RETRY_DAYS = 7
DIGEST_EVERY_MINUTES = 60
CATCH_UP_TASK = "microvoice-report-catch-up"  # the start-up digest, waited for by the e2e harness
DESCRIPTION_MAX = 4000


class ReportSink(Protocol):
    """Where scheduled reports go."""

    async def post_report(self, community_id: int, channel_id: int, report: RenderedReport) -> None: ...


def report_post(report: RenderedReport) -> Post:
    """A report as one post: the headline figures in a card showing the chart, PNG and CSV attached."""
    png = next((f.name for f in report.files if f.name.endswith(".png")), "")
    card = Card(title=report.title, description="\n".join(report.lines)[:DESCRIPTION_MAX], image=png)
    return Post(card=card, attachments=tuple(Attachment(f.name, f.data) for f in report.files))


class ReportChannelRefused(Exception):
    """The platform refused the report for good (the channel was deleted, or the bot may not post in it):
    posting it again would fail the same way."""


class PlatformSink:
    """Posts scheduled reports through a `Platform`, in a channel (the moderators' report channel)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    async def post_report(self, community_id: int, channel_id: int, report: RenderedReport) -> None:
        try:
            await self.platform.post(community_id, channel_id, report_post(report))
        except Exception as error:
            failure = self.platform.failure(error)
            if failure.permanent:
                raise ReportChannelRefused(failure.reason) from error
            raise


def topic_name(topic_id: int, name: str) -> str:
    """How a topic is named in a report: a Discord channel as #name, a subreddit's topic as recorded
    ("r/name · Flair": a '#' before it would name no channel anyone knows)."""
    if is_reddit_id(topic_id) and name:
        return name
    return f"#{name}" if name else f"#{topic_id}"


def went_live(activation: Activation) -> bool:
    """Whether members ever saw it open: its opening was done (`opened_at`). One cancelled before its
    start (a missed window, a brand no longer approved, a moderator), or that ended or was cancelled
    while its opening was still being retried, never ran for members and has no report."""
    return activation.state in REPORTABLE and activation.opened_at is not None


def _taker(activation: Activation) -> int | None:
    taker = activation.config.get("taker_id")
    return int(taker) if taker is not None else None


def _days(n: int) -> int:
    if not DAYS_MIN <= n <= DAYS_MAX:
        raise InvalidInput("report.error.bad_days", low=DAYS_MIN, high=DAYS_MAX)
    return n


class ReportService:
    """`sink` receives the scheduled reports; `flush` (the ingest buffer's) runs before they are read,
    so what was just recorded counts."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime],
        default_locale: str = "en",
        sink: ReportSink | None = None,
        flush: Callable[[], Awaitable[None]] | None = None,
        owns: Callable[[int], bool] = lambda _community_id: True,
    ) -> None:
        self.store = store
        self.clock = clock
        # Sharded processes post the digests of the communities on their own shards (bot/shards.py);
        # the claim in the database keeps each digest to one post whatever runs it.
        self.owns = owns
        self.default_locale = default_locale
        self.sink = sink
        self.flush = flush
        self.booted = asyncio.Event()
        self._boot_task: asyncio.Task[None] | None = None

    def start(self, ready: Callable[[], Awaitable[None]]) -> None:
        """Post any digest missed while the bot was down, once `ready` (the platform is up) returns."""
        self._boot_task = asyncio.create_task(self._catch_up(ready), name=CATCH_UP_TASK)

    async def close(self) -> None:
        if self._boot_task is not None and not self._boot_task.done():
            self._boot_task.cancel()

    async def _catch_up(self, ready: Callable[[], Awaitable[None]]) -> None:
        try:
            await ready()
            await self.run_digests()
        except Exception:
            log.exception("the weekly digest at start-up failed; the hourly job tries again")
        finally:
            self.booted.set()

    # -- figures ----------------------------------------------------------------------------------

    async def community_figures(self, community_id: int, start_day: int, end_day: int) -> Report:
        """The raw figures of days [start_day, end_day), before k-anonymity."""
        s = self.store
        today = day_of(self.clock())
        lo = min(start_day, end_day - 30)
        day, channel, member = await s.report_member_days(community_id, lo, end_day)
        topics = {c: Topic(t, topic_name(t, name)) for c, t, name in await s.report_topics(community_id)}
        # Trusted voices as the rankings stood at the period's end, against a week before that: the
        # daily snapshot of its end for a period that is over (a digest, one caught up late too), the
        # stored ranking for one that runs to today.
        at = await s.report_snapshot_day(community_id, at_most_day=end_day) if end_day <= today else None
        if at is None:
            now = await s.report_trusted_voices(community_id)
            before = await s.report_trusted_voices(community_id, at_most_day=min(end_day, today) - 7)
        else:
            now = await s.report_trusted_voices(community_id, at_most_day=at)
            before = await s.report_trusted_voices(community_id, at_most_day=at - 7)
        inp = CommunityInput(
            community_id=community_id,
            start_day=start_day,
            end_day=end_day,
            member_days=MemberDays(day, channel, member),
            kinds_by_day=await s.report_kinds_by_day(community_id, start_day * 24, end_day * 24),
            channel_counts=await s.report_channel_counts(community_id, start_day, end_day),
            topics=topics,
            first_seen=await s.report_first_seen(community_id, EPOCH + timedelta(days=start_day)),
            voices_now=now,
            voices_before=before or None,
        )
        return community_figures(inp)

    async def activation_figures(self, activation: Activation) -> Report:
        s, a = self.store, activation
        now = self.clock()
        ended_at = await self._ended_at(a, now)
        lo_hour, hi_hour = measured_hours(a.starts_at, ended_at, now)
        hourly = await s.report_hourly_events(a.community_id, lo_hour - WEEK_HOURS * BASELINE_WEEKS, hi_hour)
        day, channel, member = await s.report_member_days(
            a.community_id, lo_hour // 24 - 7 * BASELINE_WEEKS, day_of(ended_at) + 31
        )
        participants = await s.activation_participants(a.id)
        if a.kind == "takeover":
            participants |= await s.takeover_participants(
                a.community_id,
                a.channel_id,
                since=a.starts_at,
                until=ended_at,
                taker_id=_taker(a),
            )
        counts = await s.activation_counts(a.id)
        inp = ActivationInput(
            activation_id=a.id,
            kind=a.kind,
            brand=a.brand_name,
            title=a.title,
            starts_at=a.starts_at,
            ends_at=ended_at,
            now=now,
            participants=participants,
            hourly_events=hourly,
            member_days=MemberDays(day, channel, member),
            **counts,
        )
        return activation_figures(inp)

    async def _ended_at(self, activation: Activation, now: datetime) -> datetime:
        """When it really ended: its end, the moment it was cancelled, or now while it is live."""
        if activation.state == State.LIVE:
            return min(activation.ends_at, now)
        for _, to_state, _, at in reversed(await self.store.activation_log(activation.id)):
            if to_state in (State.ENDED, State.CANCELLED):
                return min(activation.ends_at, datetime.fromisoformat(at))
        return activation.ends_at

    async def _k(self, community_id: int) -> tuple[int, str]:
        settings = await self.store.get_settings(community_id, default_locale=self.default_locale)
        return effective_k(settings.k_anonymity), settings.locale

    # -- reports ----------------------------------------------------------------------------------

    async def community(
        self, community_id: int, days: int = DAYS_DEFAULT, *, end_day: int | None = None
    ) -> PublishedReport:
        """The last `days` days, today included (or the days before `end_day`), k-anonymous."""
        end = day_of(self.clock()) + 1 if end_day is None else end_day
        k, _ = await self._k(community_id)
        return publish(await self.community_figures(community_id, end - _days(days), end), k)

    async def activation(
        self, community_id: int, activation_id: int, *, member_id: int | None, moderator: bool
    ) -> PublishedReport:
        """An activation's report for a moderator, or for a manager of the activation's brand."""
        activation = await self.store.get_activation(community_id, activation_id)
        if activation is None:
            raise InvalidInput("activation.error.not_found", id=activation_id)
        if not moderator:
            managed = await self.store.managed_brand_ids(community_id, member_id) if member_id else []
            if activation.brand_id not in managed:
                raise Forbidden("activation.error.not_manager")
        if not went_live(activation):
            never = activation.state in TERMINAL
            raise InvalidInput(f"report.error.{'never_live' if never else 'not_started'}", id=activation_id)
        k, _ = await self._k(community_id)
        return publish(await self.activation_figures(activation), k)

    async def community_report(self, community_id: int, days: int = DAYS_DEFAULT) -> RenderedReport:
        published = await self.community(community_id, days)
        return await self.render(community_id, published, f"community-{community_id}-{days}d")

    async def activation_report(
        self, community_id: int, activation_id: int, *, member_id: int | None, moderator: bool
    ) -> RenderedReport:
        published = await self.activation(
            community_id, activation_id, member_id=member_id, moderator=moderator
        )
        return await self.render(community_id, published, f"activation-{activation_id}")

    async def render(
        self, community_id: int, published: PublishedReport, stem: str, *, title_key: str | None = None
    ) -> RenderedReport:
        _, lang = await self._k(community_id)
        # matplotlib is loaded with the first chart, not at start-up: most processes never draw one.
        from bot.reports import charts

        png = await asyncio.to_thread(charts.render, published, lang)
        title = i18n.t(lang, title_key or f"report.title.{published.kind}", **_title_params(published, lang))
        return RenderedReport(
            title=title[:256],
            lines=tuple(headline_lines(published, lang)),
            files=(ReportFile(f"{stem}.png", png), ReportFile(f"{stem}.csv", to_csv(published))),
            published=published,
            lang=lang,
        )

    # -- scheduled --------------------------------------------------------------------------------

    async def run_digests(self) -> int:
        """The `report-digest` job: last week's digests through the service's sink (none without one),
        and the reports of activations that ended but whose report was never posted (a failed post,
        a stop right after the end)."""
        if self.sink is None:
            return 0
        if self.flush is not None:
            await self.flush()
        since = self.clock() - timedelta(days=REPORT_RETRY_DAYS)
        for activation_id in await self.store.unreported_activations(since):
            activation = await self.store.activation_by_id(activation_id)
            if activation is not None and self.owns(activation.community_id):
                await self._report_once(activation)
        return await self.post_weekly_digests(self.sink)

    async def activation_ended(self, activation: Activation) -> None:
        """Listener of the activation engine: an ended activation's report goes to the report channel,
        once. A failure is logged and the hourly job tries again; the activation's end stands. One that
        never opened to members gets none."""
        if self.sink is None or activation.state != State.ENDED or not went_live(activation):
            return
        if self.flush is not None:
            await self.flush()
        await self._report_once(activation)

    async def _report_once(self, activation: Activation) -> None:
        assert self.sink is not None
        now = self.clock()
        if not await self.store.claim_activation_report(activation.community_id, activation.id, now=now):
            return
        try:
            await self.post_activation_ended(self.sink, activation)
        except ReportChannelRefused as refused:  # not again: it would be refused the same way
            log.warning("the report of activation %s was refused (%s); not posted", activation.id, refused)
        except Exception:
            log.exception("the report of activation %s could not be posted; tried again later", activation.id)
            await self.store.release_activation_report(activation.id)
            return
        await self.store.activation_report_done(activation.id, now=self.clock())

    async def post_weekly_digests(self, sink: ReportSink) -> int:
        """Post last week's digest (Monday to Sunday, UTC) to every report channel that has not had it.
        Communities without a report channel get none. Returns how many were posted."""
        now = self.clock()
        week = week_of(day_of(now)) - 1
        start = week_start_day(week)
        posted = 0
        for community_id, channel_id, _ in await self.store.report_channels():
            if not self.owns(community_id):
                continue
            if not await self.store.claim_digest(community_id, week, now=now):
                continue
            try:
                k, _ = await self._k(community_id)
                published = publish(await self.community_figures(community_id, start, start + 7), k)
                report = await self.render(
                    community_id,
                    published,
                    f"digest-{community_id}-week{week}",
                    title_key="report.title.digest",
                )
                await sink.post_report(community_id, channel_id, report)
            except ReportChannelRefused as refused:  # this week's is skipped, not retried every hour
                log.warning(
                    "weekly digest for community %s refused in its report channel (%s); skipped",
                    community_id, refused,
                )  # fmt: skip
                await self.store.digest_posted(community_id, week, now=now)
                continue
            except Exception:
                await self.store.release_digest(community_id, week)
                log.exception(
                    "weekly digest for community %s failed; it is retried on the next run", community_id
                )
                continue
            await self.store.digest_posted(community_id, week, now=now)
            posted += 1
        return posted

    async def post_activation_ended(self, sink: ReportSink, activation: Activation) -> bool:
        """The report of an activation that just ended, to the moderators' report channel (if set); none
        for one that never opened to members."""
        if activation.state != State.ENDED or not went_live(activation):
            return False
        settings = await self.store.get_settings(activation.community_id, default_locale=self.default_locale)
        if settings.report_channel_id is None:
            return False
        published = publish(await self.activation_figures(activation), effective_k(settings.k_anonymity))
        report = await self.render(activation.community_id, published, f"activation-{activation.id}")
        await sink.post_report(activation.community_id, settings.report_channel_id, report)
        return True


# -- text ---------------------------------------------------------------------------------------------


def _title_params(published: PublishedReport, lang: str) -> dict[str, object]:
    params = dict(published.title_params)
    for key in ("start", "end"):  # dates read left to right inside Arabic and Hebrew sentences too
        if key in params:
            params[key] = f"\u2066{params[key]}\u2069"
    if published.kind == "activation":
        params["kind"] = i18n.t(lang, f"activation.kind.{params['kind']}")
        params["brand"] = i18n.isolate(str(params["brand"]))
        params["title"] = i18n.isolate(str(params["title"]))
    return params


def format_value(row: Published | None, lang: str, k: int) -> str:
    if row is None:
        return "–"
    if row.suppressed:
        return i18n.t(lang, "report.value.suppressed", k=k)
    if row.value is None:
        return i18n.t(lang, f"report.value.{row.note or 'none'}")
    value = row.value
    text = f"{int(value):,}" if float(value).is_integer() else f"{value:,.1f}"
    if row.metric in PERCENT_METRICS or row.metric.endswith("_percent"):
        text = f"{'+' if row.metric == 'lift_percent' and value > 0 else ''}{text} %"
    return text


def headline_lines(report: PublishedReport, lang: str) -> list[str]:
    """The embed's lines: headline figures, each suppressed one shown as suppressed."""
    k = report.k

    def line(section: str, metric: str, item: str = "") -> str:
        label = i18n.t(lang, f"report.metric.{metric}")
        return i18n.t(
            lang, "report.line", label=label, value=format_value(report.get(section, metric, item), lang, k)
        )

    lines: list[str] = []
    if report.kind == "community":
        lines += [line("headline", m) for m in COMMUNITY_HEADLINE]
        topics = [r for r in report.section("topic") if r.metric == "share_percent"][:3]
        if topics:
            # A channel or flair name is shown as typed: markdown escaped, so it never becomes a link.
            shown = i18n.join(lang, (f"{plain(r.item)} {format_value(r, lang, k)}" for r in topics))
            lines.append(i18n.t(lang, "report.top_topics", topics=shown))
        voices = report.get("voices", "trusted_voices", "all")
        if voices is not None:
            change = report.get("voices", "change_7d", "all")
            lines.append(
                i18n.t(
                    lang,
                    "report.voices",
                    count=format_value(voices, lang, k),
                    change=format_value(change, lang, k) if change else "–",
                )
            )
    else:
        kind = str(report.title_params.get("kind"))
        metrics = ["participants"]
        metrics += {"giveaway": ["giveaway_entries"], "qa": ["questions", "questions_answered"]}.get(kind, [])
        metrics += ["takeover_posts"] if kind == "takeover" else []
        # Codes only for an activation with a code pool: the report has no code figures otherwise.
        if report.get("headline", "codes_claimed") is not None:
            metrics += ["codes_claimed", "codes_redeemed", "conversion_percent"]
        lines += [line("headline", m) for m in metrics if report.get("headline", m) is not None]
        during = report.get("engagement", "events", "during")
        if during is not None and during.note == "too_early":
            lines.append(i18n.t(lang, "report.engagement_too_early"))
        else:
            lines.append(
                i18n.t(
                    lang,
                    "report.engagement",
                    during=format_value(during, lang, k),
                    mean=format_value(report.get("engagement", "mean", "baseline"), lang, k),
                    sd=format_value(report.get("engagement", "stdev", "baseline"), lang, k),
                    lift=format_value(report.get("engagement", "lift_percent", "during"), lang, k),
                )
            )
        for days in (7, 30):
            item = f"after_{days}d"
            if report.get("repeat", "participants_percent", item) is None:
                continue  # a kind nobody takes part in (an announcement)
            lines.append(
                i18n.t(
                    lang,
                    "report.repeat",
                    days=days,
                    participants=format_value(report.get("repeat", "participants_percent", item), lang, k),
                    comparable=format_value(report.get("repeat", "comparable_percent", item), lang, k),
                )
            )
    lines.append(i18n.t(lang, "report.privacy_note", k=k))
    return lines
