"""A local Discord API v10 stand-in (REST + Gateway) that the unmodified discord.py client can run against.

Why: Microvoice's end-to-end tests and demo must exercise the real discord.py code paths (login, gateway
IDENTIFY/RESUME, zlib-stream compression, rate-limit handling, interaction callbacks, views, modals) without a
network or a real bot account. The sandbox therefore speaks the documented wire protocol with realistic
payload shapes (string snowflakes, ISO8601 timestamps, full user/member/channel/guild/message objects) and
enforces the Discord behaviours the bot must cope with: privileged-intent gating, MESSAGE_CONTENT redaction,
per-session sequence numbers with resumable buffering, 429s with ``retry_after``, Discord-style JSON errors,
permission checks and validation (empty messages, component layout, and every documented size limit:
content, embeds, components, modals, autocomplete choices, names, topics, audit-log reasons).

Tests drive it through :class:`DiscordSandbox`: build a world (guilds, roles, channels, users, members),
inject user actions (messages, reactions, threads, slash commands, button clicks, modal submits), inject
faults (``fail_next``, ``drop_gateway``) and observe every REST call in :attr:`DiscordSandbox.rest`.

Layout, one module per protocol area, combined in :mod:`sandbox.discord_server.server`:

- ``protocol``, ``common``, ``recording``, ``state``: constants, helpers, the REST log, the stored state;
- ``core``: configuration, lifecycle, waiting; ``rest``: routing, faults, shared permission checks;
- ``gateway``: connections, IDENTIFY/RESUME, event dispatch; ``views``: observation and rendering;
- ``limits``: Discord's size limits on what a bot sends;
- ``messages``: message validation and construction; ``message_routes``: messages, pins, reactions;
- ``channels``: channels, overwrites, threads; ``guilds``: guilds, members, bans, roles;
- ``application``: users, gateway URL, application, commands; ``webhooks``: webhooks, interaction
  callbacks and followups; ``interactions``: injected interactions; ``world``: world building and
  injected user activity.
"""

from __future__ import annotations

from sandbox.discord_server.common import snowflake_from_time, snowflake_time
from sandbox.discord_server.interactions import Interaction
from sandbox.discord_server.protocol import (
    ALL_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    Intents,
    Permissions,
)
from sandbox.discord_server.recording import RecordedCall, RestLog
from sandbox.discord_server.server import DiscordSandbox

__all__ = [
    "ALL_PERMISSIONS",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "DiscordSandbox",
    "Intents",
    "Interaction",
    "Permissions",
    "RecordedCall",
    "RestLog",
    "snowflake_from_time",
    "snowflake_time",
]
