"""Opt-in account linking between a member's Discord identity and their Reddit account.

`/link reddit name` issues a one-time code (`start`); the Reddit adapter passes the bot's unread
private messages to `check_inbox`, which links the account whose own message carries a valid code;
`/link remove` unlinks at once. A linked member's Discord and Reddit engagement count as one standing
(`combined_standing`); nothing else ever merges identities.

A successful link is confirmed on both sides, in the community's language: the result carries the
private message the adapter sends back to the Reddit account, and the member gets a private message on
Discord through the platform. Both are courtesies: the link is made whether or not they arrive.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot import i18n
from bot.errors import InvalidInput
from bot.links.rules import (
    CODE_TTL,
    Combined,
    InboxMessage,
    code_hash,
    codes_in,
    combine_scores,
    new_code,
    reddit_username,
)
from bot.platform import Platform, Post
from bot.store import RedditLink, Store
from bot.subreddits.ids import ACCOUNT, BadFullname, ledger_id

log = logging.getLogger(__name__)

Outcome = Literal["linked", "wrong_sender", "unknown_code", "taken"]


@dataclass(frozen=True)
class LinkStart:
    code: str
    reddit_name: str
    bot_account: str
    expires_at: datetime


@dataclass(frozen=True)
class Confirmation:
    """The private message the bot's Reddit account sends back to an account it just linked, and
    the link it confirms (`LinkService.confirmed` once it was attempted)."""

    to: str
    subject: str
    body: str
    community_id: int = 0
    member_id: int = 0
    reddit_id: int = 0


@dataclass(frozen=True)
class InboxResult:
    message: InboxMessage
    outcome: Outcome
    community_id: int | None = None
    member_id: int | None = None


class LinkService:
    def __init__(
        self,
        store: Store,
        *,
        bot_account: str,
        clock: Callable[[], datetime],
        platform: Platform | None = None,
        lang_of: Callable[[int], Awaitable[str]] | None = None,
    ) -> None:
        self.store = store
        self.bot_account = bot_account
        self.clock = clock
        self.platform = platform  # tells the Discord member their link is made
        self.lang_of = lang_of
        # Links whose member was told on Discord by this process: a Reddit message that must wait
        # (Reddit's rate limit) is tried again without telling the member twice.
        self._told: set[tuple[int, int, int]] = set()

    async def start(self, community_id: int, member_id: int, text: str) -> LinkStart:
        name = reddit_username(text)
        if name is None:
            raise InvalidInput("link.bad_username", name=text.strip()[:40])
        if name.lower() == self.bot_account.lower():
            raise InvalidInput("link.bad_username", name=name)
        code, now = new_code(), self.clock()
        expires = now + CODE_TTL
        await self.store.put_link_code(
            community_id, member_id, name, code_hash(code), now=now, expires_at=expires
        )
        return LinkStart(code, name, self.bot_account, expires)

    async def remove(self, community_id: int, member_id: int) -> bool:
        removed = await self.store.remove_reddit_link(community_id, member_id)
        if removed:
            log.info("reddit link removed for member %s in %s", member_id, community_id)
        return removed

    async def link(self, community_id: int, member_id: int) -> RedditLink | None:
        return await self.store.reddit_link(community_id, member_id)

    async def check_inbox(self, messages: Sequence[InboxMessage]) -> list[InboxResult]:
        """Link the accounts whose messages carry a pending code sent from the named account."""
        results: list[InboxResult] = []
        pending = await self.store.pending_links(self.clock())
        by_hash = {p.code_sha256: p for p in pending}
        for message in messages:
            match = next((by_hash[h] for h in codes_in(message.subject, message.body) if h in by_hash), None)
            if match is None:
                results.append(InboxResult(message, "unknown_code"))
                continue
            sender = (message.author_name or "").lower()
            try:
                reddit_id = ledger_id(message.author_fullname or "", ACCOUNT)
            except BadFullname:
                reddit_id = None
            if sender != match.reddit_name.lower() or reddit_id is None:
                # The code stays valid for its owner: someone else sending it links nothing.
                log.info("link code for member %s arrived from another account", match.member_id)
                results.append(InboxResult(message, "wrong_sender", match.community_id, match.member_id))
                continue
            done = await self.store.complete_link(
                match, reddit_id, message.author_name or match.reddit_name, now=self.clock()
            )
            if not done:
                results.append(InboxResult(message, "taken", match.community_id, match.member_id))
                continue
            by_hash.pop(match.code_sha256, None)
            log.info("member %s of %s linked a Reddit account", match.member_id, match.community_id)
            results.append(InboxResult(message, "linked", match.community_id, match.member_id))
        return results

    async def confirmations_due(self) -> list[Confirmation]:
        """Confirm the links not confirmed yet (just made, or made before a restart that came before
        their messages): tell each member on Discord now, and return the private messages the bot's
        Reddit account sends; `confirmed` marks each once it was attempted (a message Reddit asked to
        wait for comes back next time, and the member is not told again). At least once: a restart
        in between sends a confirmation again rather than never."""
        replies = []
        for link in await self.store.unconfirmed_links():
            lang = await self.lang_of(link.community_id) if self.lang_of else "en"
            name = link.reddit_name
            key = (link.community_id, link.member_id, link.reddit_id)
            if key not in self._told:
                await self._tell_member(link.member_id, i18n.t(lang, "link.confirm_discord", name=name))
                self._told.add(key)
            replies.append(
                Confirmation(
                    name,
                    i18n.t(lang, "link.confirm_subject"),
                    i18n.t(lang, "link.confirm_reddit", name=name),
                    link.community_id,
                    link.member_id,
                    link.reddit_id,
                )
            )
        return replies

    async def confirmed(self, reply: Confirmation) -> None:
        """The link's confirmations were attempted (delivered or not: a member who accepts no private
        messages is linked all the same)."""
        await self.store.mark_link_confirmed(
            reply.community_id, reply.member_id, reply.reddit_id, self.clock()
        )
        self._told.discard((reply.community_id, reply.member_id, reply.reddit_id))

    async def _tell_member(self, member_id: int, text: str) -> None:
        """A private message on Discord; the link stands whether or not it can be delivered."""
        if self.platform is None:
            return
        try:
            sent = await self.platform.send_private(member_id, Post(content=text))
        except Exception as error:  # any platform failure: the member still sees the link in /link status
            reason = self.platform.failure(error).logged
            log.warning("could not tell member %s their link is made: %s", member_id, reason)
            return
        if sent is None:
            log.info("member %s does not accept private messages; their link is made", member_id)

    async def linked_standing(
        self, community_id: int, member_id: int
    ) -> tuple[RedditLink, list[Combined]] | None:
        """The member's link and combined standing, or None if they linked no Reddit account."""
        link = await self.store.reddit_link(community_id, member_id)
        if link is None:
            return None
        return link, await self.combined_standing(community_id, member_id)

    async def combined_standing(self, community_id: int, member_id: int) -> list[Combined]:
        """The member's standing per scope, their linked Reddit account's engagement included."""
        ids = [member_id, *await self.store.linked_identities(community_id, member_id)]
        own = await self.store.standing_rows(community_id, ids)
        scopes = {scope for scope, *_ in own}
        combined = combine_scores(own, [])
        above = {
            c.scope: await self.store.count_ranked_above(community_id, c.scope, c.score, ids)
            for c in combined
            if c.scope in scopes
        }
        return sorted(combine_scores(own, above.items()), key=lambda c: (c.rank, c.scope))
