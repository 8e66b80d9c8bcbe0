"""The Reddit adapter: praw in a thread of its own, streaming every bound subreddit into the ledger.

praw is synchronous, so it never runs on the event loop. One thread (`microvoice-reddit`) serves
every bound subreddit: each round it reads, for each subreddit, what is new in its comment and post
listings, looks up the parents' authors and the posts' link flair it has not seen, or not for
`FLAIR_SECONDS` (`/api/info`, one request per hundred), hands the batch to the event loop with
`run_coroutine_threadsafe`, and waits the poll interval. It also reads the bot's unread private
messages for account-link codes (and marks every unread item read, comment replies too).

Each stream keeps a cursor, the newest fullname written to the ledger, stored in `reddit_cursors`. A
round reads the listing newest first and pages back (`after=`) until a page reaches the cursor, so no
item is lost while Reddit's listing still holds it (about the newest 1000), however many arrived since
the last round, even when the cursor itself was deleted or removed. A listing is not strictly in id
order: a post a moderator approves out of the spam filter moves to the front of `/new` with its old
id, and comments can appear amid older ones. So a page is read to its end, and the stream also
remembers the fullnames it has read (`SEEN_PER_STREAM`): an item at or before the cursor that it has
not read before is new to the listing and recorded too. praw's own streams are not used: they
page forward from a `before` anchor that they drop after every response with nothing new (and have
none on an empty subreddit), and then see only the newest page. A subreddit seen for the first time
starts from its newest item (new ones only; from the listing's origin when it has none yet).

prawcore retries 5xx and timeouts twice itself and paces requests by Reddit's rate-limit headers;
beyond that, transient errors (5xx, 429, timeouts) back off and retry without ending the thread, a
subreddit that cannot be read is skipped for a while (and `unreadable` says why, for moderators'
status), a suspension of the bot's account is waited out, refused credentials stop the Reddit side
with one log line while Discord keeps working, and any other error (an answer this code did not
expect) is logged with its traceback and retried like a transient one.

Requests the commands make (moderator checks, subreddit lookups) use a second praw client, one call
at a time, in worker threads (`asyncio.to_thread`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, TypeVar

import praw
import praw.models
import prawcore

from bot.config import Settings
from bot.errors import MicrovoiceError
from bot.links import Confirmation, InboxMessage, LinkService
from bot.subreddits import RecordingDeferred, RedditItem, Stream, SubredditInfo, SubredditService
from bot.subreddits.ids import ACCOUNT, SUBREDDIT, BadFullname, id_value, ledger_id, newer, split
from reddit.client import build_reddit
from reddit.errors import SUBREDDIT_WIDE, api_errors, classify, describe, unreadable_reason

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Waits after consecutive transient errors, in seconds (the last one repeats).
BACKOFF_SECONDS: tuple[float, ...] = (2, 5, 15, 30, 60, 120)
#: How long a subreddit that could not be read is left alone.
SUBREDDIT_RETRY_SECONDS = 300.0
#: How often a suspended bot account is checked again.
SUSPENDED_RETRY_SECONDS = 600.0
#: Failed rounds in a row after which moderators' status says Reddit is failing.
FAILING_AFTER = 3
#: How long a round's items may take to be recorded before the round is deferred (read again later).
ACCEPT_SECONDS = 60.0
AUTHOR_CACHE = 20_000
#: Accounts whose creation time is read from their profiles a round, where the bulk look-up is not
#: served (`_learn_created`): one request each.
PROFILE_AGES_PER_ROUND = 20
#: How long a post's link flair, as read, is used for the comments on it: a flair is often set after
#: posting (by a moderator, AutoModerator or the author), so a post still commented on is read again.
FLAIR_SECONDS = 600.0
INFO_CHUNK = 100
#: Requests a round may add to look up parents whose look-up Reddit refused (a 4xx answer, not a
#: throttle or a failure it recovers from): the refused ids are asked again in halves, so an API that
#: takes fewer ids a request, or refuses one of them, still answers for the rest (`_look_up`).
INFO_SPLITS_PER_ROUND = 8
#: Items per listing request (Reddit's maximum).
PAGE = 100
#: How far back Reddit's listings reach: about their newest thousand items.
LISTING_DEPTH = 1000
#: The most pages one read takes, a bound whatever a listing answers (Reddit's end at the tenth).
MAX_PAGES = 50
#: Posts whose comment trees a round reads while a subreddit is read back beyond its comments
#: listing (one request each).
DEEPEN_PER_ROUND = 10
#: Older posts in a row whose comments Reddit refused to show (not a failure it recovers from: a
#: 5xx, a 429, a timeout) before the rest are given up.
DEEPEN_ATTEMPTS = 5
#: How many earlier items a read tries as its anchor when the one it paged after left the listing.
ANCHOR_RETRIES = 3
#: Fullnames each stream remembers having read (several rounds of full pages).
SEEN_PER_STREAM = 2_000
#: How often a stream reads on past its cursor (`SWEEP_PAGES` pages at most, no further back than
#: what it remembers having read) for items a moderator approved out of the spam filter since: a
#: listing may put them back where their age places them, behind the cursor, not at its front.
SWEEP_SECONDS = 600.0
SWEEP_PAGES = 5

State = Literal["idle", "running", "stopped", "refused"]
#: What waiting on the event loop raises: the core did not answer in time, or the loop is going away.
_LOOP_ERRORS = (concurrent.futures.TimeoutError, concurrent.futures.CancelledError, RuntimeError)


class Seen(NamedTuple):
    """What an item streamed or looked up tells the items that answer it."""

    author_fullname: str | None
    flair: str | None  # a submission's link flair
    author_name: str | None
    distinguished: bool  # by a moderator or an admin
    removed: bool  # removed (by a moderator, Reddit or the spam filter) or deleted
    at: float = 0.0  # when it was read (time.monotonic())


UNSEEN = Seen(None, None, None, False, False)


def round_delay(poll_seconds: float, streams: int, per_minute: float, *, pages: int | None = None) -> float:
    """The wait after a round: the poll interval, or longer where the round's requests (one per
    stream, about two more for the inbox and the look-ups) would spend more than `per_minute`
    (`MICROVOICE_REDDIT_REQUESTS_PER_MINUTE`) at that pace. prawcore also paces by Reddit's headers,
    but only once the budget runs low, and then it sleeps in this thread for up to ten minutes.

    `pages`: the listing pages the round read, when some stream needed more than one (items come
    faster than a page a poll): then the next round comes as soon as those requests allow, not after
    the poll interval, so a burst is read before Reddit's listing lets its oldest items go."""
    if pages is not None:
        return (pages + 2) * 60.0 / per_minute
    return max(poll_seconds, (streams + 2) * 60.0 / per_minute)


