"""A bare discord.py client with the bot's gateway settings, for bench/memory.py to compare against.

It imports nothing but discord.py, connects, and stays connected until it is terminated. Run by the
benchmark as `python -m bench.bare_client` with the same environment as the bot:
DISCORD_TOKEN, MICROVOICE_DISCORD_API_BASE, MICROVOICE_DISCORD_GATEWAY_URL and
MICROVOICE_MEMBERS_INTENT. The intents are those `bot.app.intents_for` asks for.
"""

from __future__ import annotations

import asyncio
import os

import discord
import discord.gateway
import discord.http
import yarl


def intents(members: bool) -> discord.Intents:
    chosen = discord.Intents.none()
    chosen.guilds = True
    chosen.guild_messages = True
    chosen.guild_reactions = True
    chosen.moderation = True
    chosen.members = members
    return chosen


async def run() -> None:
    discord.http.Route.BASE = os.environ["MICROVOICE_DISCORD_API_BASE"].rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["MICROVOICE_DISCORD_GATEWAY_URL"])
    members = os.environ.get("MICROVOICE_MEMBERS_INTENT", "").lower() in ("1", "true", "yes", "on")
    client = discord.Client(intents=intents(members), allowed_mentions=discord.AllowedMentions.none())
    async with client:
        await client.start(os.environ["DISCORD_TOKEN"])


if __name__ == "__main__":
    asyncio.run(run())
