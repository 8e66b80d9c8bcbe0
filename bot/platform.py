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
    """Structured content shown with a post (an embed on Discord): a title, a body and an author line."""

    title: str = ""
    description: str = ""
    author: str = ""


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes


@dataclass(frozen=True)
class Post:
    """One message as a service wants it published (or a message's new state, for an edit).

    `notify` lists the only members whose mentions notify them; mentions of everyone, of roles, and of
    anyone else never notify, whatever the text contains. `reply_to` is a message in the same channel;
    the post is still made if that message was deleted.
    """

    content: str | None = None
    card: Card | None = None
    actions: tuple[Action, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    reply_to: int | None = None
    notify: tuple[int, ...] = ()


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
class Member:
    """What a service may know about a member (eligibility, takers)."""

    id: int
    role_ids: frozenset[int] = frozenset()
    joined_at: datetime | None = None
    created_at: datetime | None = None
    is_bot: bool = False


class Platform(Protocol):
    """The operations activations use. Every method may raise the platform's own transport error."""

    async def wait_until_ready(self) -> None:
        """Return once posts can be made (the connection is up and channels are known)."""
        ...

    async def post(self, community_id: int, channel_id: int, post: Post) -> Posted: ...

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
