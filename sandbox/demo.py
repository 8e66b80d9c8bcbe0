"""`make demo`: the real bot against the local sandbox, with a simulated community acting for a week.

Nothing here is faked on the bot's side: the unmodified discord.py client connects to the sandbox's
gateway, receives the simulated community's events, writes its ledger, and answers a slash command.
The summary compares what the bot recorded with what the simulator sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from bot.config import Settings
from bot.ledger import iso
from sandbox.demo_brands import DemoClock, register_resident_brand, show_brand_partnership
from sandbox.demo_reddit import show_reddit_community
from sandbox.demo_tour import show_tour
from sandbox.simulator import SimAction, SimCommunity, last_utc_midnight, simulate

SENT_KINDS = ("message", "reply", "reaction", "unreaction", "thread", "join")


async def drive(sandbox: object, community: SimCommunity, *, progress: bool = False) -> Counter[str]:
    """Replay the simulated community's actions through the sandbox's gateway, in order."""
    sent: Counter[str] = Counter()
    joined: set[int] = set()
    total = len(community.events)
    step = max(1, total // 10)
    for i, action in enumerate(community.iter_actions()):
        await _send(sandbox, community, action, joined)
        sent[action.kind] += 1
        if progress and i % step == 0 and i:
            print(f"  … {i:,} / {total:,} events sent", flush=True)
    return sent


async def _send(sb: object, community: SimCommunity, a: SimAction, joined: set[int]) -> None:
    if a.kind == "join":
        member = community.member(a.actor_id)
        sb.add_member(community.guild_id, a.actor_id, joined_at=member.joined_at)  # type: ignore[attr-defined]
        joined.add(a.actor_id)
    elif a.kind in ("message", "reply"):
        await sb.send_message(  # type: ignore[attr-defined]
            a.channel_id,
            a.actor_id,
            "",
            reply_to=a.target_message_id if a.kind == "reply" else None,
            message_id=a.message_id,
            timestamp=a.at,
        )
    elif a.kind == "reaction":
        await sb.add_reaction(a.channel_id, a.target_message_id or a.message_id, a.actor_id, a.emoji or "👍")  # type: ignore[attr-defined]
    elif a.kind == "unreaction":
        await sb.remove_reaction(
            a.channel_id, a.target_message_id or a.message_id, a.actor_id, a.emoji or "👍"
        )  # type: ignore[attr-defined]
    elif a.kind == "thread":
        # A thread with its starter post (a forum post on a forum channel): same id for both.
        await sb.create_thread(  # type: ignore[attr-defined]
            a.channel_id, a.actor_id, f"thread-{a.message_id % 10_000}", thread_id=a.message_id
        )
        if community.channel(a.channel_id).type != 15:
            await sb.send_message(a.message_id, a.actor_id, "", message_id=a.message_id, timestamp=a.at)  # type: ignore[attr-defined]


def build_guild(sb: object, community: SimCommunity) -> None:
    """Create the simulated server in the sandbox: channels, users, and members who joined earlier."""
    sb.add_guild("Simulated Community", guild_id=community.guild_id)  # type: ignore[attr-defined]
    for ch in community.channels:
        if ch.type in (0, 4, 15):
            sb.add_channel(
                community.guild_id, ch.name, type=ch.type, parent_id=ch.parent_id, channel_id=ch.id
            )  # type: ignore[attr-defined]
    for m in community.members:
        sb.add_user(m.name, bot=m.is_bot, user_id=m.id, created_at=m.account_created_at)  # type: ignore[attr-defined]
        if m.joined_at < community.start:
            sb.add_member(community.guild_id, m.id, joined_at=m.joined_at, dispatch=False)  # type: ignore[attr-defined]


def pick_moderator(community: SimCommunity) -> int:
    """The member who runs the server in the demo: a quiet ordinary member who was there from the
    start (by the simulator's hidden labels), so the moderator is rarely among the trusted voices
    the brand side works with; the first human member when there is none."""
    ordinary = community.labels.get("ordinary", frozenset())
    there = [m for m in community.members if m.id in ordinary and m.joined_at < community.start]
    if not there:
        return next(m.id for m in community.members if not m.is_bot)
    authored = Counter(community.events.actor.tolist())
    return min(there, key=lambda m: (authored[m.id], m.id)).id


async def run_demo(*, members: int = 200, days: float = 7.0, seed: int = 7) -> int:
    import discord

    from bot.app import build_bot
    from sandbox.discord_server import DiscordSandbox
    from sandbox.redirect import point_discord_at

    started = time.perf_counter()
    end = last_utc_midnight()  # the same output at any time of day
    community = simulate(seed, members=members, days=days, start=end - timedelta(days=days))
    print(
        f"Simulated community: {len(community.members)} members, "
        f"{sum(1 for c in community.channels if c.type in (0, 15))} topic channels, "
        f"{len(community.events):,} events over {days:g} days (seed {seed})."
    )

    sandbox = DiscordSandbox()
    await sandbox.start()
    saved = (
        discord.http.Route.BASE,
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
        discord.asset.Asset.BASE,
    )
    point_discord_at(sandbox.api_base, sandbox.gateway_url)
    with tempfile.TemporaryDirectory(prefix="microvoice-demo-") as tmp:
        db = Path(tmp) / "microvoice.sqlite3"
        settings = Settings(
            discord_token=sandbox.token,
            db_path=db,
            command_guild_ids=(community.guild_id,),
            members_intent=True,  # the sandbox grants it, as the portal would; shows join events too
        )
        build_guild(sandbox, community)
        moderator = pick_moderator(community)
        # The sandbox sends every guild at once: no need to wait for late ones; the brand part moves the clock
        bot = build_bot(settings, clock=DemoClock(), guild_ready_timeout=0.05)
        runner = asyncio.create_task(bot.start(settings.discord_token))
        try:
            await sandbox.wait_ready(timeout=30)
            await asyncio.wait_for(bot.wait_until_ready(), timeout=30)
            print(f"Bot connected to the sandbox at {sandbox.api_base} and synced its slash commands.")
            sent = await drive(sandbox, community, progress=True)
            assert bot.app is not None
            app = bot.app
            expected = community.expected_counts()
            await _wait_recorded(app, sum(expected.values()))
            interaction = await sandbox.slash(
                community.guild_id,
                community.channels[1].id,
                moderator,
                "microvoice",
                subcommand="status",
                permissions=1 << 5,
            )
            await interaction.response()
            followup = await sandbox.wait_for_call("POST", _followup_route(sandbox), timeout=10)
            await _print_summary(app, community, sent, expected)
            await register_resident_brand(sandbox, bot, community, moderator=moderator)
            await _print_voices(app, community)
            status = followup.json["embeds"][0]
            print("\n/microvoice status, as the bot answered a moderator (ephemeral):")
            print(f"  {status['title']}")
            names = {c.id: c.name for c in community.channels}
            for line in status.get("description", "").splitlines():
                print("  " + re.sub(r"<#(\d+)>", lambda m: "#" + names.get(int(m.group(1)), "?"), line))
            recorded = await app.store.ledger_counts(community.guild_id, community.start - timedelta(days=1))
            await show_brand_partnership(sandbox, bot, community, moderator=moderator)
            await show_tour(sandbox, bot, community, moderator=moderator)
        finally:
            await bot.close()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
            await sandbox.stop()
            (
                discord.http.Route.BASE,
                discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
                discord.asset.Asset.BASE,
            ) = saved
    calls = Counter(f"{c.method} {c.route}" for c in sandbox.rest.calls)
    print("\nREST calls the bot made:")
    for route, n in calls.most_common():
        print(f"  {n:>5}  {route}")
    ok = all(recorded.get(k, 0) == v for k, v in expected.items())
    print(
        f"\n{'OK' if ok else 'MISMATCH'}: recorded counts {'equal' if ok else 'differ from'} what was sent "
        f"({time.perf_counter() - started:.1f} s)."
    )
    ok = await show_reddit_community() and ok
    return 0 if ok else 1


def _followup_route(sandbox: object) -> str:
    return next(
        (
            c.route
            for c in reversed(sandbox.rest.calls)
            if c.method == "POST" and c.route.startswith("/webhooks/")
        ),  # type: ignore[attr-defined]
        "/webhooks/{application_id}/{interaction_token}",
    )


async def _wait_recorded(app: object, expected_total: int, limit_s: float = 60) -> None:
    """The bot handles events concurrently; wait until its ledger caught up, flushing as we go."""
    deadline = time.monotonic() + limit_s
    while True:
        await app.ingest.flush()  # type: ignore[attr-defined]
        have = int(await app.store.scalar("SELECT count(*) FROM events"))  # type: ignore[attr-defined]
        if have >= expected_total or time.monotonic() > deadline:
            return
        await asyncio.sleep(0.1)


async def _print_summary(
    app: object, community: SimCommunity, sent: Counter[str], expected: dict[str, int]
) -> None:
    store = app.store  # type: ignore[attr-defined]
    since = community.start - timedelta(days=1)
    recorded = await store.ledger_counts(community.guild_id, since)
    bots_sent = sum(sent.values()) - sum(expected.values())
    print(
        f"\nEvents sent by the simulated community: {sum(sent.values()):,} "
        f"({bots_sent:,} of them by bot accounts, which Microvoice does not record)."
    )
    print(f"\n  {'kind':<12}{'sent (people)':>15}{'recorded':>10}")
    for kind in SENT_KINDS:
        mark = "" if recorded.get(kind, 0) == expected.get(kind, 0) else "   <- differs"
        print(f"  {kind:<12}{expected.get(kind, 0):>15,}{recorded.get(kind, 0):>10,}{mark}")
    by_channel = [  # the raw ledger, every removal its own row, as sent
        (int(c), "", int(n))
        for c, n in await store.fetch_all(
            "SELECT channel_id, count(*) FROM events WHERE community_id = ? AND created_at >= ?"
            " GROUP BY channel_id ORDER BY count(*) DESC, channel_id",
            (community.guild_id, iso(since)),
        )
    ]
    want = community.expected_counts_by_channel()
    names = {c.id: c.name for c in community.channels}
    print(f"\n  {'channel':<28}{'sent (people)':>15}{'recorded':>10}")
    for channel_id, _, n in by_channel[:12]:
        label = "(server: joins)" if channel_id == 0 else "#" + names.get(channel_id, str(channel_id))
        print(f"  {label[:27]:<28}{want.get(channel_id, 0):>15,}{n:>10,}")
    if len(by_channel) > 12:
        print(f"  … and {len(by_channel) - 12} more channels and threads")
    members = await store.scalar("SELECT count(*) FROM members WHERE is_bot = 0")
    print(f"\n  members known to the ledger: {members}; message text stored: none (metadata only)")


async def _print_voices(app: object, community: SimCommunity) -> None:
    """Rank the community with the real recompute and show the simulator's hidden roles beside it."""
    result = await app.voices.recompute(community.guild_id)  # type: ignore[attr-defined]
    page = await app.voices.top(community.guild_id, "all", per_page=10)  # type: ignore[attr-defined]
    print(
        f"\nTrusted voices ({result.scopes} scopes ranked in {result.seconds:.2f} s); "
        "the simulator's hidden role of each is shown for comparison:"
    )
    if not page.entries:
        print("  nobody has enough distinct peers yet")
    for e in page.entries:
        name = community.member(e.member_id).name
        print(
            f"  #{e.rank:<3}{name:<20}{community.label_of(e.member_id):<14}"
            f"{e.distinct_peers} distinct peers, {e.trusted_peers} of them trusted"
        )
