"""The audit log: one line per privileged event, posted in a channel moderators choose.

Off until a moderator chooses the channel (`/microvoice audit`). Lines are in the community's language
and name who acted, never whose data was erased (an erasure is logged as counts). Guarantees: recording
never raises and never undoes or blocks the action it reports — it is called after the action is
stored, and a failed post is logged and dropped; lines never notify anyone (the poster sends them with
no allowed mentions); user-typed names are shown as plain text. No platform import: posting goes
through `AuditPoster`, implemented by the Discord adapter.
"""

from __future__ import annotations

import asyncio
import logging
import re
from functools import partial
from typing import TYPE_CHECKING, Protocol

from bot import i18n

if TYPE_CHECKING:
    from bot.store import Store

log = logging.getLogger(__name__)

#: Every event kind; the catalogs hold one `audit.<kind>` line for each.
EVENTS = (
    "enabled",
    "brand_approve",
    "brand_suspend",
    "brand_remove",
    "brand_contact_add",
    "brand_contact_remove",
    "brand_contact_left",
    "override_pin",
    "override_exclude",
    "override_clear",
    "terms",
    "erasure_self",
    "erasure_moderator",
    "activation_approved",
    "activation_rejected",
    "activation_cancelled",
    "activation_lapsed",
    "activation_taker_lapsed",
    "activation_missed",
    "activation_live",
    "activation_ended",
    "activation_ended_early",
    "activation_retried",
    "takeover_started",
    "takeover_restored",
    "takeover_carried_over",
    "giveaway_drawn",
    "giveaway_rerolled",
    "codes_attached",
    "voice_role_set",
    "voice_role_cleared",
)
_MARKDOWN = re.compile(r"([\\*_~`|>\[\]])")


class AuditPoster(Protocol):
    async def post_audit(self, community_id: int, channel_id: int, text: str) -> None:
        """Post `text` in the channel, notifying nobody."""
        ...

    def mention(self, member_id: int) -> str: ...

    def channel_link(self, channel_id: int) -> str: ...


def plain(text: str) -> str:
    """User-typed text shown as itself: markdown escaped, isolated for right-to-left text."""
    return i18n.isolate(_MARKDOWN.sub(r"\\\1", text))


#: How long `AuditLog.record` waits for its line to be posted before it lets the action it reports go on
#: (the post goes on in the background): a command that records an event before it answers must answer
#: within Discord's three seconds, and a channel's posts are rate limited (about five in five seconds).
POST_WAIT = 1.0
#: How long a line's post may take in all (rate limits waited out) before it is given up and logged.
POST_GIVE_UP = 120.0


class AuditLog:
    def __init__(self, store: Store, *, default_locale: str = "en") -> None:
        self.store = store
        self.default_locale = default_locale
        self.poster: AuditPoster | None = None
        # Each channel's last line being posted: a channel's lines go out in order, and one slow channel
        # holds no other community's.
        self._tails: dict[int, asyncio.Task[bool]] = {}
        self._posting: set[asyncio.Task[bool]] = set()

    def attach(self, poster: AuditPoster) -> None:
        """The platform that posts the lines (set once by the composition root)."""
        self.poster = poster

    async def record(self, community_id: int, event: str, *, by: int | None = None, **params: object) -> bool:
        """Post one line if the community has an audit channel; True if it was posted.

        `by` is the member who acted (None: the bot on its own schedule); `channel` and `member`
        parameters given as ids are rendered as links and mentions; `name` as plain text."""
        if event not in EVENTS:
            raise ValueError(f"unknown audit event {event!r}")
        poster = self.poster
        if poster is None:
            return False
        try:
            settings = await self.store.get_settings(community_id, default_locale=self.default_locale)
            if settings.audit_channel_id is None:
                return False
            shown: dict[str, object] = dict(params)
            if by is not None:
                shown["by"] = poster.mention(by)
            if isinstance(params.get("channel"), int):
                shown["channel"] = poster.channel_link(int(params["channel"]))  # type: ignore[arg-type]
            if isinstance(params.get("member"), int):
                shown["member"] = poster.mention(int(params["member"]))  # type: ignore[arg-type]
            if isinstance(params.get("name"), str):
                shown["name"] = plain(str(params["name"]))
            if isinstance(params.get("kind"), str):
                shown["kind"] = i18n.t(settings.locale, f"activation.kind.{params['kind']}")
            text = i18n.t(settings.locale, f"audit.{event}", **shown)
        except Exception:  # the action it reports is done; a lost audit line must not undo or block it
            log.warning("audit line %s for community %s was not posted", event, community_id, exc_info=True)
            return False
        channel_id = settings.audit_channel_id
        previous = self._tails.get(channel_id)
        post = self._post(previous, poster, (community_id, channel_id), text[:2000], event)
        task = asyncio.get_running_loop().create_task(post, name="microvoice-audit-line")
        self._tails[channel_id] = task
        self._posting.add(task)
        task.add_done_callback(self._posting.discard)
        task.add_done_callback(partial(self._posted, channel_id))
        try:
            return await asyncio.wait_for(asyncio.shield(task), POST_WAIT)
        except TimeoutError:  # still being posted, in order, in the background
            return True

    async def _post(
        self,
        previous: asyncio.Task[bool] | None,
        poster: AuditPoster,
        where: tuple[int, int],
        text: str,
        event: str,
    ) -> bool:
        community_id, channel_id = where
        if previous is not None and not previous.done():
            await asyncio.wait([previous])  # after the line before it
        try:
            await asyncio.wait_for(poster.post_audit(community_id, channel_id, text), POST_GIVE_UP)
        except Exception:  # the action it reports is done; a lost audit line must not undo or block it
            log.warning("audit line %s for community %s was not posted", event, community_id, exc_info=True)
            return False
        return True

    def _posted(self, channel_id: int, task: asyncio.Task[bool]) -> None:
        if self._tails.get(channel_id) is task:  # the channel's last line: nothing waits behind it
            del self._tails[channel_id]

    async def drain(self) -> None:
        """Wait for the lines still being posted (at shutdown)."""
        if self._posting:
            await asyncio.wait(set(self._posting), timeout=5)
