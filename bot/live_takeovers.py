"""Which channels have a live takeover, in memory, so the message listener asks the database only
about messages in those channels (a handful at most) instead of about every member message.

Loaded at start; the store tells it when an activation of a community changed state or got its post
(`Store.watch_activations`), and that community's channels are read again. Until the reload is done
the community counts as "may have a takeover anywhere", so no message is missed in between: the
answer may be a false "maybe" (the takeover service then finds nothing), never a false "no".
"""

from __future__ import annotations

import asyncio
import logging

from bot.store import Store

log = logging.getLogger(__name__)


class LiveTakeovers:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._channels: dict[int, set[int]] = {}
        self._stale: set[int] = set()
        self._generation: dict[int, int] = {}
        self._loaded = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def load(self) -> None:
        """Read every live takeover's channels, and follow the store's changes from now on."""
        if not self._loaded:
            self.store.watch_activations(self.changed)
        channels: dict[int, set[int]] = {}
        for community_id, channel_id in await self.store.live_takeover_channels():
            channels.setdefault(community_id, set()).add(channel_id)
        self._channels = channels
        self._loaded = True

    def may_have(self, community_id: int, channel_id: int) -> bool:
        """False only when no takeover is live in this channel."""
        if not self._loaded or community_id in self._stale:
            return True
        return channel_id in self._channels.get(community_id, ())

    def changed(self, community_id: int) -> None:
        self._stale.add(community_id)
        generation = self._generation[community_id] = self._generation.get(community_id, 0) + 1
        try:
            task = asyncio.get_running_loop().create_task(self._reload(community_id, generation))
        except RuntimeError:  # no loop (a script): stays "maybe" for this community
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reload(self, community_id: int, generation: int) -> None:
        try:
            channels = await self.store.live_takeover_channels_of(community_id)
        except Exception:  # stays "maybe" for this community: correct, only slower
            log.exception("could not read the live takeovers of community %s", community_id)
            return
        if self._generation.get(community_id) != generation:
            return  # changed again meanwhile: the newer reload decides
        self._channels[community_id] = channels
        self._stale.discard(community_id)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
