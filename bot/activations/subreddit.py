"""Activations run in a subreddit: an AMA / Q&A thread, a giveaway and a sponsored announcement, through
the same engine.

They are the Reddit handlers of the `qa`, `giveaway` and `announcement` kinds
(`ActivationService.register(kind, obj, platform="reddit")`): an activation whose channel is a bound
subreddit is created, approved, counted by the saturation guard and run on time exactly like a Discord
one, and everything it publishes goes through `Publisher`, so every post and comment carries the
disclosure first, in the community's language. What differs is where members act: on Reddit they
comment.

- **AMA**: the bot opens a disclosed post; questions are its top-level comments, ranked by Reddit's
  score. The brand answers from the Reddit account a contact of the brand linked (`/link reddit`), and
  that counts as the answer; or a brand manager answers with `/qa answer`, which the bot relays as a
  disclosed reply to the question. At the end a disclosed comment sums it up (top questions by score).
- **Giveaway**: the bot opens a disclosed post with the rules and the commitment of its secret seed;
  entries are the top-level comments of eligible accounts (`subreddit_rules`), one per account, made
  before the end. At the end the same commit-reveal draw as on Discord picks the winners, and a
  disclosed comment names them and publishes the seed and the entrant list, so anyone can verify.
- **Announcement**: one disclosed post (the brand's title and text), stickied and distinguished while
  live when the bot moderates the subreddit. At the end (or when cancelled) the post is edited to say
  so, still disclosed, and, when the bot moderates, unstickied and locked.

`sync_live` reads the live posts' comments (the app runs it every minute; the end hooks run it once
more before they summarise or draw). Reads and writes to Reddit go through the `Discussions` and
`Platform` the Reddit adapter implements; nothing here imports praw.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial

import regex

from bot import i18n
from bot.activations import draw
from bot.activations.disclosure import community_label, disclose_card, tag
from bot.activations.draw import GiveawayConfig
from bot.activations.intents import Steps
from bot.activations.model import Activation, State, format_time, validate_text
from bot.activations.service import ActivationService, Actor, Proposal
from bot.activations.subreddit_rules import (
    AccountFacts,
    RedditEligibility,
    question_text,
    refusal,
    validate_eligibility,
)
from bot.errors import InvalidInput
from bot.ingest import Ingest
from bot.ledger import parse_iso
from bot.platform import Attachment, Card, Discussions, Member, Reply
from bot.store import Draw, Store
from bot.text import literal

log = logging.getLogger(__name__)

PLATFORM = "reddit"
SYNC_JOB = "reddit-activations-sync"
SYNC_EVERY_MINUTES = 1
TOP_QUESTIONS = 5
#: Reddit notifies the accounts a comment names only where it names at most this many.
NOTIFIED_PER_COMMENT = 3
#: A live post's comments are read at every sync until its thread holds this many; a longer one is
#: read as often as `READ_REQUESTS_PER_MINUTE` requests a minute allow, Reddit giving about
#: `COMMENTS_PER_REQUEST` comments a request (`SubredditActivations._pace`).
PACED_FROM = 500
COMMENTS_PER_REQUEST = 100
READ_REQUESTS_PER_MINUTE = 5
ANNOUNCEMENT_MAX = 4000  # characters of an announcement's text (a self post holds 40,000)


#: How long one of a subreddit's title patterns may take to match a title: a pattern written badly
#: (nested repetition) would otherwise hold the bot up.
PATTERN_SECONDS = 0.05


def title_matches(patterns: Sequence[str], title: str) -> bool | None:
    """Whether `title` matches one of a subreddit's title patterns (Reddit's `title_regexes`), case
    ignored; None when no pattern could judge it. A pattern that cannot be read, or that takes more
    than `PATTERN_SECONDS`, is left out: the check at the proposal is never stricter than Reddit,
    which still judges the post when it is made."""
    judged = False
    for pattern in patterns:
        try:
            if regex.compile(pattern, regex.IGNORECASE).search(title, timeout=PATTERN_SECONDS):
                return True
        except (regex.error, TimeoutError):
            continue
        judged = True
    return False if judged else None


class EntrantsUnread(Exception):
    """Reddit did not answer for some entrants' accounts now: the sync is tried again (a transient
    failure), and the draw waits until every entrant could be judged."""

    def __init__(self, count: int) -> None:
        super().__init__(f"{count} entrant account(s) could not be read from Reddit")


@dataclass(frozen=True)
class RedditGiveawayTerms:
    """What `/activation create reddit-giveaway` asks for beyond the shared `Proposal` (title = the prize)."""

    rules: str
    winners: int
    min_account_days: int = 0
    min_subreddit_days: int = 0
    min_karma: int = 0
    min_events: int = 0


class SubredditActivations:
    """Creates Reddit activations and reads members' comments under their posts; holds both handlers."""

    def __init__(self, engine: ActivationService, discussions: Discussions, ingest: Ingest) -> None:
        self.engine = engine
        self.store: Store = engine.store
        self.discussions = discussions
        self.ingest = ingest
        self.clock = engine.clock
        self.qa = RedditQa(self)
        self.giveaway = RedditGiveaway(self)
        self.announcement = RedditAnnouncement(self)
        self._sync_lock = asyncio.Lock()
        # Per live activation: the comments its post's last read held, and when a long thread is
        # read next (`READ_REQUESTS_PER_MINUTE`).
        self._read_size: dict[int, int] = {}
        self._read_next: dict[int, datetime] = {}

    def register(self) -> None:
        self.engine.register("qa", self.qa, platform=PLATFORM)
        self.engine.register("giveaway", self.giveaway, platform=PLATFORM)
        self.engine.register("announcement", self.announcement, platform=PLATFORM)

    # -- creating -------------------------------------------------------------------------------------

    async def subreddit_channel(self, community_id: int, text: str) -> int:
        """The channel id of a subreddit bound to this community (as typed: r/name or name)."""
        from bot.subreddits.service import subreddit_name  # the binding rules own the name's format

        name = subreddit_name(text)
        bound = await self.store.bound_subreddit(name)
        if bound is None or bound.community_id != community_id:
            raise InvalidInput("reddit.not_bound", name=name)
        return bound.subreddit_id

    async def _check_posting(
        self, community_id: int, proposal: Proposal, title_of: Callable[[str], str] | None = None
    ) -> None:
        """Refuse now what the subreddit would refuse at the start, after the approval: a post
        without a flair where every post needs one (and no sponsored flair is set), a text post
        where only links are taken, or a title (the disclosure, then `title_of(language)`, the
        proposal's title by default) longer or shorter than it takes, without any of the words it
        asks for, holding a word it refuses, or matching none of the patterns it asks titles to match
        (`title_matches`)."""
        channel_id = proposal.channel_id
        rules = await self.discussions.post_rules(channel_id)
        if rules is None:
            return
        bound = next(
            (b for b in await self.store.bound_subreddits(community_id) if b.subreddit_id == channel_id), None
        )
        if bound is None:
            return
        if rules.flair_required and not bound.sponsored_flair_id:
            raise InvalidInput("reddit.error.flair_required", name=bound.name)
        if not rules.text_allowed:
            raise InvalidInput("reddit.error.no_text_posts", name=bound.name)
        if not rules.judges_titles:
            return
        lang = (await self.engine.community(community_id)).locale
        brand = await self.store.get_brand(community_id, proposal.brand_id) if proposal.brand_id else None
        label = community_label(lang)
        if brand is not None:
            label = tag(lang, brand.name, proposal.connection, plain=True)
        own = title_of(lang) if title_of is not None else proposal.title
        title = disclose_card(label, Card(title=own)).title or ""
        if rules.title_max is not None and len(title) > rules.title_max:
            raise InvalidInput(
                "reddit.error.title_too_long", name=bound.name, most=rules.title_max, length=len(title)
            )
        if rules.title_min is not None and len(title) < rules.title_min:
            raise InvalidInput(
                "reddit.error.title_too_short", name=bound.name, least=rules.title_min, length=len(title)
            )
        folded = title.casefold()
        if rules.title_required and not any(w.casefold() in folded for w in rules.title_required):
            words = ", ".join(f"“{w}”" for w in rules.title_required)
            raise InvalidInput("reddit.error.title_required", name=bound.name, words=words)
        banned = [w for w in rules.title_banned if w.casefold() in folded]
        if banned:
            # Words the proposal's own title holds can be taken out; words only the disclosure holds
            # cannot: such a subreddit takes no disclosed post.
            words = ", ".join(f"“{w}”" for w in banned)
            own_words = any(w.casefold() in own.casefold() for w in banned)
            key = "reddit.error.title_banned" if own_words else "reddit.error.title_banned_disclosure"
            raise InvalidInput(key, name=bound.name, words=words)
        if rules.title_patterns and title_matches(rules.title_patterns, title) is False:
            shown = ", ".join(f"“{p}”" for p in rules.title_patterns)
            raise InvalidInput("reddit.error.title_pattern", name=bound.name, patterns=shown)

    async def create_qa(self, actor: Actor, proposal: Proposal) -> Activation:
        await self._check_posting(actor.community_id, proposal)
        return await self.engine.create(actor, "qa", proposal, config={"platform": PLATFORM})

    async def create_announcement(self, actor: Actor, proposal: Proposal, text: str) -> Activation:
        """A pending announcement: the post's title is the proposal's, its text `text`."""
        cleaned = validate_text(text, limit=ANNOUNCEMENT_MAX, what="post", multiline=True)
        await self._check_posting(actor.community_id, proposal)
        return await self.engine.create(
            actor, "announcement", proposal, config={"platform": PLATFORM, "text": cleaned}
        )

    async def create_giveaway(
        self, actor: Actor, proposal: Proposal, terms: RedditGiveawayTerms
    ) -> tuple[Activation, str]:
        """A pending giveaway with its secret seed in one transaction; returns it and the commitment."""
        config = draw.validate_config(prize=proposal.title, rules=terms.rules, winners=terms.winners)
        rules = validate_eligibility(
            min_account_days=terms.min_account_days,
            min_subreddit_days=terms.min_subreddit_days,
            min_karma=terms.min_karma,
            min_events=terms.min_events,
        )
        prize = config.prize

        def giveaway_title(lang: str) -> str:
            return i18n.t(lang, "giveaway.post_title", prize=i18n.isolate(prize))

        await self._check_posting(actor.community_id, proposal, giveaway_title)
        seed = draw.new_seed()
        commitment = draw.commitment(seed)
        activation = await self.engine.create(
            actor,
            "giveaway",
            replace(proposal, title=config.prize),
            config={
                **config.to_json(),
                "commitment": commitment,
                "platform": PLATFORM,
                "reddit": rules.to_json(),
            },
            insert=partial(self.store.insert_giveaway, seed=seed, commitment=commitment, codes=[]),
        )
        return activation, commitment

    # -- reading comments ---------------------------------------------------------------------------

    async def sync_live(self) -> int:
        """Read the comments under every live Reddit activation's post; returns how many were new."""
        total = 0
        async with self._sync_lock:
            live = [a for a in await self.store.open_activations() if a.state == State.LIVE]
            for gone in self._read_size.keys() - {a.id for a in live}:
                self._read_size.pop(gone, None)
                self._read_next.pop(gone, None)
            for activation in live:
                if activation.message_id is None:
                    continue
                if self.engine.platform_name(activation) != PLATFORM:
                    continue
                if not self.engine.owns(activation.community_id):
                    continue
                if activation.kind not in ("qa", "giveaway"):
                    continue  # an announcement reads no comments
                handler = self.qa if activation.kind == "qa" else self.giveaway
                due = self._read_next.get(activation.id)
                if due is not None and self.clock() < due:
                    continue  # a long thread, read again when its share of Reddit's budget allows
                try:
                    total += await handler.sync(activation)
                    self._pace(activation.id)
                except Exception as error:
                    failure = self.engine.platform.failure(error)
                    log.warning(
                        "could not read the comments of activation %s: %s",
                        activation.id,
                        failure.logged,
                        exc_info=not failure.expected,  # Reddit down or slow is no bug
                    )
        return total

    def _pace(self, activation_id: int) -> None:
        """When a live post's comments are read next: at the next sync while a read costs a few
        requests; for a longer thread (a request per hundred comments more) no sooner than lets it
        take `READ_REQUESTS_PER_MINUTE` of Reddit's hundred a minute, which the streams, the other
        activations and the commands share. The end reads the whole thread whatever the pace."""
        size = self._read_size.get(activation_id, 0)
        if size < PACED_FROM:
            self._read_next.pop(activation_id, None)
            return
        minutes = (1 + size / COMMENTS_PER_REQUEST) / READ_REQUESTS_PER_MINUTE
        self._read_next[activation_id] = self.clock() + timedelta(minutes=minutes)

    async def replies(self, activation: Activation) -> list[Reply]:
        """The post's top-level replies, but for those of members erased since they made them (a
        question or an entry read again after its author's erasure is not stored again)."""
        if activation.message_id is None:
            return []
        replies = await self.discussions.replies(activation.community_id, activation.message_id)
        self._read_size[activation.id] = len(replies) + sum(len(r.answered_by) for r in replies)
        erased = self.ingest.erased_after
        return [
            r
            for r in replies
            if r.author_id is None or not erased(activation.community_id, r.author_id, r.created_at)
        ]


