"""What the Reddit adapter hands to the core, and how it becomes ledger rows. Pure.

The adapter reads these fields from praw's objects (in its own thread) and nothing else; this module
decides what is recorded: community = the Microvoice community the subreddit is bound to, channel =
the post's link flair inside the subreddit (a subreddit is a category, its flairs are its topics),
actor = the author, target = the author of the parent (the post for a top-level comment, the comment
replied to otherwise). Deleted and removed items are skipped, and a comment answering one engages
nobody (a moderator sees a removed item's author, but what was removed is no one's standing). Votes
are not visible per user on Reddit, so only what the API shows (comments and posts) is recorded.
Natural keys are fullnames.

The subreddit's machinery is not a member: what AutoModerator or the bot's own account writes, and
what a moderator or an admin writes distinguished (the subreddit speaking officially: rules, removal
notices, megathreads), is not recorded, and a comment answering it engages nobody (as a reply to a
bot on Discord): a megathread's hundred top-level comments are taking part in the community's
thread, not a hundred members seeking out whoever posted it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from bot.ledger import ChannelInfo, EngagementEvent, MemberSighting
from bot.subreddits.ids import ACCOUNT, SUBREDDIT, BadFullname, ledger_id, topic_id
from bot.text import clean

Stream = Literal["comments", "submissions"]
#: Channel types in the ledger: a subreddit is shown as a category, each link flair as a topic in it.
SUBREDDIT_TYPE = 4
TOPIC_TYPE = 0
DELETED_AUTHORS = frozenset({"[deleted]", "[removed]", ""})
#: Accounts that are the subreddit's machinery on every subreddit (lower case); `to_ledger` is also
#: given the bot's own account.
MACHINERY = frozenset({"automoderator"})


@dataclass(frozen=True, slots=True)
class RedditItem:
    """A comment (t1) or submission (t3) as streamed, with its parent's author and its post's flair."""

    fullname: str
    subreddit_fullname: str
    subreddit_name: str
    author_name: str | None
    author_fullname: str | None
    created_utc: float
    parent_fullname: str | None = None  # comments only
    parent_author_fullname: str | None = None
    link_flair: str | None = None  # the submission's flair (a comment's post's flair)
    author_created_utc: float | None = None  # when the author's account was made, when Reddit said
    distinguished: bool = False  # a moderator or an admin distinguished it: the subreddit speaking
    parent_author_name: str | None = None
    parent_distinguished: bool = False
    removed: bool = False  # removed (by a moderator, Reddit or the spam filter) or deleted
    parent_removed: bool = False
    #: Read back when its subreddit was first followed (what was posted before): where the
    #: subreddit's records begin, the oldest such item says (`SubredditService.accept`).
    read_back: bool = False

    @property
    def stream(self) -> Stream:
        return "comments" if self.fullname.startswith("t1_") else "submissions"

    @property
    def deleted(self) -> bool:
        return not self.author_fullname or (self.author_name or "") in DELETED_AUTHORS

    def official(self, machinery: Collection[str] = MACHINERY) -> bool:
        """Written by the subreddit's machinery (`machinery`: lower-case account names) or
        distinguished by a moderator or an admin."""
        return self.distinguished or (self.author_name or "").lower() in machinery

    def answers_official(self, machinery: Collection[str] = MACHINERY) -> bool:
        """A comment on such an item."""
        return self.parent_distinguished or (self.parent_author_name or "").lower() in machinery


@dataclass(frozen=True, slots=True)
class LedgerRows:
    event: EngagementEvent
    member: MemberSighting
    channels: tuple[ChannelInfo, ...]


def subreddit_channel(item_subreddit_fullname: str) -> int:
    return ledger_id(item_subreddit_fullname, SUBREDDIT)


def to_ledger(
    item: RedditItem, community_id: int, machinery: Collection[str] = MACHINERY
) -> LedgerRows | None:
    """The rows for one streamed item, or None when it is not recorded (deleted or removed, or
    official: see the module's docstring; `machinery` are the lower-case names of the accounts
    that are the subreddit's machinery)."""
    if item.deleted or item.removed or item.official(machinery):
        return None
    try:
        actor = ledger_id(item.author_fullname or "", ACCOUNT)
        subreddit = ledger_id(item.subreddit_fullname, SUBREDDIT)
    except BadFullname:
        return None
    target: int | None = None
    if item.parent_author_fullname and not item.parent_removed and not item.answers_official(machinery):
        try:
            target = ledger_id(item.parent_author_fullname, ACCOUNT)
        except BadFullname:
            target = None
    at = datetime.fromtimestamp(item.created_utc, UTC)
    topic = topic_id(item.subreddit_fullname, item.link_flair)
    kind: Literal["comment", "submission"] = "comment" if item.stream == "comments" else "submission"
    event = EngagementEvent(
        platform="reddit",
        community_id=community_id,
        channel_id=topic,
        actor_id=actor,
        kind=kind,
        source_id=item.fullname,
        created_at=at,
        target_id=target if kind == "comment" else None,
    )
    name = f"r/{item.subreddit_name}"
    channels = (
        ChannelInfo("reddit", community_id, subreddit, None, SUBREDDIT_TYPE, name),
        ChannelInfo(
            "reddit",
            community_id,
            topic,
            subreddit,
            TOPIC_TYPE,
            f"{name} · {clean(item.link_flair)}" if item.link_flair else name,  # members write flairs
        ),
    )
    created = (
        datetime.fromtimestamp(item.author_created_utc, UTC) if item.author_created_utc is not None else None
    )
    member = MemberSighting("reddit", community_id, actor, at, account_created_at=created)
    return LedgerRows(event, member, channels)