def backoff(failures: int) -> float:
    """Seconds to wait after `failures` failures in a row (`BACKOFF_SECONDS`, its last from then on)."""
    return BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS) - 1)]


def field_of(thing: Any, name: str) -> Any:
    """A field of an item as Reddit sent it, None when absent. (`getattr` on a praw submission
    missing a field fetches the submission again, one request per item.)"""
    return vars(thing).get(name)


def removed(thing: Any) -> bool:
    """Whether the item was removed or deleted. A moderator of the subreddit (as the bot usually is)
    sees who removed it; anyone else sees its author as "[deleted]" (praw: no author), and for a
    comment nothing more: an item read so may be approved later, and is then new to its stream."""
    if any(field_of(thing, name) for name in ("removed", "spam", "banned_by", "removed_by_category")):
        return True
    return field_of(thing, "author") is None or not field_of(thing, "author_fullname")


def profile(reddit: praw.Reddit, name: str) -> Any | None:
    """The account's profile as `/user/{name}/about` shows it (which every Reddit API serves): None
    for an account deleted, banned (404, 403) or suspended (`is_suspended`, or no creation time).
    Any other failure is raised."""
    redditor = reddit.redditor(name)
    try:
        redditor._fetch()
    except (prawcore.NotFound, prawcore.Forbidden):
        return None
    if getattr(redditor, "is_suspended", False) or getattr(redditor, "created_utc", None) is None:
        return None
    return redditor


class AccountSuspended(Exception):
    """Reddit suspended the bot's own account: every request but its own profile is refused."""


class RedditUnavailable(MicrovoiceError):
    """Reddit cannot answer now: the credentials were refused, or it keeps failing."""

    def __init__(self) -> None:
        super().__init__("reddit.unavailable")


@dataclass
class _Follow:
    """One stream of one subreddit, as the thread follows it."""

    name: str
    stream: Stream
    cursor: str | None
    resting_until: float = 0.0
    failures: int = 0  # transient failures of this stream's reads in a row
    #: The fullnames read in earlier rounds, oldest first, each with whether it was removed when last
    #: read; `warm` once a read was recorded since the thread started (before that, an old item not
    #: remembered may have been recorded before a restart).
    seen: OrderedDict[str, bool] = field(default_factory=OrderedDict)
    warm: bool = False
    #: Followed for the first time: its first read goes back as far as the listing goes.
    backfill: bool = False
    #: After a comment stream's first read stopped at the listing's depth: when its oldest comment
    #: read was posted. The subreddit's posts older than that are read back with their comment trees
    #: (`deepen`): from the comments listing alone they would stand with none of their comments.
    horizon: float | None = None
    #: A post stream's read-back: the posts older than its comments' horizon, newest first, whose
    #: comment trees are still to read (`DEEPEN_PER_ROUND` a round).
    deepen: list[Any] = field(default_factory=list)
    deepened: int = 0  # ... and how many were read
    deepen_failures: int = 0  # ... and the posts in a row Reddit refused to show
    deepen_saved: bool = True  # ... and whether the queue as it stands is kept in the store
    swept_at: float = 0.0  # when a read last went on past the cursor (`SWEEP_SECONDS`)

    def read(self, names: list[tuple[str, bool]]) -> None:
        """Remember the fullnames of a recorded read, and whether each was removed."""
        for name, gone in names:
            self.seen[name] = gone
            self.seen.move_to_end(name)
        while len(self.seen) > SEEN_PER_STREAM:
            self.seen.popitem(last=False)
        self.warm = True


@dataclass
class _Plan:
    """What the thread should follow, read on the loop from the store."""

    names: list[str]
    cursors: dict[tuple[str, Stream], str] = field(default_factory=dict)