class RedditQa:
    """The `qa` kind on Reddit."""

    def __init__(self, owner: SubredditActivations) -> None:
        self.owner = owner
        self.engine = owner.engine
        self.store = owner.store
        self.publisher = owner.engine.publisher

    async def on_live(self, activation: Activation, steps: Steps) -> None:
        lang = activation.locale
        card = Card(
            title=activation.title,
            description=i18n.t(lang, "reddit_qa.open", end=format_time(activation.ends_at)),
        )
        posted = await steps.post("post", activation, activation.channel_id, card=card)
        await self.store.set_activation_post(
            activation.community_id, activation.id, message_id=posted.id, thread_id=posted.id
        )

    async def sync(self, activation: Activation) -> int:
        """New top-level comments become questions; a reply from the brand's linked account answers one."""
        return await self._record(activation, await self.owner.replies(activation))

    async def _record(self, activation: Activation, replies: list[Reply]) -> int:
        brand_accounts = await self.store.brand_reddit_accounts(activation.community_id, activation.brand_id)
        questions = [
            (r.id, r.author_id, text, r.created_at)
            for r in self._asked(replies, brand_accounts)
            if r.created_at < activation.ends_at and (text := question_text(r.body)) is not None
        ]
        added = await self.store.add_reddit_questions(activation.community_id, activation.id, questions)
        for reply in replies:
            for author_id, answer_id in reply.answered_by:
                member = brand_accounts.get(author_id)
                if member is not None:
                    await self.store.record_reddit_answer(
                        activation.community_id,
                        activation.id,
                        reply.id,
                        by=member,
                        answer_id=answer_id,
                        now=self.owner.clock(),
                    )
        return added

    @staticmethod
    def _asked(replies: list[Reply], brand_accounts: dict[int, int]) -> list[Reply]:
        """The top-level comments that ask: not those of the brand's own linked accounts (its host's
        welcome or closing words answer nobody's question and are no member taking part)."""
        return [r for r in replies if r.author_id is not None and r.author_id not in brand_accounts]

    async def on_end(self, activation: Activation, steps: Steps) -> None:
        lang = activation.locale
        replies: list[Reply] = []
        if activation.state == State.ENDED:
            replies = await self.owner.replies(activation)
            await self._record(activation, replies)  # the comments made before the end still count
        summary = await self.store.qa_summary(activation.community_id, activation.id)
        lines = [
            i18n.t(
                lang,
                "qa.summary",
                questions=summary.questions,
                answered=summary.answered,
                participants=summary.participants,
            )
        ]
        if activation.state == State.CANCELLED:
            lines.insert(0, i18n.t(lang, "qa.cancelled"))
        brand_accounts = await self.store.brand_reddit_accounts(activation.community_id, activation.brand_id)
        asked = [r for r in self._asked(replies, brand_accounts) if question_text(r.body)]
        for r in asked[:TOP_QUESTIONS]:
            body = (question_text(r.body) or "").replace("\n", " ")
            lines.append(i18n.t(lang, "reddit_qa.top_line", score=r.score, body=literal(body[:200])))
        card = Card(
            title=i18n.t(lang, "qa.summary_title", title=i18n.isolate(activation.title)),
            description="\n".join(lines),
        )
        where = activation.thread_id or activation.message_id
        if where is None:
            return  # it never went live on Reddit: nothing to sum up there
        await steps.post("summary", activation, where, card=card)
        if activation.message_id is not None:
            post = activation.message_id

            async def unfeature() -> bool:  # the subreddit's sticky slot is free again
                return await self.owner.discussions.close_post(activation.community_id, post, lock=False)

            await steps.do("unfeature", unfeature)

    def describe(self, activation: Activation, lang: str) -> list[str]:
        if activation.thread_id:
            link = self.engine.platform.channel_link(activation.thread_id)
            return [i18n.t(lang, "qa.describe_thread", thread=link)]
        return []

    async def describe_more(self, activation: Activation, lang: str) -> list[str]:
        """The questions read so far, with the numbers `/qa answer` takes (unanswered ones first)."""
        summary = await self.store.qa_summary(activation.community_id, activation.id, top=50)
        ordered = sorted(summary.top, key=lambda q: (q.answered, q.id))[:10]
        return [
            i18n.t(
                lang,
                "reddit_qa.question_line",
                id=q.id,
                body=q.body.replace("\n", " ")[:100],
                state=i18n.t(lang, "reddit_qa.answered" if q.answered else "reddit_qa.open_question"),
            )
            for q in ordered
        ]


