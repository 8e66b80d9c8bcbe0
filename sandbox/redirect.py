"""Point the unmodified discord.py client at the sandbox, and put discord.py back afterwards.

The redirect itself is the bot's own setting (`MICROVOICE_DISCORD_API_BASE`, applied by
:func:`bot.app.point_discord_at`, the single place that changes discord.py's endpoints). This module adds
what only the sandbox needs: its CDN at ``<origin>/cdn`` by default, and a snapshot/restore pair so tests
leave discord.py as they found it (:func:`discord_targets` / :func:`restore_discord_targets`).
"""

from __future__ import annotations

import discord.asset
import discord.gateway
import discord.http
import yarl

from bot import app

__all__ = ["DiscordTargets", "discord_targets", "point_discord_at", "restore_discord_targets"]

# (REST base, gateway URL, CDN base) as currently configured on the discord.py classes.
DiscordTargets = tuple[str, yarl.URL, str]


def _cdn_from_api_base(api_base: str) -> str:
    """Derive the sandbox CDN base ('<origin>/cdn') from its REST base, so callers need only two URLs."""
    url = yarl.URL(api_base)
    return str(url.origin() / "cdn")


def point_discord_at(api_base: str, gateway_url: str, *, cdn_base: str | None = None) -> None:
    """Send all discord.py REST, gateway and CDN traffic to the given endpoints.

    ``api_base`` is e.g. ``'http://127.0.0.1:PORT/api/v10'`` and ``gateway_url`` e.g.
    ``'ws://127.0.0.1:PORT/gateway'``. ``cdn_base`` defaults to ``<origin of api_base>/cdn``, which is where
    :class:`sandbox.discord_server.DiscordSandbox` serves assets.
    """
    app.point_discord_at(api_base, gateway_url, cdn_base or _cdn_from_api_base(api_base))


def discord_targets() -> DiscordTargets:
    """Snapshot the current endpoints so a test fixture can put them back afterwards."""
    return (
        discord.http.Route.BASE,
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
        discord.asset.Asset.BASE,
    )


def restore_discord_targets(targets: DiscordTargets) -> None:
    """Undo :func:`point_discord_at` using a snapshot from :func:`discord_targets`."""
    api_base, gateway, cdn = targets
    discord.http.Route.BASE = api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway
    discord.asset.Asset.BASE = cdn
