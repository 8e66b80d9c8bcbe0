"""An in-memory `bot.platform.Platform` for service tests: it keeps what was posted, edited, granted and
set, like a tiny chat server, so tests assert on the resulting state rather than on calls."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime

from bot.platform import Author, ChannelState, Failure, Member, Overwrite, Post, Posted

POSTING = 1 << 11  # what `grant_posting` adds (the platform's own bit, opaque to services)


class Outage(Exception):
    """The fake platform refusing a call, as a real one does when it is down (worth retrying)."""


class Refused(Exception):
    """The fake platform refusing a call for good, as a real one does without a permission."""


@dataclass
class Message:
    id: int
    channel_id: int
    post: Post
    author: Author | None = None  # a republished member message
    deleted: bool = False
    edits: int = 0


@dataclass
class FakePlatform:
    members: dict[tuple[int, int], Member] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    threads: dict[int, str] = field(default_factory=dict)  # thread id -> name
    overwrites: dict[tuple[int, int], Overwrite] = field(default_factory=dict)
    topics: dict[int, str | None] = field(default_factory=dict)
    private: list[tuple[int, Post]] = field(default_factory=list)
    closed_dms: set[int] = field(default_factory=set)
    fail_posts: int = 0  # the next this many posts fail
    lose_answers: int = 0  # the next this many posts are made, but the caller hears an Outage
    fail_restores: int = 0  # the next this many overwrite restores fail with an Outage
    refuse_restores: bool = False  # overwrite restores are refused for good
    refuse_threads: bool = False  # threads cannot be opened (refused for good)
    asked_wait: float | None = None  # seconds an outage asks the bot to wait (a named rate limit)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(9000))

    def posts_in(self, channel_id: int) -> list[Message]:
        return [m for m in self.messages.values() if m.channel_id == channel_id and not m.deleted]

    def member_message(self, channel_id: int) -> int:
        """A message a member posted themselves (for replies and republishing)."""
        message_id = next(self._ids)
        self.messages[message_id] = Message(message_id, channel_id, Post(content="member text"))
        return message_id

    # -- Platform ------------------------------------------------------------------------------------

    async def wait_until_ready(self) -> None:
        return None

    async def post(self, community_id: int, channel_id: int, post: Post) -> Posted:
        if self.fail_posts:
            self.fail_posts -= 1
            raise Outage("posting is down")
        message_id = next(self._ids)
        self.messages[message_id] = Message(message_id, channel_id, post)
        if self.lose_answers:
            self.lose_answers -= 1
            raise Outage("the answer was lost")
        return Posted(message_id, channel_id, f"fake://{channel_id}/{message_id}")

    def keeps_nonces(self, channel_id: int) -> bool:
        """Like Discord."""
        return True

    async def find_post(self, community_id: int, channel_id: int, post: Post) -> Posted | None:
        for message in reversed(self.posts_in(channel_id)):
            if message.author is None and message.post == post:
                return Posted(message.id, channel_id, f"fake://{channel_id}/{message.id}")
        return None

    def failure(self, error: Exception) -> Failure:
        wait = None if isinstance(error, Refused) else self.asked_wait
        return Failure(isinstance(error, Refused), f"{type(error).__name__}: {error}", retry_after=wait)

    async def edit(self, community_id: int, channel_id: int, message_id: int, post: Post) -> None:
        message = self.messages[message_id]
        assert message.channel_id == channel_id
        message.post, message.edits = post, message.edits + 1

    async def open_thread(self, community_id: int, channel_id: int, message_id: int, name: str) -> int:
        assert self.messages[message_id].channel_id == channel_id
        if self.refuse_threads:
            raise Refused("missing permissions")
        self.threads[message_id] = name
        return message_id

    async def republish(
        self, community_id: int, channel_id: int, message_id: int, post: Post, author: Author
    ) -> Posted:
        self.messages[message_id].deleted = True
        posted = await self.post(community_id, channel_id, post)
        self.messages[posted.id].author = author
        return posted

    async def channel_state(self, channel_id: int, member_id: int) -> ChannelState:
        return ChannelState(self.overwrites.get((channel_id, member_id)), self.topics.get(channel_id))

    async def grant_posting(
        self, channel_id: int, member_id: int, *, base: Overwrite | None, reason: str
    ) -> None:
        allow = int(base.allow if base else 0) | POSTING
        deny = int(base.deny if base else 0) & ~POSTING
        self.overwrites[(channel_id, member_id)] = Overwrite(str(allow), str(deny), kind=1)

    async def restore_overwrite(
        self, channel_id: int, member_id: int, overwrite: Overwrite | None, *, reason: str
    ) -> None:
        if self.refuse_restores:
            raise Refused("missing permissions")
        if self.fail_restores:
            self.fail_restores -= 1
            raise Outage("overwrites are down")
        if overwrite is None:
            self.overwrites.pop((channel_id, member_id), None)
        else:
            self.overwrites[(channel_id, member_id)] = overwrite

    async def set_topic(self, channel_id: int, topic: str | None, *, reason: str) -> None:
        self.topics[channel_id] = topic

    async def send_private(self, member_id: int, post: Post) -> Posted | None:
        if member_id in self.closed_dms:
            return None
        self.private.append((member_id, post))
        return Posted(next(self._ids), -member_id, f"fake://dm/{member_id}")

    async def member(self, community_id: int, member_id: int) -> Member | None:
        return self.members.get((community_id, member_id))

    def mention(self, member_id: int) -> str:
        return f"@{member_id}"

    def channel_link(self, channel_id: int) -> str:
        return f"#{channel_id}"

    def role_mention(self, role_id: int) -> str:
        return f"@&{role_id}"

    def timestamp(self, when: datetime) -> str:
        return when.strftime("%Y-%m-%d %H:%M UTC")
