"""What the activation services need from a chat platform: a `typing.Protocol` and plain values.

A service never holds a platform object of its own (no discord, no praw): it builds `Post` values and
asks a `Platform` to publish them. Discord implements the protocol in
`bot/discord_adapter/platform.py`; a Reddit adapter implements the same protocol (a channel is a
subreddit or a submission's comments, a post is a submission or a comment, a thread is the comments
under a post, a card is the submission's body, a notification is a username mention, the topic is the
sidebar, and a post made "in the author's name" is a distinguished reply). Tests use an in-memory fake.

Ids are integers (Reddit's base-36 ids fit one). Messages that must be disclosed are disclosed by the
service before they get here (`bot.activations.disclosure`); an adapter publishes what it is given.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

ActionStyle = Literal["primary", "secondary", "success", "danger"]


@dataclass(frozen=True)
class Action:
    """A button members press. `id` is fixed and namespaced (``microvoice:giveaway:enter:12``): the handler
    finds its work from the id alone, so a post keeps working after a restart."""

    id: str
    label: str
    style: ActionStyle = "secondary"
    disabled: bool = False


@dataclass(frozen=True)
class Card:
    """Structured content shown with a post (an embed on Discord): a title, a body and an author line;
    `image` names an attachment of the same post shown as the card's picture (a report's chart)."""

    title: str = ""
    description: str = ""
    author: str = ""
    image: str = ""


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes


@dataclass(frozen=True)
class Post:
    """One message as a service wants it published (or a message's new state, for an edit).

    `notify` lists the only members whose mentions notify them, `notify_roles` the only roles (a role a
    moderator chose to ping when a giveaway opens); mentions of everyone, of other roles, and of anyone
    else never notify, whatever the text contains. `reply_to` is a message in the same channel; the post
    is still made if that message was deleted. `nonce` (at most 25 characters) makes a repeated post
    idempotent where the platform allows: the same post sent again with the same nonce shortly after
    returns the message already made instead of a second one.
    """

    content: str | None = None
    card: Card | None = None
    actions: tuple[Action, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    reply_to: int | None = None
    notify: tuple[int, ...] = ()
    notify_roles: tuple[int, ...] = ()
    nonce: str | None = None


@dataclass(frozen=True)
class Posted:
    """A published message: its id, where it is, and a link members can open."""

    id: int
    channel_id: int
    link: str


@dataclass(frozen=True)
class Author:
    """Whose name and picture a republished message shows."""

    name: str
    avatar_url: str | None = None


@dataclass(frozen=True)
class Overwrite:
    """A member's own permission overwrite in one channel, as the platform states it.

    Opaque to services: they keep it before a change and give it back to restore it exactly."""

    allow: str
    deny: str
    kind: int


@dataclass(frozen=True)
class ChannelState:
    """What a takeover changes in a channel, read before it changes it."""

    overwrite: Overwrite | None
    topic: str | None


@dataclass(frozen=True)
class Failure:
    """Why a platform call failed, as far as a service must know: `permanent` if trying again cannot
    help (the bot lacks a permission, the channel is gone, the request is refused as invalid), else it
    is worth retrying (the platform is down or rate-limits, the connection broke). `reason` is the
    platform's own short description, for moderators and logs; never member content."""

    permanent: bool
    reason: str
    #: The platform's own words for the log (an API error code, an HTTP status) where `reason` is a
    #: catalog key, told to moderators in their language; empty when `reason` says it all.
    detail: str = ""
    #: Whether the platform explains the error (a refusal, a 5xx, a rate limit, a timeout): logged in a
    #: line of its own. False for an error in the bot itself, logged with its traceback.
    expected: bool = True
    #: Seconds the platform asked the bot to wait before trying again (a rate limit that names its
    #: wait); None where it named none.
    retry_after: float | None = None

    @property
    def logged(self) -> str:
        """What a log line says of it: the platform's own words."""
        return self.detail or self.reason


def other_failure(error: BaseException) -> Failure:
    """An error that is not the platform's answer (a broken connection, a timeout, the database, a
    fault of the bot's own): worth retrying, described without its text, which can carry internals
    that moderators have no use for and that end up in a channel (the log has the traceback)."""
    if isinstance(error, TimeoutError):
        reason = "no answer in time"
    elif isinstance(error, OSError):
        reason = f"a network error ({type(error).__name__})"
    elif isinstance(error, sqlite3.Error):
        reason = "the database could not take it just then"
    else:
        return Failure(False, "an unexpected error in the bot (details in its log)", expected=False)
    return Failure(False, reason)


@dataclass(frozen=True)
class Member:
    """What a service may know about a member (eligibility, takers)."""

    id: int
    role_ids: frozenset[int] = frozenset()
    joined_at: datetime | None = None
    created_at: datetime | None = None
    is_bot: bool = False
    #: Reddit's karma (link + comment), where the platform has such a thing.
    karma: int | None = None


@dataclass(frozen=True)
class Reply:
    """A top-level reply to a post the bot made (a Reddit comment under the bot's submission): what an
    AMA's questions and a giveaway's entries are read from.

    `author_id` is None for a deleted or removed author; `answered_by` lists who replied to it directly
    (their ids), so an answer given by a brand's own account is seen."""

    id: int
    author_id: int | None
    author_name: str
    body: str
    score: int
    created_at: datetime
    answered_by: tuple[tuple[int, int], ...] = ()  # (author id, reply id) of each direct reply


@dataclass(frozen=True)
class PostRules:
    """What a channel asks of every post (a subreddit's post requirements)."""

    flair_required: bool = False
    text_allowed: bool = True
    #: The longest title it takes (None: the platform's own limit), and the words a title must hold
    #: one of (none: any title).
    title_max: int | None = None
    title_required: tuple[str, ...] = ()
    #: The shortest title it takes (None: any), the words no title may hold, and the patterns (regular
    #: expressions) a title must match one of (none: any title).
    title_min: int | None = None
    title_banned: tuple[str, ...] = ()
    title_patterns: tuple[str, ...] = ()

    @property
    def judges_titles(self) -> bool:
        """Whether any rule here is about titles."""
        return bool(
            self.title_max is not None
            or self.title_min is not None
            or self.title_required
            or self.title_banned
            or self.title_patterns
        )


class Discussions(Protocol):
    """What a platform whose members reply in public under a post (Reddit) offers besides `Platform`."""

    async def replies(self, community_id: int, message_id: int) -> list[Reply]:
        """The top-level replies under a post the bot made, best first (by score)."""
        ...

    async def account(self, member_id: int) -> Member | None:
        """The account's public facts (created, karma); None if it is gone or suspended."""
        ...

    async def accounts(self, member_ids: Iterable[int]) -> dict[int, Member | None]:
        """`account` for many accounts at once, in as few requests as the platform allows (Reddit: a
        hundred a request); every id asked for is a key."""
        ...

    async def moderators(self, channel_id: int) -> frozenset[int]:
        """The accounts moderating the channel (a subreddit)."""
        ...

    async def post_rules(self, channel_id: int) -> PostRules | None:
        """What the channel asks of every post; None when it cannot be read just now."""
        ...

    async def close_post(self, community_id: int, message_id: int, *, lock: bool = True) -> bool:
        """Stop featuring a post the bot made: unsticky it, and with `lock` lock it, if the bot
        moderates where it is; False (and nothing changed) if it does not."""
        ...


class Platform(Protocol):
    """The operations activations use. Every method may raise the platform's own transport error."""

    async def wait_until_ready(self) -> None:
        """Return once posts can be made (the connection is up and channels are known)."""
        ...

    async def post(self, community_id: int, channel_id: int, post: Post) -> Posted: ...

    async def find_post(self, community_id: int, channel_id: int, post: Post) -> Posted | None:
        """A message the bot itself published among the channel's latest that is `post` (the same nonce,
        or the same text, card title and reply target); None if there is none. Lets a post interrupted
        mid-request be completed without a duplicate."""
        ...

    def keeps_nonces(self, channel_id: int) -> bool:
        """Whether the platform itself refuses a repeated post with the same nonce (Discord, for a
        few minutes): where it does not (Reddit), a post whose look-up failed is not made blind."""
        ...

    def failure(self, error: Exception) -> Failure:
        """Classify an error raised by one of these methods (any other error counts as transient)."""
        ...

    async def edit(self, community_id: int, channel_id: int, message_id: int, post: Post) -> None:
        """Replace a message the bot posted with `post` (content, card and actions)."""
        ...

    async def open_thread(self, community_id: int, channel_id: int, message_id: int, name: str) -> int:
        """Open a discussion on a posted message; returns where replies to it go."""
        ...

    async def republish(
        self, community_id: int, channel_id: int, message_id: int, post: Post, author: Author
    ) -> Posted:
        """Publish `post` in place of a member's message, showing the member as its author, and remove
        the original."""
        ...

    async def channel_state(self, channel_id: int, member_id: int) -> ChannelState: ...

    async def grant_posting(
        self, channel_id: int, member_id: int, *, base: Overwrite | None, reason: str
    ) -> None:
        """Let the member post in the channel: `base` (their overwrite from before) plus posting rights.
        Computed from `base` alone, so a retry sets the same thing."""
        ...

    async def restore_overwrite(
        self, channel_id: int, member_id: int, overwrite: Overwrite | None, *, reason: str
    ) -> None:
        """Put the member's overwrite back exactly as given; None removes it."""
        ...

    async def set_topic(self, channel_id: int, topic: str | None, *, reason: str) -> None: ...

    async def send_private(self, member_id: int, post: Post) -> Posted | None:
        """A private message; None if the member does not accept them."""
        ...

    async def member(self, community_id: int, member_id: int) -> Member | None:
        """Look a member of the community up; None if they are not (or no longer) a member."""
        ...

    def mention(self, member_id: int) -> str: ...

    def channel_link(self, channel_id: int) -> str: ...

    def role_mention(self, role_id: int) -> str: ...

    def timestamp(self, when: datetime) -> str:
        """A time every reader sees in their own time zone where the platform can, else in UTC."""
        ...


class PlatformRouter:
    """One `Platform` made of several: each call goes to the platform that owns the channel (or the
    member) it is about, told apart by `platform_of(id)` ("discord", "reddit", …).

    The activation engine holds one router, so an activation in a Discord channel is published on
    Discord and one in a subreddit on Reddit, through the same services and the same `Publisher`.
    Calls that name no channel or member (`timestamp`, readiness) go to the default platform;
    services render text for an activation with `for_channel(activation.channel_id)`.
    """

    def __init__(
        self, default: Platform, *, platform_of: Callable[[int], str] | None = None, name: str = "discord"
    ) -> None:
        self.default = default
        self.default_name = name
        self.platform_of = platform_of or (lambda _id: name)
        self.platforms: dict[str, Platform] = {name: default}

    def attach(self, name: str, platform: Platform) -> None:
        self.platforms[name] = platform

    def name_of(self, channel_id: int) -> str:
        return self.platform_of(channel_id)

    async def learn_names(self, member_ids: Iterable[int]) -> None:
        """Let each platform that names members itself (Reddit: u/name) look up the names it will
        need to mention these members; the others need nothing."""
        by_platform: dict[str, list[int]] = {}
        for member_id in member_ids:
            by_platform.setdefault(self.platform_of(member_id), []).append(member_id)
        for name, ids in by_platform.items():
            learn = getattr(self.platforms.get(name), "learn_names", None)
            if learn is not None:
                await learn(ids)

    def for_channel(self, channel_id: int) -> Platform:
        """The platform owning this channel, member or message id."""
        name = self.platform_of(channel_id)
        platform = self.platforms.get(name)
        if platform is None:
            raise PlatformUnavailable(name)
        return platform

    async def wait_until_ready(self) -> None:
        await self.default.wait_until_ready()

    async def post(self, community_id: int, channel_id: int, post: Post) -> Posted:
        return await self.for_channel(channel_id).post(community_id, channel_id, post)

    async def edit(self, community_id: int, channel_id: int, message_id: int, post: Post) -> None:
        await self.for_channel(channel_id).edit(community_id, channel_id, message_id, post)

    async def find_post(self, community_id: int, channel_id: int, post: Post) -> Posted | None:
        return await self.for_channel(channel_id).find_post(community_id, channel_id, post)

    def keeps_nonces(self, channel_id: int) -> bool:
        return self.for_channel(channel_id).keeps_nonces(channel_id)

    def failure(self, error: Exception) -> Failure:
        """Permanent if any platform knows the error as permanent (each counts unknown errors as
        transient, so only the platform that raised it can say it is permanent); else the verdict of
        a platform that explains it (`expected`): the platform that raised it, not another that takes
        it for an error in the bot."""
        verdicts = [platform.failure(error) for platform in self.platforms.values()]
        explained = next((v for v in verdicts if v.expected), verdicts[0])
        return next((v for v in verdicts if v.permanent), explained)

    async def open_thread(self, community_id: int, channel_id: int, message_id: int, name: str) -> int:
        return await self.for_channel(channel_id).open_thread(community_id, channel_id, message_id, name)

    async def republish(
        self, community_id: int, channel_id: int, message_id: int, post: Post, author: Author
    ) -> Posted:
        platform = self.for_channel(channel_id)
        return await platform.republish(community_id, channel_id, message_id, post, author)

    async def channel_state(self, channel_id: int, member_id: int) -> ChannelState:
        return await self.for_channel(channel_id).channel_state(channel_id, member_id)

    async def grant_posting(
        self, channel_id: int, member_id: int, *, base: Overwrite | None, reason: str
    ) -> None:
        await self.for_channel(channel_id).grant_posting(channel_id, member_id, base=base, reason=reason)

    async def restore_overwrite(
        self, channel_id: int, member_id: int, overwrite: Overwrite | None, *, reason: str
    ) -> None:
        await self.for_channel(channel_id).restore_overwrite(channel_id, member_id, overwrite, reason=reason)

    async def set_topic(self, channel_id: int, topic: str | None, *, reason: str) -> None:
        await self.for_channel(channel_id).set_topic(channel_id, topic, reason=reason)

    async def send_private(self, member_id: int, post: Post) -> Posted | None:
        return await self.for_channel(member_id).send_private(member_id, post)

    async def member(self, community_id: int, member_id: int) -> Member | None:
        return await self.for_channel(member_id).member(community_id, member_id)

    def mention(self, member_id: int) -> str:
        return self.for_channel(member_id).mention(member_id)

    def channel_link(self, channel_id: int) -> str:
        return self.for_channel(channel_id).channel_link(channel_id)

    def role_mention(self, role_id: int) -> str:
        return self.default.role_mention(role_id)

    def timestamp(self, when: datetime) -> str:
        return self.default.timestamp(when)


class PlatformUnavailable(RuntimeError):
    """An activation's platform is not configured in this installation (e.g. Reddit credentials removed)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"the {name} platform is not configured")
        self.name = name


class ChannelGone(LookupError):
    """The channel no longer exists (deleted): there is nothing left in it to change or put back."""

    def __init__(self, channel_id: int) -> None:
        super().__init__(f"channel {channel_id} no longer exists")
        self.channel_id = channel_id