class RedditGiveaway:
    """The `giveaway` kind on Reddit."""

    def __init__(self, owner: SubredditActivations) -> None:
        self.owner = owner
        self.engine = owner.engine
        self.store = owner.store
        self.publisher = owner.engine.publisher
        self._locks: dict[int, asyncio.Lock] = {}

    @staticmethod
    def rules_of(activation: Activation) -> RedditEligibility:
        return RedditEligibility.from_json(activation.config.get("reddit"))

    def _who(self, lang: str, rules: RedditEligibility, subreddit: str) -> str:
        parts = []
        if rules.min_account_days:
            parts.append(i18n.t(lang, "reddit_giveaway.min_account_days", days=rules.min_account_days))
        if rules.min_subreddit_days:
            parts.append(
                i18n.t(
                    lang, "reddit_giveaway.min_subreddit_days", days=rules.min_subreddit_days, sub=subreddit
                )
            )
        if rules.min_karma:
            parts.append(i18n.t(lang, "reddit_giveaway.min_karma", karma=rules.min_karma))
        if rules.min_events:
            parts.append(i18n.t(lang, "giveaway.post_min_events", events=rules.min_events))
        text = "; ".join(parts) if parts else i18n.t(lang, "giveaway.post_who_everyone")
        return i18n.t(lang, "giveaway.post_who", rules=text) + " " + i18n.t(lang, "reddit_giveaway.excluded")

    async def _card(self, activation: Activation, *, open_: bool) -> Card:
        lang, config = activation.locale, GiveawayConfig.from_json(activation.config)
        commitment = await self.store.giveaway_commitment(activation.id) or ""
        subreddit = self.engine.platform.channel_link(activation.channel_id)
        lines = [
            i18n.t(lang, "giveaway.post_rules", rules=config.rules),
            i18n.t(lang, "giveaway.post_winners", count=config.winners),
            i18n.t(
                lang,
                "reddit_giveaway.how" if open_ else "reddit_giveaway.closed",
                end=format_time(activation.ends_at),
            ),
            self._who(lang, self.rules_of(activation), subreddit),
            i18n.t(lang, "giveaway.post_commitment", commitment=commitment),
        ]
        return Card(
            title=i18n.t(lang, "giveaway.post_title", prize=i18n.isolate(config.prize)),
            description="\n".join(lines),
        )

    async def on_live(self, activation: Activation, steps: Steps) -> None:
        posted = await steps.post(
            "post", activation, activation.channel_id, card=await self._card(activation, open_=True)
        )
        await self.store.set_activation_post(
            activation.community_id, activation.id, message_id=posted.id, thread_id=posted.id
        )

    async def sync(self, activation: Activation) -> int:
        """Entries from the post's top-level comments by eligible accounts (one per account, its first
        comment). The minimum ages are judged as the account was when it commented, so that reading the
        thread again later (each sync, and the last one at the end) gives the same entries."""
        replies = await self.owner.replies(activation)
        rules = self.rules_of(activation)
        moderators = await self.owner.discussions.moderators(activation.channel_id)
        entries: list[tuple[int, datetime]] = []
        # An entry stands once made: its account is not read from Reddit again at every sync (each
        # read is a request out of the client's hundred a minute, shared with every stream).
        entered: set[int] = set(await self.store.giveaway_entrants(activation.id))
        first: dict[int, Reply] = {}  # each new account's first comment before the end
        for reply in sorted(replies, key=lambda r: r.created_at):
            author = reply.author_id
            if author is None or author in entered or reply.created_at >= activation.ends_at:
                continue
            first.setdefault(author, reply)
        if not first:
            return 0
        # The new accounts' profiles at once, a hundred a request (one each was a request per entrant
        # out of the client's hundred a minute). Reddit failing (429, 5xx, a timeout) refuses nobody:
        # they are judged at the next sync, and the draw waits for them.
        try:
            accounts = await self.owner.discussions.accounts(first)
        except Exception as error:
            raise EntrantsUnread(len(first)) from error
        for author, reply in first.items():
            facts = await self._facts(activation, author, moderators, accounts.get(author))
            reason = refusal(facts, rules, now=reply.created_at)
            if reason is None:
                entries.append((author, reply.created_at))
            else:
                log.debug("giveaway %s: a comment is not an entry (%s)", activation.id, reason)
        return await self.store.add_reddit_entries(activation.community_id, activation.id, entries)

    async def _facts(
        self, activation: Activation, author: int, moderators: frozenset[int], account: Member | None
    ) -> AccountFacts:
        community_id = activation.community_id
        rules = self.rules_of(activation)
        if rules.min_events:
            await self.owner.ingest.flush()
        first_seen = await self.store.reddit_first_seen(community_id, author)
        linked = await self.store.linked_member(community_id, author)
        contact = linked is not None and await self.store.is_contact_of_any_brand(community_id, linked)
        return AccountFacts(
            member_id=author,
            created_at=account.created_at if account else None,
            karma=account.karma if account else None,
            first_seen=parse_iso(first_seen) if first_seen else None,
            events=await self.store.member_engagement_events(community_id, author),
            is_moderator=author in moderators,
            is_brand_contact=contact,
            is_bot=account is None or account.is_bot,
        )

    async def on_end(self, activation: Activation, steps: Steps) -> None:
        await self.finish(activation, steps)

    async def recover(self) -> None:
        """Reddit giveaways that ended but whose results were never posted."""
        for activation_id in await self.store.unannounced_giveaways():
            activation = await self.store.activation_by_id(activation_id)
            if activation is None or self.engine.platform_name(activation) != PLATFORM:
                continue
            if not self.engine.owns(activation.community_id):
                continue
            try:
                await self.finish(activation)
            except Exception:
                log.exception("giveaway %s: could not finish at start-up", activation_id)

    async def finish(self, activation: Activation, steps: Steps | None = None) -> None:
        """A final read of the entries, round 0 drawn once, the results posted once, the post closed
        (as steps of the end's intent when `steps` is given). Safe to call again."""
        async with self._locks.setdefault(activation.id, asyncio.Lock()):
            store, now = self.store, self.owner.clock()
            if activation.state == State.CANCELLED:
                await self._close(activation, steps)
                return
            if activation.state != State.ENDED:
                return
            config = GiveawayConfig.from_json(activation.config)
            if not await store.giveaway_draws(activation.id):
                await self.sync(activation)  # comments made before the end, read once more
                seed = await store.giveaway_seed_for_draw(activation.id)
                if seed is None:
                    log.error("giveaway %s has no seed; cannot draw", activation.id)
                    return
                entrants = await store.giveaway_entrants(activation.id)
                await store.record_giveaway_draw(
                    activation.community_id,
                    activation.id,
                    0,
                    entrants=entrants,
                    entrants_sha256=draw.entrants_digest(entrants),
                    winners=draw.draw(seed, entrants, config.winners, round_no=0),
                    by=None,
                    now=now,
                )
            first = next(d for d in await store.giveaway_draws(activation.id) if d.round == 0)
            if first.message_id is None:
                seed = await store.reveal_giveaway_seed(activation.id, now) or ""
                commitment = await store.giveaway_commitment(activation.id) or ""
                posted = await self._announce(activation, config, first, seed, commitment)
                await store.set_draw_message(activation.id, 0, posted)
            await self._close(activation, steps)

    async def _announce(
        self, activation: Activation, config: GiveawayConfig, first: Draw, seed: str, commitment: str
    ) -> int:
        lang = activation.locale
        platform = self.engine.platform_for(activation)
        winners = list(first.winners)
        # After a restart the names of accounts not seen since are looked up: a winner named by
        # an account id is mentioned, and notified, by nobody.
        await self.engine.platform.learn_names(w for w in winners if w > 0)
        names = i18n.join(lang, (platform.mention(m) if m > 0 else "\N{EM DASH}" for m in winners))
        lines = [
            i18n.t(lang, "giveaway.result_winners", winners=names)
            if winners
            else i18n.t(lang, "giveaway.result_none"),
            i18n.t(lang, "giveaway.result_entrants", count=len(first.entrants), digest=first.entrants_sha256),
            i18n.t(lang, "giveaway.result_seed", seed=seed, commitment=commitment),
            i18n.t(lang, "giveaway.result_verify", seed=seed, commitment=commitment, count=config.winners),
        ]
        if winners:
            lines.append(i18n.t(lang, "reddit_giveaway.claim"))
        card = Card(
            title=i18n.t(lang, "giveaway.result_title", prize=i18n.isolate(config.prize)),
            description="\n".join(lines),
        )
        listing = "\n".join(str(e) for e in first.entrants).encode("ascii")
        where = activation.thread_id or activation.message_id or activation.channel_id
        # An earlier attempt may have posted the results before it could record them: kept, not repeated.
        posted = await self.publisher.post_once(
            activation,
            where,
            nonce=f"giveaway-results-{activation.id}",
            card=card,
            attachments=[Attachment("entrants.txt", listing)],
            notify=winners,
        )
        told = [w for w in winners if w > 0]
        if len(told) > NOTIFIED_PER_COMMENT:
            # Reddit notifies nobody of a comment that names more than three accounts: the results
            # name every winner, and replies to them tell the winners, three a reply.
            for k in range(0, len(told), NOTIFIED_PER_COMMENT):
                group = told[k : k + NOTIFIED_PER_COMMENT]
                named = i18n.join(lang, (platform.mention(m) for m in group))
                told_them = i18n.t(lang, "giveaway.result_winners", winners=named)
                await self.publisher.post_once(
                    activation,
                    where,
                    nonce=f"giveaway-told-{activation.id}-{k // NOTIFIED_PER_COMMENT}",
                    content=f"{told_them}\n\n{i18n.t(lang, 'reddit_giveaway.claim')}",
                    reply_to=posted.id,
                    notify=group,
                )
        return posted.id

    async def _close(self, activation: Activation, steps: Steps | None = None) -> None:
        """The post says entries are closed, and the subreddit's sticky slot is free again (comments
        stay open). In the end's intent each is a step, retried until done and a refusal reported:
        an open-looking post still featured after the draw misleads members. Elsewhere (the start-up
        recovery) it is tried once."""
        current = await self.store.activation_by_id(activation.id)
        if current is None or current.message_id is None:
            return
        card = await self._card(current, open_=False)
        community_id, channel_id, message_id = current.community_id, current.channel_id, current.message_id

        async def edit() -> None:
            await self.publisher.edit(current, channel_id, message_id, card=card)

        async def unfeature() -> bool:
            return await self.owner.discussions.close_post(community_id, message_id, lock=False)

        if steps is not None:
            await steps.do("edit", edit)
            await steps.do("unfeature", unfeature)
            return
        try:
            await edit()
            await unfeature()
        except Exception:
            log.warning("could not close the post of giveaway %s", activation.id, exc_info=True)

    def describe(self, activation: Activation, lang: str) -> list[str]:
        config = GiveawayConfig.from_json(activation.config)
        lines = [
            i18n.t(lang, "giveaway.post_title", prize=i18n.isolate(config.prize)),
            i18n.t(lang, "giveaway.post_winners", count=config.winners),
            i18n.t(lang, "giveaway.describe_commitment", commitment=activation.config.get("commitment", "?")),
        ]
        if activation.thread_id:
            lines.append(
                i18n.t(
                    lang, "qa.describe_thread", thread=self.engine.platform.channel_link(activation.thread_id)
                )
            )
        return lines


