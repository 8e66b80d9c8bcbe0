"""Which of discord.py's own rate-limit records the bot drops after a gap fill: only those that hold
nothing back (real `discord.http` objects, no Discord needed)."""

from __future__ import annotations

import asyncio

import discord.http

from bot.discord_adapter.messages import forget_idle_ratelimits


def records() -> dict[str, discord.http.Ratelimit]:
    idle, spent, limited, in_flight, waiting = (discord.http.Ratelimit(None) for _ in range(5))
    loop = asyncio.get_running_loop()
    spent.remaining, spent.expires = 0, loop.time() - 1  # its window is over
    limited.remaining, limited.expires = 0, loop.time() + 30
    in_flight.outgoing = 1
    waiting._pending_requests.append(loop.create_future())
    return {"idle": idle, "spent": spent, "limited": limited, "in_flight": in_flight, "waiting": waiting}


async def test_only_records_that_hold_nothing_back_are_dropped():
    http = discord.http.HTTPClient(asyncio.get_running_loop())
    http._buckets.update(records())
    assert forget_idle_ratelimits(http) == 2
    assert sorted(http._buckets) == ["in_flight", "limited", "waiting"]
    await http.close()


async def test_a_client_without_such_records_is_left_alone():
    class Elsewhere:  # another discord.py version: no `_buckets`
        pass

    assert forget_idle_ratelimits(Elsewhere()) == 0  # type: ignore[arg-type]
