"""The commands' Reddit calls (`RedditAdapter.call`) run one at a time on their own thread: waiting
for Reddit (a rate limit's pause) they hold none of the default executor's threads, which the
ranking and the reports use."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any

from bot.config import Settings
from reddit.adapter import RedditAdapter


def adapter() -> RedditAdapter:
    settings = Settings(discord_token="x")
    return RedditAdapter(settings, make_client=lambda _settings: object())  # type: ignore[arg-type,return-value]


async def test_calls_run_one_at_a_time_off_the_default_executor() -> None:
    loop = asyncio.get_running_loop()
    loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(2))  # as on a small host
    reddit = adapter()
    release = threading.Event()
    names: list[str] = []

    def slow(_client: Any) -> str:
        names.append(threading.current_thread().name)
        release.wait(5)
        return "slow"

    def quick(_client: Any) -> str:
        names.append(threading.current_thread().name)
        return "quick"

    first = asyncio.create_task(reddit.call(slow))
    second = asyncio.create_task(reddit.call(quick))
    await asyncio.sleep(0.05)
    # Both are waiting on Reddit's side; the default executor's two threads are free for the rest.
    busy = [asyncio.to_thread(lambda: "free") for _ in range(40)]
    assert await asyncio.wait_for(asyncio.gather(*busy), 2) == ["free"] * 40
    assert names == [names[0]] and names[0].startswith("reddit-commands")  # the second waits its turn
    release.set()
    assert await first == "slow" and await second == "quick"
    assert names[1] == names[0]
    await reddit.stop()
