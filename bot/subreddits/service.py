"""Subreddits bound to Microvoice communities, and their engagement into the ledger.

`SubredditService` is what the Reddit adapter and the moderators' commands call. Binding is checked
against Reddit itself (the `RedditDirectory` a platform adapter implements): only a subreddit that the
bot's Reddit account moderates, or that the linked Reddit account of the moderator running the command
moderates, can be bound, and a subreddit belongs to one community at a time.

Streamed items arrive in batches from the adapter's thread (handed to the event loop thread-safely by
the adapter). Each batch goes into the same batched writer as Discord's events; once it is written,
the newest fullname of each stream is stored, so a restart resumes right after what is in the ledger:
nothing is counted twice (the natural key is the fullname) and nothing is skipped while Reddit's listing
still holds it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from bot.errors import Forbidden, InvalidInput
from bot.ingest import Ingest
from bot.ledger import iso
from bot.store import BoundSubreddit, Store, store_unavailable
from bot.subreddits.ids import SUBREDDIT, BadFullname, ledger_id, newer
from bot.subreddits.items import MACHINERY, RedditItem, Stream, to_ledger
from bot.text import clean

log = logging.getLogger(__name__)

SUBREDDIT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")


@dataclass(frozen=True)
class SubredditInfo:
    fullname: str
    name: str
    lang: str = "en"


class RedditDirectory(Protocol):
    """What binding needs to ask Reddit (the Reddit adapter implements it)."""

    @property
    def username(self) -> str:
        """The bot's own Reddit account."""

    async def subreddit(self, name: str) -> SubredditInfo | None:
        """The subreddit, or None if it does not exist or cannot be seen."""

    async def moderates(self, subreddit: str, username: str) -> bool:
        """Whether `username` is a moderator of `subreddit`."""

    async def link_flairs(self, subreddit: str) -> list[tuple[str, str]]:
        """The subreddit's link flair templates (id, text); empty if they cannot be read."""


def subreddit_name(text: str) -> str:
    """'VeganCooking' from 'r/VeganCooking', '/r/VeganCooking/' or 'VeganCooking'."""
    name = clean(text).strip("/")
    if name.lower().startswith("r/"):
        name = name[2:]
    if not SUBREDDIT_NAME.fullmatch(name):
        raise InvalidInput("reddit.bad_subreddit", name=clean(text)[:40])
    return name


class RecordingDeferred(Exception):
    """A batch of streamed items could not be recorded now (the database is locked or unreachable);
    reading the same items again later records them once."""


#: How much of a subreddit's flair list an error reply repeats (a message holds 2000 characters).
CHOICES_SHOWN = 1000


def flair_choices(names: list[str]) -> list[str]:
    """The flair names a reply lists, as a list the message writes in its reader's language: as many
    as fit in `CHOICES_SHOWN` characters, then how many more there are ("… (+12)")."""
    shown: list[str] = []
    used = 0
    for name in names:
        used += len(name) + 2
        if used > CHOICES_SHOWN:
            return [*shown, f"… (+{len(names) - len(shown)})"]
        shown.append(name)
    return shown or ["—"]


