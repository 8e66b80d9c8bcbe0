"""`DiscordSandbox`: every protocol area of the sandbox combined into the one object tests drive."""

from __future__ import annotations

from sandbox.discord_server.application import ApplicationRoutes
from sandbox.discord_server.channels import ChannelRoutes
from sandbox.discord_server.gateway import Gateway
from sandbox.discord_server.guilds import GuildRoutes
from sandbox.discord_server.interactions import Interactions
from sandbox.discord_server.message_routes import MessageRoutes
from sandbox.discord_server.messages import MessageBuilding
from sandbox.discord_server.rest import RestRouting
from sandbox.discord_server.views import StateViews
from sandbox.discord_server.webhooks import WebhookRoutes
from sandbox.discord_server.world import WorldBuilding


class DiscordSandbox(
    WorldBuilding,
    Interactions,
    Gateway,
    RestRouting,
    MessageBuilding,
    MessageRoutes,
    ChannelRoutes,
    ApplicationRoutes,
    WebhookRoutes,
    GuildRoutes,
    StateViews,
):
    """A local Discord (REST + Gateway + CDN) for discord.py; see the package docstring for the why.

    Typical use::

        sandbox = DiscordSandbox(); await sandbox.start()
        guild = sandbox.add_guild("Test"); chan = sandbox.add_channel(guild, "general")
        point_discord_at(sandbox.api_base, sandbox.gateway_url)
        task = asyncio.create_task(client.start(sandbox.token)); await sandbox.wait_ready()

    Each base class is one protocol area (module of this package); they share ``self.state``
    (:class:`~sandbox.discord_server.state.SandboxState`) and the helpers of
    :class:`~sandbox.discord_server.core.SandboxCore`.
    """
