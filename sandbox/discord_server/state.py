"""Everything the sandbox holds: the Discord objects tests build and the bot creates, and the live
gateway sessions, connections and injected faults. The protocol areas read and change it through
``self.state``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox.discord_server.common import Snowflakes

if TYPE_CHECKING:
    from sandbox.discord_server.gateway import GatewayConnection, GatewaySession
    from sandbox.discord_server.interactions import InteractionState
    from sandbox.discord_server.recording import Fault


@dataclass
class StoredGuild:
    data: dict[str, Any]
    roles: dict[int, dict[str, Any]]
    members: dict[int, dict[str, Any]]
    bans: dict[int, dict[str, Any]] = field(default_factory=dict)
    bot_role_id: int = 0


@dataclass
class SandboxState:
    """Stored objects by id; their private ``_``-prefixed keys are bookkeeping never sent to clients."""

    ids: Snowflakes = field(default_factory=Snowflakes)
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    guilds: dict[int, StoredGuild] = field(default_factory=dict)
    channels: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    channel_messages: dict[int, list[int]] = field(default_factory=dict)
    webhooks: dict[int, dict[str, Any]] = field(default_factory=dict)
    global_commands: dict[int, dict[str, Any]] = field(default_factory=dict)
    guild_commands: dict[int, dict[int, dict[str, Any]]] = field(default_factory=dict)
    interactions: dict[int, InteractionState] = field(default_factory=dict)
    modals: dict[str, InteractionState] = field(default_factory=dict)
    dm_channels: dict[int, int] = field(default_factory=dict)
    dms_closed: set[int] = field(default_factory=set)
    # Uploaded attachments served by the CDN: path -> (bytes, content type).
    cdn: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    # Guilds in an outage on Discord's side: their events are not sent until they are back.
    outages: set[int] = field(default_factory=set)
    sessions: dict[str, GatewaySession] = field(default_factory=dict)
    connections: list[GatewayConnection] = field(default_factory=list)
    # Gateway frames queued but not yet written (see DiscordSandbox.flush).
    pending_frames: set[asyncio.Future[None]] = field(default_factory=set)
    # Set once a client IDENTIFYed and got READY plus its GUILD_CREATEs.
    ready: asyncio.Event = field(default_factory=asyncio.Event)