class SubredditService:
    def __init__(
        self,
        store: Store,
        ingest: Ingest,
        directory: RedditDirectory,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.ingest = ingest
        self.directory = directory
        self.clock = clock
        self._communities: dict[int, int] = {}  # subreddit ledger id -> community
        self._names: dict[int, str] = {}  # subreddit ledger id -> name
        self._lock = asyncio.Lock()
        #: Called after a bind or unbind, so the adapter's streams follow the bound subreddits.
        self.on_change: Callable[[], None] | None = None

    async def load(self) -> list[BoundSubreddit]:
        bound = await self.store.bound_subreddits()
        self._communities = {b.subreddit_id: b.community_id for b in bound}
        self._names.update({b.subreddit_id: b.name for b in bound})
        return bound

    # -- moderators' controls ---------------------------------------------------------------------

    async def bind(
        self, community_id: int, text: str, *, by: int, by_reddit_name: str | None
    ) -> BoundSubreddit:
        name = subreddit_name(text)
        info = await self.directory.subreddit(name)
        if info is None:
            raise InvalidInput("reddit.no_such_subreddit", name=name)
        bot_moderates = await self.directory.moderates(info.name, self.directory.username)
        if not bot_moderates and not (
            by_reddit_name is not None and await self.directory.moderates(info.name, by_reddit_name)
        ):
            raise Forbidden("reddit.not_moderator", name=info.name, bot=self.directory.username)
        subreddit_id = ledger_id(info.fullname, SUBREDDIT)
        outcome = await self.store.bind_subreddit(
            community_id, subreddit_id, info.name, by=by, now=self.clock(), bot_moderates=bot_moderates
        )
        if outcome == "taken":
            raise Forbidden("reddit.bound_elsewhere", name=info.name)
        self._communities[subreddit_id] = community_id
        self._names[subreddit_id] = info.name
        bound = await self.store.bound_subreddit(info.name)
        assert bound is not None
        log.info("r/%s bound to community %s by %s (%s)", info.name, community_id, by, outcome)
        self._changed()
        return bound

    async def unbind(self, community_id: int, text: str) -> BoundSubreddit:
        """Unbind a subreddit; refused while one of its activations is scheduled or live (a giveaway
        there reads the subreddit's moderators, who would otherwise count as entrants, through the
        binding, and a post cannot be made without it). They are cancelled, or end, first."""
        name = subreddit_name(text)
        unbinding = await self.store.unbind_subreddit(community_id, name)
        if unbinding is None:
            raise InvalidInput("reddit.not_bound", name=name)
        removed = unbinding.subreddit
        if unbinding.kept_by:
            ids = [f"#{i}" for i in unbinding.kept_by]  # listed in the reader's language (i18n.t)
            raise InvalidInput("reddit.remove_open_activations", name=removed.name, ids=ids)
        self._communities.pop(removed.subreddit_id, None)
        log.info("r/%s unbound from community %s", removed.name, community_id)
        self._changed()
        return removed

    async def list(self, community_id: int) -> list[BoundSubreddit]:
        return await self.store.bound_subreddits(community_id)

    async def bound_in(self, community_id: int, text: str) -> BoundSubreddit:
        """The subreddit named by `text` (r/name or name), if it is bound to this community."""
        name = subreddit_name(text)
        bound = await self.store.bound_subreddit(name)
        if bound is None or bound.community_id != community_id:
            raise InvalidInput("reddit.not_bound", name=name)
        return bound

    async def set_sponsored_flair(self, community_id: int, text: str, flair: str | None) -> str | None:
        """Choose the link flair (by its text) that sponsored posts get in a bound subreddit; None or an
        empty text clears it. Returns the flair's text as Reddit spells it."""
        bound = await self.bound_in(community_id, text)
        wanted = (flair or "").strip()
        if not wanted:
            await self.store.set_sponsored_flair(community_id, bound.subreddit_id, None)
            return None
        templates = await self.directory.link_flairs(bound.name)
        found = next((t for t in templates if t[1].strip().lower() == wanted.lower()), None)
        if found is None:
            choices = flair_choices([t for _, t in templates])
            raise InvalidInput("reddit.no_such_flair", name=bound.name, flair=wanted[:40], choices=choices)
        await self.store.set_sponsored_flair(community_id, bound.subreddit_id, found[0])
        return found[1]

    # -- sponsored posts (the Reddit platform asks) -----------------------------------------------

    def name_of(self, subreddit_id: int) -> str | None:
        return self._names.get(subreddit_id)

    async def binding(self, subreddit_id: int) -> BoundSubreddit | None:
        """The bound subreddit behind an activation's channel (its sponsored flair, whether the bot
        moderates it)."""
        bound = await self.store.subreddit_by_id(subreddit_id)
        if bound is not None:
            self._names[subreddit_id] = bound.name
        return bound

    async def note_moderation(self, subreddit_id: int, bot_moderates: bool) -> None:
        """What Reddit said just now about the bot moderating the subreddit (checked before posting)."""
        await self.store.set_subreddit_moderation(subreddit_id, bot_moderates)

    async def tell_moderators_once(self, subreddit_id: int) -> bool:
        """True the first time only: the subreddit's moderators are told once that the bot cannot
        sticky or distinguish its sponsored posts there."""
        return await self.store.mark_mods_told(subreddit_id, self.clock())

    async def telling_failed(self, subreddit_id: int) -> None:
        """Telling the moderators failed (`tell_moderators_once` was True): they are told next time."""
        await self.store.unmark_mods_told(subreddit_id)

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    # -- ingestion --------------------------------------------------------------------------------

    def community_of(self, subreddit_fullname: str) -> int | None:
        try:
            return self._communities.get(ledger_id(subreddit_fullname, SUBREDDIT))
        except BadFullname:
            return None

    async def accept(self, items: Iterable[RedditItem]) -> int:
        """Record one batch of streamed items; returns how many were handed to the ledger.

        The batch is written before the streams' cursors move past it, so a crash in between only
        means the items are streamed again (and ignored by the natural key). Raises
        `RecordingDeferred` when the database cannot take the batch now (locked past its busy
        timeout, its connection lost, the ingest buffer full while its writer fails): the caller reads
        the same items again later."""
        try:
            return await self._accept(items)
        except Exception as error:
            if store_unavailable(error):
                raise RecordingDeferred(f"the database could not take the items: {error}") from error
            raise

    async def _accept(self, items: Iterable[RedditItem]) -> int:
        async with self._lock:
            cursors: dict[tuple[int, str], str] = {}
            earliest: dict[int, str] = {}  # subreddit -> the oldest item read back (`RedditItem.read_back`)
            handed = 0
            for item in items:
                community = self.community_of(item.subreddit_fullname)
                if community is None:
                    continue  # unbound while the batch was on its way
                subreddit_id = ledger_id(item.subreddit_fullname, SUBREDDIT)
                if item.read_back:  # (not an old post approved out of the spam filter later)
                    posted = iso(datetime.fromtimestamp(item.created_utc, UTC))
                    earliest[subreddit_id] = min(posted, earliest.get(subreddit_id, posted))
                rows = to_ledger(item, community, self._machinery())
                if rows is not None:
                    if not self.ingest.add(rows.event, members=(rows.member,), channels=rows.channels):
                        # Dropped by a full buffer (its writer failing or stalled): the streams must not
                        # move past it (what was handed before it is written, and read again harmlessly).
                        raise RecordingDeferred("the ingest buffer is full and its writer failing or stalled")
                    handed += 1
                key = (subreddit_id, item.stream)
                if newer(item.fullname, cursors.get(key)):
                    cursors[key] = item.fullname
            if cursors:
                await self.ingest.flush()
                # A cursor only moves forward: a batch may hold nothing but an old item that is new to
                # the listing (a post approved out of the spam filter keeps its id).
                known = await self.store.reddit_cursors()
                forward = {key: name for key, name in cursors.items() if newer(name, known.get(key))}
                if forward:
                    await self.store.set_reddit_cursors(forward, self.clock())
            if earliest:
                # Read back when first followed: the records begin at the oldest item read, where
                # that is before the binding (the store keeps the earliest).
                await self.store.records_reach_back(earliest)
            return handed

    def _machinery(self) -> frozenset[str]:
        """The accounts that are the subreddit's machinery: AutoModerator and the bot's own (what
        they write is not engagement, as a bot's messages are not on Discord)."""
        return MACHINERY | {self.directory.username.lower()}

    async def keep_read_back(self, name: str, fullnames: list[str]) -> None:
        """The older posts of subreddit `name` still to be read back with their comment trees (none:
        done), kept across a restart."""
        subreddit_id = next((s for s, n in self._names.items() if n.lower() == name.lower()), None)
        if subreddit_id is not None:
            await self.store.set_read_back_pending(subreddit_id, fullnames)

    async def read_back_pending(self) -> dict[str, list[str]]:
        """Subreddit name -> the older posts still to be read back (`keep_read_back`)."""
        names = {b.subreddit_id: b.name for b in await self.load()}
        pending = await self.store.read_back_pending()
        return {names[s]: fullnames for s, fullnames in pending.items() if s in names}

    async def resume_points(self) -> dict[tuple[str, Stream], str]:
        """(subreddit name, stream) -> newest fullname in the ledger, for the streams to resume from."""
        names = {b.subreddit_id: b.name for b in await self.load()}
        out: dict[tuple[str, Stream], str] = {}
        for (subreddit_id, stream), fullname in (await self.store.reddit_cursors()).items():
            if subreddit_id in names and stream in ("comments", "submissions"):
                out[(names[subreddit_id], stream)] = fullname  # type: ignore[index]
        return out