class RedditAdapter:
    """Streams bound subreddits into `SubredditService`, inbox messages into `LinkService`, and answers
    the `RedditDirectory` questions binding asks."""

    def __init__(
        self,
        settings: Settings,
        *,
        make_client: Callable[[Settings], praw.Reddit] = build_reddit,
        owns: Callable[[int], bool] = lambda _community_id: True,
        reads_inbox: bool = True,
    ) -> None:
        self.settings = settings
        self.make_client = make_client
        # Sharded processes (docs/scaling.md): each follows the subreddits bound to the communities on
        # its own shards, and one of them (the one serving shard 0) reads the bot's inbox.
        self.owns = owns
        self.reads_inbox = reads_inbox
        self.state: State = "idle"
        self.refusal: str | None = None
        self.subreddits: SubredditService | None = None
        self.links: LinkService | None = None
        #: Told each streamed author's account id and name (the Reddit platform names members with it).
        self.on_author: Callable[[int, str], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._replan = threading.Event()
        self._api: praw.Reddit | None = None
        self._api_lock = threading.Lock()
        #: The commands' calls run here, one at a time: waiting for the client (a rate limit's pause,
        #: a long thread's "more comments") they queue on the event loop, and hold none of the
        #: default executor's threads, which the ranking and the reports use.
        self._api_executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._authors: OrderedDict[str, Seen] = OrderedDict()
        # Account fullname -> its creation time (None: Reddit did not say), for the authors streamed.
        self._created: OrderedDict[str, float | None] = OrderedDict()
        self._ages_failing = False  # the last look-up of accounts' creation times failed
        self._ages_by_profile = False  # the bulk look-up is not served: profiles are asked instead
        self._pages = 0  # listing pages the last round read
        self._busy = False  # ... and whether a stream needed more than one
        #: Listed items skipped as malformed (`_well_formed`), so each is told once.
        self._malformed: OrderedDict[str, None] = OrderedDict()
        self.rounds = 0  # completed polling rounds (for diagnostics and tests)
        self.errors = 0  # transient errors survived
        #: Streams of bound subreddits Reddit will not show the bot now ((lower-case name, stream) ->
        #: why, as `unreadable_reason` names it); a stream leaves once read again (`unreadable`).
        self._refused: dict[tuple[str, Stream], str] = {}
        #: Reddit suspended the bot's account: nothing is read until the suspension ends.
        self.suspended = False
        #: What keeps failing, once `FAILING_AFTER` rounds in a row failed (None while rounds succeed).
        self.failing: str | None = None
        #: The inbox backs off on its own (`_inbox`): failures in a row, and when it is read next.
        self._inbox_failures = 0
        self._inbox_resting_until = 0.0
        self._info_failures = 0  # rounds in a row whose parent look-ups Reddit refused entirely
        self._info_resting_until = 0.0

    @property
    def unreadable(self) -> dict[str, str]:
        """Bound subreddits Reddit will not show the bot now, for moderators' status: lower-case name
        -> why (`unreadable_reason`), its comments' reason where both streams are refused."""
        out: dict[str, str] = {}
        for (name, _), why in sorted(self._refused.items()):
            out.setdefault(name, why)
        return out

    @property
    def username(self) -> str:
        return self.settings.reddit_username

    # -- lifecycle (event loop side) --------------------------------------------------------------

    def attach(self, subreddits: SubredditService, links: LinkService) -> None:
        self.subreddits, self.links = subreddits, links
        subreddits.on_change = self.follow_bindings

    def start(self) -> None:
        """Start the thread; it signs in first. Returns at once (Discord never waits on Reddit)."""
        if self._thread is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._stop.clear()
        self._replan.set()
        self.state = "running"
        self._thread = threading.Thread(target=self._run, name="microvoice-reddit", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            await asyncio.to_thread(thread.join, 30)
        if self.state == "running":
            self.state = "stopped"
        executor, self._api_executor = self._api_executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def follow_bindings(self) -> None:
        """The bound subreddits changed: the thread reads them again before its next round."""
        self._replan.set()
        self._wake.set()

    def poll_now(self) -> None:
        """Start the next round without waiting out the poll interval."""
        self._wake.set()

    # -- the RedditDirectory protocol (commands) --------------------------------------------------

    async def call(self, fn: Callable[[praw.Reddit], T]) -> T:
        """Run `fn` with the commands' praw client in a worker thread (one call at a time)."""
        if self.state == "refused":
            raise RedditUnavailable()

        def run() -> T:
            with self._api_lock:
                if self._api is None:
                    self._api = self.make_client(self.settings)
                return fn(self._api)

        if self._api_executor is None:
            self._api_executor = concurrent.futures.ThreadPoolExecutor(1, "reddit-commands")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._api_executor, run)
        except Exception as error:
            if classify(error) in ("transient", "credentials"):
                log.warning("Reddit request for a command failed: %s", describe(error))
                raise RedditUnavailable() from error
            raise

    async def subreddit(self, name: str) -> SubredditInfo | None:
        def read(reddit: praw.Reddit) -> SubredditInfo | None:
            try:
                sub = reddit.subreddit(name)
                sub._fetch()
                return SubredditInfo(sub.name, sub.display_name, getattr(sub, "lang", "en") or "en")
            except Exception as error:  # praw raises several types for a missing subreddit
                if classify(error) == "subreddit":
                    return None
                raise

        return await self.call(read)

    async def moderates(self, subreddit: str, username: str) -> bool:
        def read(reddit: praw.Reddit) -> bool:
            try:
                mods = list(reddit.subreddit(subreddit).moderator(redditor=username))
            except Exception as error:
                if classify(error) == "subreddit":
                    return False
                raise
            return any(str(m).lower() == username.lower() for m in mods)

        return await self.call(read)

    async def link_flairs(self, subreddit: str) -> list[tuple[str, str]]:
        """The subreddit's link flairs, (template id, text): as its moderators manage them where the
        bot moderates it with the flair permission, else those a member may choose for a new post
        (Reddit's flair selector; a subreddit where members choose none has none to offer)."""

        def read(reddit: praw.Reddit) -> list[tuple[str, str]]:
            templates = reddit.subreddit(subreddit).flair.link_templates
            try:
                managed = [(str(t["id"]), str(t.get("text") or "")) for t in templates]
            except Exception as error:
                if classify(error) != "subreddit":
                    raise
                managed = []
            if managed:
                return managed
            try:
                chosen = list(templates.user_selectable())
            except Exception as error:
                if classify(error) == "subreddit":
                    return []
                raise
            return [(str(t["flair_template_id"]), str(t.get("flair_text") or "")) for t in chosen]

        return await self.call(read)

    # -- the thread -------------------------------------------------------------------------------

    def _on_loop(self, coro: Any, timeout: float = 60) -> Any:
        """Run a coroutine on the event loop and wait for it (the thread's one way into the core)."""
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        deadline = time.monotonic() + timeout
        while True:
            try:
                return future.result(timeout=0.5)
            except concurrent.futures.TimeoutError:
                if self._stop.is_set() or time.monotonic() > deadline or self._loop.is_closed():
                    future.cancel()
                    raise
            except concurrent.futures.CancelledError:
                raise

    def _refuse(self, error: BaseException) -> None:
        self.refusal = describe(error)
        log.error(
            "Reddit refused the bot's credentials (%s): check MICROVOICE_REDDIT_CLIENT_ID, _CLIENT_SECRET,"
            " _USERNAME and _PASSWORD; Reddit is off until restart, Discord keeps running",
            self.refusal,
        )
        self.state = "refused"  # after the line: whoever sees the state finds it logged
        self._stop.set()

    def _run(self) -> None:
        try:
            self._serve()
        except Exception:
            log.exception("the Reddit thread stopped unexpectedly; Discord keeps running")
            self.state = "stopped"

    def _sign_in(self, reddit: praw.Reddit) -> bool:
        """Sign in, and wait out a suspension of the bot's account (Reddit then refuses every request
        but the account's own profile, which says so). Refused credentials end here, once. False when
        the Reddit side stops."""
        failures = 0
        while not self._stop.is_set():
            try:
                me = reddit.user.me(use_cache=False)
            except Exception as error:
                if not self._survive(error, failures):
                    return False
                failures += 1
                continue
            if not field_of(me, "is_suspended"):
                if self.suspended:
                    log.warning("the bot's Reddit account u/%s is no longer suspended; reading again", me)
                else:
                    log.info("signed in to Reddit as u/%s", me)
                self.suspended = False
                return True
            if not self.suspended:  # one line, not one per check
                log.error(
                    "Reddit has suspended the bot's account u/%s: nothing is read or posted on Reddit until"
                    " the suspension ends (checked every %.0f s); Discord keeps running",
                    me,
                    SUSPENDED_RETRY_SECONDS,
                )
            self.suspended = True
            self._stop.wait(SUSPENDED_RETRY_SECONDS)
        return False

    def _suspended_now(self, reddit: praw.Reddit) -> bool:
        """Whether the bot's account is suspended, asked of Reddit (False when it does not say)."""
        try:
            return bool(field_of(reddit.user.me(use_cache=False), "is_suspended"))
        except Exception as error:
            log.debug("the bot's Reddit profile not read: %s", describe(error))
            return False

    def _serve(self) -> None:
        reddit = self.make_client(self.settings)
        if not self._sign_in(reddit):
            return
        follows: dict[tuple[str, Stream], _Follow] = {}
        failures = 0
        while not self._stop.is_set():
            try:
                if self._replan.is_set():
                    self._replan.clear()
                    try:
                        follows = self._replanned(reddit, follows)
                    except Exception:
                        self._replan.set()  # planned again next round
                        raise
                answered = self._round(reddit, follows)
                self._inbox(reddit)
                failures = 0
                if answered or not follows:  # not a round whose every stream was resting after failures
                    self.failing = None
                self.rounds += 1
                delay = round_delay(
                    float(self.settings.reddit_poll_seconds),
                    len(follows),
                    float(self.settings.reddit_requests_per_minute),
                    pages=self._pages if self._busy else None,
                )
            except _LOOP_ERRORS as error:
                if self._stop.is_set():
                    return
                if not isinstance(error, concurrent.futures.TimeoutError) or self._going_away():
                    raise
                # The core did not answer within its time (a stalled database): like any
                # transient failure, back off and try again.
                if not self._survive(error, failures):
                    return
                failures += 1
                continue
            except AccountSuspended:
                if not self._sign_in(reddit):  # back once the suspension ends
                    return
                for follow in follows.values():
                    follow.resting_until = 0.0
                continue
            except Exception as error:
                if not self._survive(error, failures):
                    return
                failures += 1
                continue
            self._wake.wait(delay)
            self._wake.clear()

    def _survive(self, error: BaseException, failures: int) -> bool:
        """Log the error and wait before the next try; False when the Reddit side must stop."""
        verdict = classify(error)
        if verdict == "credentials":
            self._refuse(error)
            return False
        self.errors += 1
        if failures + 1 >= FAILING_AFTER:
            self.failing = describe(error)
        delay = backoff(failures)
        if verdict == "bug":
            # Nothing Reddit or the database said: an item or an answer this code did not expect.
            # The round's streams are where they were; Reddit is not switched off for it.
            log.error("unexpected error on the Reddit side; retrying in %.0fs", delay, exc_info=error)
        else:
            log.warning("Reddit request failed: %s; retrying in %.0fs", describe(error), delay)
        self._stop.wait(delay)
        return not self._stop.is_set()

    def _replanned(
        self, reddit: praw.Reddit, follows: dict[tuple[str, Stream], _Follow]
    ) -> dict[tuple[str, Stream], _Follow]:
        assert self.subreddits is not None
        plan = _Plan([b.name for b in self._on_loop(self.subreddits.load()) if self.owns(b.community_id)])
        plan.cursors = self._on_loop(self.subreddits.resume_points())
        pending = self._on_loop(self.subreddits.read_back_pending())
        kept: dict[tuple[str, Stream], _Follow] = {}
        for name in plan.names:
            for stream in ("comments", "submissions"):
                key = (name, stream)
                known = follows.get(key)  # type: ignore[arg-type]
                kept[key] = known or _Follow(name, stream, plan.cursors.get(key))  # type: ignore[index]
                if known is None and stream == "submissions" and pending.get(name):
                    # Older posts a restart interrupted the reading of: read on (fetched with their trees).
                    kept[key].deepen = [reddit.submission(id=split(f)[1]) for f in pending[name]]
        log.info("following %d subreddit(s) on Reddit", len(plan.names))
        followed = {name.lower() for name in plan.names}
        self._refused = {key: why for key, why in self._refused.items() if key[0] in followed}
        return kept

    def _listing(self, reddit: praw.Reddit, follow: _Follow) -> Callable[..., Iterator[Any]]:
        sub = reddit.subreddit(follow.name)
        return sub.comments if follow.stream == "comments" else sub.new

    def _start(self, follow: _Follow) -> None:
        """A stream followed for the first time (nothing of it in the ledger) is read back from the
        beginning, as far as Reddit's listing goes (its newest thousand items): a subreddit bound
        today is ranked from its recent past at once, not from nothing for weeks."""
        follow.cursor = "t1_0" if follow.stream == "comments" else "t3_0"
        follow.backfill = True

    def _fresh(
        self, reddit: praw.Reddit, follow: _Follow, *, sweep: bool = False
    ) -> tuple[list[Any], list[tuple[str, bool]]]:
        """The items new since the stream's last read, oldest first, and every fullname read.

        The listing is read newest first, a page at a time, each page after the oldest item of the
        one before, to the first page whose last item is at or before the cursor (ids grow with
        time, so a deleted cursor is passed too), the end of the listing or the listing's depth. New
        are the items newer than the cursor and, once the stream has been read since the thread
        started, the older ones it has not read before (approved out of the spam filter, or late in
        the listing) or read only while they were removed. With `sweep`, the read goes on past the
        cursor, `SWEEP_PAGES` pages at most and no further back than the oldest item the stream
        remembers having read (of an older one, nothing tells whether it is new)."""
        assert follow.cursor is not None
        # Only a sweep reads behind the cursor, where the oldest item remembered bounds it.
        floor = min(follow.seen, key=lambda n: id_value(split(n)[1])) if sweep and follow.seen else None
        swept = 0
        listing = self._listing(reddit, follow)
        fresh: list[Any] = []
        names: list[tuple[str, bool]] = []  # each fullname read, and whether it was removed
        read: set[str] = set()
        after: str | None = None
        last: list[Any] = []  # the page before, for another anchor when this one left the listing
        retries = 0
        reached = False  # the read came to the cursor
        for pages in range(1, 2 * MAX_PAGES + 1):  # a bound whatever a listing answers
            page = list(listing(limit=PAGE, params={"after": after} if after else {}))
            self._pages += 1
            # praw reads on until it has the page it asked for, or Reddit says there is no more: a
            # page short of it is the listing's end, and asking past it would only be answered with
            # nothing (taken for an anchor that left the listing, and asked again from older ones).
            short = len(page) < PAGE
            self._busy = self._busy or pages > 1
            if not page and after is not None and retries < min(ANCHOR_RETRIES, len(last) - 1):
                # The anchor left the listing between two requests (removed, deleted): Reddit then
                # answers with nothing. Page on from an item before it.
                retries += 1
                after = last[-1 - retries].fullname
                continue
            page = [item for item in page if self._well_formed(item, follow)]
            for item in page:
                name = item.fullname
                if name in read:
                    continue  # read already, before an anchor had to be replaced
                read.add(name)
                gone = removed(item)
                names.append((name, gone))
                old = not newer(name, follow.cursor)
                # An old item is new to this stream when it was not read before, or was read while
                # removed (held by the spam filter, removed by a moderator) and has been approved.
                # Behind the cursor (a sweep), one older than anything the stream remembers may have
                # been read long ago: it is left alone.
                remembered = not reached or (floor is not None and newer(name, floor))
                unread = name not in follow.seen and remembered
                approved = bool(follow.seen.get(name)) and not gone
                if not old or (follow.warm and (unread or approved)):
                    fresh.append(item)
            # The page reached the cursor where its last item, the oldest in the listing's order, is
            # at or before it: an old item at the front (approved out of the spam filter) is no end.
            if page and not newer(page[-1].fullname, follow.cursor):
                reached = True
            if reached:
                # A sweep reads on behind the cursor, as far as the stream remembers.
                swept += 1
                if not sweep or swept > SWEEP_PAGES or floor is None or not newer(page[-1].fullname, floor):
                    break
            if not page or short or len(read) >= PAGE * MAX_PAGES:
                break
            last, retries = page, 0
            after = page[-1].fullname
        # Read as deep as Reddit lists (or as this read goes) without coming to the cursor: there
        # are older items this read could not reach.
        deep = not reached and len(read) >= min(LISTING_DEPTH, PAGE * MAX_PAGES)
        if deep and follow.backfill:
            log.info(
                "r/%s: read back its newest %d %s, as far as Reddit's listing goes",
                follow.name,
                len(read),
                follow.stream,
            )
        elif deep:
            log.warning(
                "r/%s: more than %d new %s since the last read; older ones are beyond Reddit's listing",
                follow.name,
                len(read),
                follow.stream,
            )
        fresh.sort(key=lambda t: (float(t.created_utc), id_value(split(t.fullname)[1])))
        if follow.backfill and follow.stream == "comments":
            # How far back the comments listing reached: older posts are read with their comment
            # trees (`_deepen`). Whatever made the read stop short of the cursor (a first read's
            # cursor is the oldest possible): Reddit's listing goes "about" 1000 deep, fewer where
            # items were removed since, so its length says nothing about whether it was complete.
            follow.horizon = float(fresh[0].created_utc) if not reached and fresh else None
        return fresh, names

    def _well_formed(self, thing: Any, follow: _Follow, kind: str | None = None) -> bool:
        """Whether a listed item carries what recording it needs: a fullname of the stream's kind, a
        finite posting time and its subreddit's fullname. One that does not (a malformed answer) is
        skipped with a warning, once: read again, it would fail every round and hold the stream."""
        try:
            got, _ = split(thing.fullname)
            created = float(thing.created_utc)
            ledger_id(thing.subreddit_id, SUBREDDIT)
            wanted = kind or ("t1" if follow.stream == "comments" else "t3")
            ok = got == wanted and math.isfinite(created)
        except (AttributeError, TypeError, ValueError):  # BadFullname is a ValueError
            ok = False
        if not ok:
            key = repr(getattr(thing, "id", thing))[:80]
            if key not in self._malformed:
                self._malformed[key] = None
                if len(self._malformed) > SEEN_PER_STREAM:
                    self._malformed.popitem(last=False)
                what = {"t1": "comment", "t3": "post"}.get(kind or "", follow.stream)
                log.warning("r/%s: a %s Reddit gave lacks what recording needs; skipped", follow.name, what)
        return ok

    def _round(self, reddit: praw.Reddit, follows: dict[tuple[str, Stream], _Follow]) -> int:
        """Read every stream once and hand the items to the core in the order they were posted, per
        stream; returns how many streams Reddit answered. The streams move on only once the items
        are recorded: a round that fails anywhere (a listing, a look-up, the database) leaves them
        where they were, so the next one reads the same again."""
        items: list[Any] = []
        read_back: set[str] = set()  # fullnames of the items read back (`RedditItem.read_back`)
        now = time.monotonic()
        self._pages, self._busy = 0, False
        before = {key: follow.cursor for key, follow in follows.items()}
        read: dict[tuple[str, Stream], list[tuple[str, bool]]] = {}
        first_error: BaseException | None = None
        transient: list[BaseException] = []  # streams whose read failed transiently this round
        refusals: list[tuple[_Follow, str, str]] = []  # streams Reddit refused to show, why, its answer
        tried = 0
        # One stream a round reads on past its cursor (`SWEEP_SECONDS`), the one that waited longest:
        # with many subreddits followed, their sweeps are spread over rounds instead of spending one
        # round's requests together.
        due = [
            f
            for f in follows.values()
            if f.warm and not f.backfill and f.resting_until <= now and now - f.swept_at >= SWEEP_SECONDS
        ]
        sweeper = min(due, key=lambda f: f.swept_at) if due else None
        for key, follow in follows.items():
            if follow.resting_until > now:
                continue
            tried += 1
            try:
                if follow.cursor is None:
                    self._start(follow)
                # A post stream read back waits for its comments (they set how far), then reads
                # back the posts as far as those reach (older ones: with their trees, below).
                comments = follows.get((follow.name, "comments")) if follow.stream == "submissions" else None
                if follow.backfill and comments is not None and comments.backfill:
                    continue
                sweep = follow is sweeper
                if sweep:
                    follow.swept_at = now
                fresh, read[key] = self._fresh(reddit, follow, sweep=sweep)
                if follow.backfill and comments is not None:
                    horizon = comments.horizon
                    if horizon is not None:
                        # Older posts are read with their comment trees, a few a round (`_deepen`).
                        older = [t for t in fresh if float(t.created_utc) < horizon]
                        follow.deepen = sorted(older, key=lambda t: -float(t.created_utc))
                        follow.deepen_saved = False
                        fresh = [t for t in fresh if float(t.created_utc) >= horizon]
            except Exception as error:
                verdict = classify(error)
                if verdict == "subreddit":
                    refusals.append((follow, unreadable_reason(error), describe(error)))
                elif verdict == "transient" and isinstance(error, prawcore.PrawcoreException):
                    # One stream's listing failing (a 5xx past prawcore's retries, a 429): that stream
                    # backs off on its own; the others, and the inbox, go on. (The database failing
                    # holds back the whole round, as before.)
                    delay = backoff(follow.failures)
                    follow.failures += 1
                    follow.resting_until = now + delay
                    self.errors += 1
                    log.warning(
                        "r/%s %s not read: %s; trying again in %.0fs",
                        follow.name,
                        follow.stream,
                        describe(error),
                        delay,
                    )
                    transient.append(error)
                elif first_error is None:
                    first_error = error
                continue
            follow.failures = 0
            name = follow.name.lower()
            if self._refused.pop((name, follow.stream), None) is not None and name not in self.unreadable:
                log.warning("r/%s can be read again", follow.name)
            items.extend(fresh)
            if follow.backfill:
                read_back.update(t.fullname for t in fresh)
            # (A first read moves on past all it read, also what it left out: posts older than the
            # subreddit's comments reach.)
            passed = [name for name, _ in read[key]] if follow.backfill else [t.fullname for t in fresh]
            newest = max(
                (name for name in passed if newer(name, follow.cursor)),
                default=None,
                key=lambda name: id_value(split(name)[1]),
            )
            if newest is not None:
                follow.cursor = newest
        # Every read refused with no reason given: the bot's own account may be what is refused.
        unexplained = all(why == "forbidden" for _, why, _ in refusals)
        if refusals and len(refusals) == tried and unexplained and self._suspended_now(reddit):
            raise AccountSuspended()
        for follow, why, answer in refusals:
            self._unreadable(follow, why, now, answer)
        # (After the refusals: a subreddit Reddit will not show this round keeps its queue of older
        # posts for when it can be read again, instead of spending it on refusals.)
        refused = {follow.name.lower() for follow, _, _ in refusals}
        deepening = self._deepen(reddit, follows, now, refused)
        items.extend(thing for _, things, _ in deepening for thing in things)
        read_back.update(thing.fullname for _, things, _ in deepening for thing in things)
        try:
            converted = self._items(reddit, items, read_back) if items else []
        except Exception:
            self._rewind(follows, before)
            raise
        if converted:
            self._hand_over(converted, follows, before)
        for key, names in read.items():
            follows[key].read(names)
            follows[key].backfill = False
        for follow, things, skipped in deepening:  # recorded: those posts are done
            read_now = {t.fullname for t in things if isinstance(t, praw.models.Submission)}
            done = read_now | {t.fullname for t in skipped}
            follow.deepen = [t for t in follow.deepen if t.fullname not in done]
            follow.deepened += len(read_now)
            follow.deepen_saved = False
            if not follow.deepen:
                log.info("r/%s: read back %d older posts with their comments", follow.name, follow.deepened)
        self._keep_read_back(follows)
        if first_error is not None:
            raise first_error
        if transient and len(transient) == tried:
            raise transient[0]  # every stream failed: Reddit itself is failing, and the thread backs off
        return tried - len(transient)  # a refusal is an answer too

    def _deepen(
        self,
        reddit: praw.Reddit,
        follows: dict[tuple[str, Stream], _Follow],
        now: float,
        refused: Collection[str] = frozenset(),
    ) -> list[tuple[_Follow, list[Any], list[Any]]]:
        """A subreddit read back beyond what its comments listing reaches: the next posts of its
        queue (`_Follow.deepen`, newest first), each with its comment tree as Reddit shows it (one
        request; the "more comments" stubs of a very long thread are not followed), so its records
        reach as far back as its posts listing does. Per post stream: the items read, and the posts
        Reddit refused to show (deleted since, say: skipped); both are taken off the queue once the
        round's items are recorded. Reddit failing for a while (a 5xx, a 429, a timeout), or refusing
        to show the whole subreddit (a refusal that names it private, banned, quarantined or gated),
        ends this round's reading, tried again next round; `DEEPEN_ATTEMPTS` refusals of single posts
        in a row give up the rest. Subreddits whose listings Reddit refused this round (`refused`,
        lower-case names) are not read."""
        out: list[tuple[_Follow, list[Any], list[Any]]] = []
        for follow in follows.values():
            if not follow.deepen or follow.resting_until > now or follow.name.lower() in refused:
                continue
            things: list[Any] = []  # whole trees only
            skipped: list[Any] = []
            for post in follow.deepen[:DEEPEN_PER_ROUND]:
                try:
                    post.comments.replace_more(limit=0)
                    self._pages += 1
                    tree = [c for c in post.comments.list() if self._well_formed(c, follow, "t1")]
                except Exception as error:
                    verdict = classify(error)
                    whole = verdict == "subreddit" and unreadable_reason(error) in SUBREDDIT_WIDE
                    if verdict == "transient" or whole:
                        why = unreadable_reason(error) if whole else describe(error)
                        log.warning("r/%s: older posts' comments not read now: %s", follow.name, why)
                        break
                    follow.deepen_failures += 1
                    if follow.deepen_failures >= DEEPEN_ATTEMPTS:
                        before, done = len(skipped), {t.fullname for t in things}
                        skipped = [p for p in follow.deepen if p.fullname not in done]
                        log.warning(
                            "r/%s: %d older posts' comments not read back (%s); given up",
                            follow.name,
                            len(skipped) - before,
                            describe(error),
                        )
                        break
                    tell = log.warning if follow.deepen_failures == 1 else log.debug
                    why = describe(error)
                    tell("r/%s: an older post's comments not read back (%s); skipped", follow.name, why)
                    skipped.append(post)
                    continue
                follow.deepen_failures = 0
                things.extend([post, *tree])
            if things or skipped:
                self._busy = self._busy or bool(things)  # more to read: the next round at once
                out.append((follow, things, skipped))
        return out

    def _keep_read_back(self, follows: dict[tuple[str, Stream], _Follow]) -> None:
        """Store the queues of older posts that changed (`_Follow.deepen`), so a restart goes on
        reading them; a store that cannot take it now is asked again after the next round."""
        assert self.subreddits is not None
        for follow in follows.values():
            if follow.stream != "submissions" or follow.deepen_saved:
                continue
            try:
                left = [t.fullname for t in follow.deepen]
                self._on_loop(self.subreddits.keep_read_back(follow.name, left))
            except Exception as error:
                if self._going_away():
                    raise
                log.warning("r/%s: the older posts still to read back not stored: %s", follow.name, error)
                continue
            follow.deepen_saved = True

    def _unreadable(self, follow: _Follow, why: str, now: float, answer: str) -> None:
        """Reddit will not show the subreddit (private, banned, quarantined, gone, or refused the
        request: `answer`, as `describe` says it): it is left alone for `SUBREDDIT_RETRY_SECONDS`,
        then tried again, and moderators' status says why meanwhile."""
        follow.resting_until = now + SUBREDDIT_RETRY_SECONDS
        key = (follow.name.lower(), follow.stream)
        # One line when it starts (not at every retry, nor for each of the subreddit's streams).
        if self._refused.get(key) != why and self.unreadable.get(key[0]) != why:
            log.warning(
                "cannot read r/%s (%s: %s); tried again every %.0f s",
                follow.name,
                why,
                answer,
                SUBREDDIT_RETRY_SECONDS,
            )
        self._refused[key] = why

    def _hand_over(
        self,
        items: list[RedditItem],
        follows: dict[tuple[str, Stream], _Follow],
        before: dict[tuple[str, Stream], str | None],
    ) -> None:
        """Record the items. When the database cannot take them now (locked by a long write, the
        connection lost, or not within `ACCEPT_SECONDS`), the streams go back to where they were, so
        the next round reads the same items again (their fullnames make a second recording of any of
        them a no-op)."""
        try:
            self._on_loop(self._accept(items), timeout=ACCEPT_SECONDS)
        except RecordingDeferred:
            self._rewind(follows, before)
            raise
        except concurrent.futures.TimeoutError as error:
            if self._going_away():
                raise
            self._rewind(follows, before)
            raise RecordingDeferred(f"the items were not recorded within {ACCEPT_SECONDS:g} s") from error
        except BaseException:
            # Any other failure (a database error, the bot stopping): the items are read again.
            self._rewind(follows, before)
            raise

    @staticmethod
    def _rewind(
        follows: dict[tuple[str, Stream], _Follow], before: dict[tuple[str, Stream], str | None]
    ) -> None:
        """The streams back where they were before the round."""
        for key, follow in follows.items():
            follow.cursor = before.get(key, follow.cursor)

    def _going_away(self) -> bool:
        """The bot is stopping, or its event loop is gone."""
        return self._stop.is_set() or self._loop is None or self._loop.is_closed()

    def _items(
        self, reddit: praw.Reddit, things: list[Any], read_back: Collection[str] = ()
    ) -> list[RedditItem]:
        for thing in things:
            self._remember(thing)
        stale = time.monotonic() - FLAIR_SECONDS
        missing = {
            name
            for t in things
            if isinstance(t, praw.models.Comment)
            for name in (t.parent_id, t.link_id)
            if name not in self._authors or (name == t.link_id and self._authors[name].at < stale)
        }
        self._look_up(reddit, sorted(missing))
        names = {field_of(t, "author_fullname"): str(t.author) for t in things if t.author is not None}
        self._learn_created(reddit, {a: n for a, n in names.items() if a})
        out = []
        for t in things:
            author = t.author
            parent = link = None
            if isinstance(t, praw.models.Comment):
                parent, link = t.parent_id, t.link_id
            flair = self._authors.get(link, UNSEEN).flair if link else field_of(t, "link_flair_text")
            seen = self._authors.get(parent, UNSEEN) if parent else UNSEEN
            out.append(
                RedditItem(
                    fullname=t.fullname,
                    subreddit_fullname=t.subreddit_id,
                    subreddit_name=str(t.subreddit),
                    author_name=str(author) if author is not None else None,
                    author_fullname=field_of(t, "author_fullname"),
                    created_utc=float(t.created_utc),
                    parent_fullname=parent,
                    parent_author_fullname=seen.author_fullname,
                    link_flair=flair,
                    author_created_utc=self._created.get(field_of(t, "author_fullname") or ""),
                    distinguished=bool(field_of(t, "distinguished")),
                    parent_author_name=seen.author_name,
                    parent_distinguished=seen.distinguished,
                    removed=removed(t),
                    parent_removed=seen.removed,
                    read_back=t.fullname in read_back,
                )
            )
        return out

    def _look_up(self, reddit: praw.Reddit, wanted: list[str]) -> None:
        """Read the items `wanted` (fullnames) with `/api/info`, `INFO_CHUNK` a request, for the
        authors their replies engage. A failure Reddit recovers from (a 5xx, a 429, a timeout) ends
        the round, which reads its items again. A look-up Reddit refuses (any other 4xx) is asked
        again in halves, `INFO_SPLITS_PER_ROUND` requests more at most; whatever stays refused is
        recorded without the parent's author, as a reply to a deleted item is, rather than holding
        back every item of every subreddit. A round whose look-ups were all refused leaves them
        alone for a while (2 s, 5 s, 15 s … 2 min, as the inbox does)."""
        now = time.monotonic()
        if not wanted or self._info_resting_until > now:
            return
        chunks = [wanted[i : i + INFO_CHUNK] for i in range(0, len(wanted), INFO_CHUNK)]
        spare, answered, refused = INFO_SPLITS_PER_ROUND, False, 0
        last: BaseException | None = None
        while chunks:
            chunk = chunks.pop(0)
            try:
                for found in reddit.info(fullnames=chunk):
                    self._remember(found)
            except prawcore.ResponseException as error:
                if classify(error) != "subreddit":
                    raise  # transient: the round is read again; credentials: the side stops
                last = error
                if len(chunk) > 1 and spare >= 2:
                    spare -= 2
                    half = len(chunk) // 2
                    chunks[:0] = [chunk[:half], chunk[half:]]
                else:
                    refused += len(chunk)
                continue
            answered = True
        if not refused:
            self._info_failures = 0
            return
        self.errors += 1
        if not answered:
            self._info_resting_until = now + backoff(self._info_failures)
            self._info_failures += 1
        assert last is not None
        tell = log.warning if self._info_failures <= 1 else log.debug
        why = describe(last)
        tell("%d parent items not looked up (%s); their replies recorded without them", refused, why)

    def _learn_created(self, reddit: praw.Reddit, authors: dict[str, str]) -> None:
        """When the accounts among `authors` (fullname -> name) not seen before were created (a
        hundred a request): an account's age is what the ranking asks of a member before it vouches,
        and Reddit shows no join date. A failed look-up is retried with the account's next item.

        An API that answers the bulk look-up with none of several accounts may not serve it at all
        (praw reads its 404 as "none found"), and one that refuses it (another 4xx) does not take the
        request: their profiles (`/user/{name}/about`, which every Reddit API serves) are asked then,
        `PROFILE_AGES_PER_ROUND` a round, the rest with their next items; once a profile shows what
        the bulk look-up did not, profiles are asked from then on, said once in a warning."""
        unknown = sorted(a for a in authors if a not in self._created)
        if not unknown:
            return
        found: dict[str, Any] = {}
        refused: str | None = None  # the bulk look-up refused outright (a 4xx other than a throttle)
        try:
            if not self._ages_by_profile:
                try:
                    partial = reddit.redditors.partial_redditors(unknown)
                    found = {p.fullname: getattr(p, "created_utc", None) for p in partial}
                except prawcore.ResponseException as error:
                    if classify(error) != "subreddit":
                        raise
                    refused = describe(error)
            if self._ages_by_profile or (not found and (refused or len(unknown) > 1)):
                asked = unknown[:PROFILE_AGES_PER_ROUND]
                shown = {a: profile(reddit, authors[a]) for a in asked}
                by_profile = {a: None if p is None else float(p.created_utc) for a, p in shown.items()}
                if not self._ages_by_profile and any(c is not None for c in by_profile.values()):
                    self._ages_by_profile = True
                    why = f"was refused ({refused})" if refused else f"found none of {len(unknown)}"
                    log.warning("Reddit's bulk look-up of accounts %s; reading their profiles instead", why)
                if self._ages_by_profile:
                    found, unknown = by_profile, asked
                elif refused:  # neither the look-up nor a profile told: not known now, asked again
                    self._ages_not_read(len(unknown), refused)
                    return
        except Exception as error:  # the items are recorded all the same, without the accounts' age
            self._ages_not_read(len(unknown), describe(error))
            return
        self._ages_failing = False
        for fullname in unknown:
            created = found.get(fullname)
            self._created[fullname] = float(created) if created is not None else None
            self._created.move_to_end(fullname)
        while len(self._created) > AUTHOR_CACHE:
            self._created.popitem(last=False)

    def _ages_not_read(self, count: int, why: str) -> None:
        """Say that `count` accounts' creation times were not read (`why`), once until a look-up
        works again: a Reddit without the endpoint fails every round."""
        tell = log.debug if self._ages_failing else log.warning
        tell("creation times of %d Reddit accounts not read: %s", count, why)
        self._ages_failing = True

    def forget_account(self, fullname: str) -> None:
        """Drop what is kept in memory of an erased account: its creation time, and its name on the
        items it wrote (the parents later comments are looked up against)."""
        self._created.pop(fullname, None)
        for name, seen in list(self._authors.items()):
            if seen.author_fullname == fullname:
                self._authors[name] = seen._replace(author_fullname=None, author_name=None)

    def _remember(self, thing: Any) -> None:
        name = thing.fullname
        author = field_of(thing, "author")
        self._authors[name] = Seen(
            field_of(thing, "author_fullname"),
            field_of(thing, "link_flair_text"),
            str(author) if author is not None else None,
            bool(field_of(thing, "distinguished")),
            removed(thing),
            time.monotonic(),
        )
        self._authors.move_to_end(name)
        if len(self._authors) > AUTHOR_CACHE:
            self._authors.popitem(last=False)

    async def _accept(self, items: list[RedditItem]) -> int:
        assert self.subreddits is not None
        if self.on_author is not None:
            for item in items:
                if not item.deleted and item.author_name:
                    try:
                        self.on_author(ledger_id(item.author_fullname or "", ACCOUNT), item.author_name)
                    except BadFullname:
                        continue
        return await self.subreddits.accept(items)

    def _inbox(self, reddit: praw.Reddit) -> None:
        """Read the inbox (`_check_inbox`), backing off on its own when it fails (2 s, 5 s, 15 s …
        2 min): a failing inbox holds back neither the streams nor their poll interval. The bot's
        credentials refused, or a defect, still end the round as anywhere else."""
        now = time.monotonic()
        if self._inbox_resting_until > now:
            return
        try:
            self._check_inbox(reddit)
        except Exception as error:
            if self._going_away() or classify(error) in ("credentials", "bug"):
                raise
            delay = backoff(self._inbox_failures)
            self._inbox_failures += 1
            self._inbox_resting_until = now + delay
            self.errors += 1
            log.warning("the inbox not read: %s; trying again in %.0fs", describe(error), delay)
            return
        self._inbox_failures = 0

    def _check_inbox(self, reddit: praw.Reddit) -> None:
        if self.links is None or not self.reads_inbox:
            return
        # Every unread item, comment replies too (to the bot's comments, or to a post made before
        # posts stopped asking for replies): left unread they would pile up, and link codes behind a
        # hundred of them would never be read.
        unread = list(reddit.inbox.unread(limit=None))
        messages = [m for m in unread if isinstance(m, praw.models.Message)]
        if messages:
            self._read_codes(messages)
        if unread:
            reddit.inbox.mark_read(unread)
        # Links made this round, or before a restart that came before their confirmations.
        for reply in self._on_loop(self.links.confirmations_due()):
            if self._confirm(reddit, reply):
                self._on_loop(self.links.confirmed(reply))

    def _read_codes(self, unread: list[Any]) -> None:
        assert self.links is not None
        messages = [
            InboxMessage(
                fullname=m.fullname,
                author_name=str(m.author) if m.author is not None else None,
                author_fullname=getattr(m, "author_fullname", None),
                subject=m.subject or "",
                body=m.body or "",
            )
            for m in unread
        ]
        self._on_loop(self.links.check_inbox(messages))

    def _confirm(self, reddit: praw.Reddit, reply: Confirmation) -> bool:
        """Tell a just-linked account so by private message (the link is made whatever happens here).
        False when it is worth trying again later (Reddit's rate limit, a transient failure): the
        next round sends it; True once sent or refused for good (an account that takes no messages)."""
        try:
            reddit.redditor(reply.to).message(subject=reply.subject, message=reply.body)
        except Exception as error:
            if classify(error) in ("credentials", "bug"):
                raise
            later = classify(error) == "transient" or "RATELIMIT" in api_errors(error)
            note = "; tried again next round" if later else ""
            log.warning("could not confirm a link to u/%s: %s%s", reply.to, describe(error), note)
            return not later
        return True