class RedditAnnouncement:
    """The `announcement` kind on Reddit: one disclosed post, featured while live."""

    def __init__(self, owner: SubredditActivations) -> None:
        self.owner = owner
        self.engine = owner.engine
        self.store = owner.store
        self.publisher = owner.engine.publisher

    @staticmethod
    def card(activation: Activation, closing: str | None = None) -> Card:
        """The post: the brand's text, after a line saying it ended when `closing` is that line."""
        text = str(activation.config.get("text") or "")
        return Card(title=activation.title, description=f"{closing}\n\n{text}" if closing else text)

    async def on_live(self, activation: Activation, steps: Steps) -> None:
        posted = await steps.post("post", activation, activation.channel_id, card=self.card(activation))
        await self.store.set_activation_post(
            activation.community_id, activation.id, message_id=posted.id, thread_id=posted.id
        )

    async def on_end(self, activation: Activation, steps: Steps) -> None:
        """The post says it ended (edited, still disclosed), and is unstickied and locked where the bot
        moderates. Each step is done once, whatever the retries."""
        message_id = activation.message_id
        if message_id is None:
            return  # it never went live on Reddit: nothing to close there
        lang = activation.locale
        if activation.state == State.CANCELLED:
            closing = i18n.t(lang, "reddit_announcement.withdrawn", when=format_time(self.owner.clock()))
        else:
            closing = i18n.t(lang, "reddit_announcement.ended", when=format_time(activation.ends_at))
        card = self.card(activation, closing)

        async def edit() -> None:
            await self.publisher.edit(activation, activation.channel_id, message_id, card=card)

        async def unfeature() -> bool:
            return await self.owner.discussions.close_post(activation.community_id, message_id)

        await steps.do("edit", edit)
        await steps.do("unfeature", unfeature)

    def describe(self, activation: Activation, lang: str) -> list[str]:
        if activation.message_id is None:
            return []
        link = self.engine.platform.channel_link(activation.message_id)
        return [i18n.t(lang, "reddit_announcement.describe_post", link=link)]
