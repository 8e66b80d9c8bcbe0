"""The Reddit part of `make demo`: the simulated community lives on a sandbox subreddit too.

The real bot, with the real praw pointed at the Reddit sandbox, streams the subreddit into its ledger
while the simulated members post and comment; a member links their Reddit account with a one-time
code and gets one combined standing; a brand runs a disclosed giveaway in the subreddit (entries are
top-level comments), drawn with the same commit-reveal scheme as on Discord and checked here. It runs
on its own Discord and Reddit sandboxes, so the Discord part of the demo is untouched by it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.activations import disclosure, draw
from bot.activations.service import Actor, Proposal
from bot.activations.subreddit import RedditGiveawayTerms
from bot.app import MicrovoiceBot, build_bot
from bot.config import Settings
from bot.subreddits import ledger_id
from sandbox.demo_brands import DemoClock
from sandbox.reddit_server import RedditSandbox
from sandbox.reddit_server.state import Thing
from sandbox.simulator import SimCommunity, last_utc_midnight, simulate

SUBREDDIT = "SimKitchen"
BOT_ACCOUNT = "MicrovoiceBot"
AUTOMODERATOR = "AutoModerator"
BOT_PASSWORD = "sandbox-password"
BRAND = "Oatly Demo"
CODE = re.compile(r"MV-[A-Z2-9]{10}")
MADE = ("t1", "t3")  # what the demo counts: comments and posts
TOTAL_S = 120.0
HISTORY = timedelta(days=35)


async def show_reddit_community(*, members: int = 60, days: float = 7.0, seed: int = 11) -> bool:
    """Run the Reddit part and print what happens; True if everything checked out."""
    import discord

    from sandbox.discord_server import DiscordSandbox
    from sandbox.redirect import point_discord_at

    started = time.perf_counter()
    print("\n== Reddit: the simulated community on a sandbox subreddit ==")
    end = last_utc_midnight()  # as the Discord part's: the same subreddit at any time of day
    community = simulate(seed, members=members, days=days, start=end - timedelta(days=days))
    discord_sb, reddit_sb = DiscordSandbox(), RedditSandbox(ratelimit_window=1, ratelimit_budget=100_000)
    await discord_sb.start()
    await reddit_sb.start()
    saved = (
        discord.http.Route.BASE,
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
        discord.asset.Asset.BASE,
    )
    point_discord_at(discord_sb.api_base, discord_sb.gateway_url)
    bot: MicrovoiceBot | None = None
    runner: asyncio.Task[None] | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="microvoice-reddit-demo-") as tmp:
            owner = discord_sb.add_user("owner", created_at=datetime(2020, 1, 1, tzinfo=UTC))
            guild = discord_sb.add_guild("Sim Kitchen", owner_id=owner)
            general = discord_sb.add_channel(guild, "general")
            fan = discord_sb.add_user("riley", created_at=datetime(2021, 1, 1, tzinfo=UTC))
            contact = discord_sb.add_user("oat-brand", created_at=datetime(2021, 1, 1, tzinfo=UTC))
            for user in (owner, fan, contact):
                discord_sb.add_member(guild, user, joined_at=datetime(2024, 1, 1, tzinfo=UTC))
            settings = Settings(
                discord_token=discord_sb.token,
                db_path=Path(tmp) / "microvoice.sqlite3",
                command_guild_ids=(guild,),
                reddit_client_id=reddit_sb.client_id,
                reddit_client_secret=reddit_sb.client_secret,
                reddit_username=BOT_ACCOUNT,
                reddit_password=BOT_PASSWORD,
                reddit_owner="microvoice_demo",
                reddit_oauth_url=reddit_sb.url,
                reddit_url=reddit_sb.url,
                reddit_short_url=reddit_sb.url,
                reddit_poll_seconds=0.05,
                reddit_requests_per_minute=1_000_000,  # a local sandbox: no budget to keep to
                reddit_timeout=5,
            )
            bot = build_bot(settings, clock=DemoClock(), guild_ready_timeout=0.05)
            runner = asyncio.create_task(bot.start(settings.discord_token))
            await discord_sb.wait_ready(timeout=30)
            await asyncio.wait_for(bot.wait_until_ready(), timeout=30)
            demo = RedditDemo(discord_sb, reddit_sb, bot, community, guild, owner, general)
            ok = await asyncio.wait_for(demo.run(fan, contact), timeout=TOTAL_S)
    finally:
        if bot is not None:
            await bot.close()
        if runner is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
        await reddit_sb.stop()
        await discord_sb.stop()
        (
            discord.http.Route.BASE,
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
            discord.asset.Asset.BASE,
        ) = saved
    print(f"\n{'OK' if ok else 'MISMATCH'}: the Reddit part ({time.perf_counter() - started:.1f} s).")
    return ok


class RedditDemo:
    def __init__(
        self,
        discord_sb: object,
        reddit_sb: RedditSandbox,
        bot: MicrovoiceBot,
        community: SimCommunity,
        guild: int,
        owner: int,
        channel: int,
    ) -> None:
        assert bot.app is not None and bot.app.reddit is not None
        self.discord_sb, self.sb, self.bot, self.app = discord_sb, reddit_sb, bot, bot.app
        self.community, self.guild, self.owner, self.channel = community, guild, owner, channel
        self.accounts: dict[int, str] = {}
        self.things: dict[int, Thing] = {}  # simulated message id -> its post or comment

    async def _slash(self, user: int, name: str, options: dict[str, object], sub: list[str] | str) -> str:
        interaction = await self.discord_sb.slash(  # type: ignore[attr-defined]
            self.guild, self.channel, user, name, options, subcommand=sub, permissions=1 << 5
        )
        call = (await interaction.response()).json
        data = (await interaction.wait_followup()).json if call["type"] == 5 else call.get("data") or {}
        return str(data.get("content") or "")

    async def _rounds(self, n: int = 2) -> None:
        adapter = self.app.reddit
        target = adapter.rounds + n
        adapter.poll_now()
        while adapter.rounds < target and adapter.state == "running":  # noqa: ASYNC110 - a thread's counter
            await asyncio.sleep(0.01)

    async def run(self, fan: int, contact: int) -> bool:
        sub = self.sb.add_subreddit(
            SUBREDDIT,
            moderators=(BOT_ACCOUNT,),
            flairs=(*(c.name for c in self.community.channels if c.type in (0, 15)), "Sponsored"),
        )
        for m in self.community.members:
            if not m.is_bot:
                age = (datetime.now(UTC) - m.account_created_at).total_seconds() / 86400
                self.accounts[m.id] = re.sub(r"[^A-Za-z0-9_-]", "_", m.name)[:18] + "_r"
                self.sb.add_account(self.accounts[m.id], age_days=max(age, 1), karma=50 + m.id % 400)
        # The first half of the simulated week was posted before the subreddit was bound.
        middle = self.community.start + (self.community.end - self.community.start) / 2
        earlier = await self._drive(sub, until=middle)
        print(f"1. r/{SUBREDDIT} in the Reddit sandbox; a moderator binds it to the server")
        added = await self._slash(self.owner, "microvoice", {"subreddit": SUBREDDIT}, ["reddit", "add"])
        print(f"   /microvoice reddit add → {added.splitlines()[0]}")
        flair = await self._slash(
            self.owner, "microvoice", {"subreddit": SUBREDDIT, "flair": "Sponsored"}, ["reddit", "flair"]
        )
        print(f"   /microvoice reddit flair → {flair}")
        await self._rounds()
        later = await self._drive(sub, since=middle, live=True)
        made = {kind: earlier[kind] + later[kind] for kind in MADE}
        recorded, before = 0, -1
        while recorded < made["t1"] + made["t3"] and recorded != before:  # the streams catch up page by page
            before = recorded
            await self._rounds(3)
            since = self.community.start - HISTORY - timedelta(days=1)
            counts = await self.app.store.event_counts(self.guild, since)
            recorded = counts.get("comment", 0) + counts.get("submission", 0)
        print(
            f"2. Before the binding the simulated members had posted {earlier['t3']} posts and"
            f" {earlier['t1']} comments, read back when it was bound; then {later['t3']} posts and"
            f" {later['t1']} comments, streamed as they came. The bot recorded {recorded} of them"
            " (bots' items are not recorded)"
        )
        machinery_ok = await self._megathread(sub)
        await self.app.voices.recompute(self.guild)
        page = await self.app.voices.top(self.guild, "all", per_page=5)
        names = {ledger_id(self.sb.state.account(n).fullname): n for n in self.accounts.values()}
        machinery_ok = machinery_ok and AUTOMODERATOR not in {names.get(e.member_id) for e in page.entries}
        for e in page.entries:
            print(
                f"   #{e.rank:<3}u/{names.get(e.member_id, e.member_id)} ({e.distinct_peers} distinct peers)"
            )
        # The second listed (the first when a small or young subreddit lists only one).
        chosen = page.entries[min(1, len(page.entries) - 1)].member_id if page.entries else None
        linked_ok = await self._link(fan, chosen, names)
        giveaway_ok = await self._giveaway(contact, sub)
        # Every member's post and comment, those read back at the binding included.
        return recorded == made["t1"] + made["t3"] and machinery_ok and linked_ok and giveaway_ok

    async def _megathread(self, sub: object) -> bool:
        """AutoModerator's weekly thread, distinguished and stickied, that members comment in: its
        comments are recorded engaging nobody, and AutoModerator's own items not at all."""
        self.sb.add_account(AUTOMODERATOR)
        weekly = self.sb.post(sub, AUTOMODERATOR, "Weekly what-are-you-cooking thread")  # type: ignore[arg-type]
        weekly.distinguished, weekly.stickied = "moderator", True
        members = list(self.accounts.values())[:40]
        comments = [self.sb.comment(weekly, name, "…") for name in members]
        await self._rounds(3)
        store = self.app.store
        names = [c.fullname for c in comments]
        marks = ", ".join("?" * len(names))
        answered = await store.scalar(f"SELECT count(*) FROM events WHERE source_id IN ({marks})", names)
        engaging = await store.scalar(
            f"SELECT count(*) FROM events WHERE source_id IN ({marks}) AND target_id IS NOT NULL", names
        )
        own = await store.scalar("SELECT count(*) FROM events WHERE source_id = ?", (weekly.fullname,))
        print(
            f"   AutoModerator posts a weekly thread; {len(comments)} members comment in it: {answered}"
            f" comments recorded, {engaging} engaging its poster, the thread itself recorded {own} times"
            " (the subreddit's machinery is no member)"
        )
        return answered == len(comments) and engaging == 0 and own == 0

    async def _drive(
        self, sub: object, *, since: datetime | None = None, until: datetime | None = None, live: bool = False
    ) -> dict[str, int]:
        """The simulated community's posts and replies from `since` to `until`, as Reddit posts and
        comments (votes are not visible per user on Reddit, so reactions are not replayed); `live`:
        while the bot follows the subreddit, a few dozen between two polls."""
        things = self.things
        channels = {c.id: c for c in self.community.channels}
        made = dict.fromkeys(MADE, 0)
        for a in self.community.iter_actions():
            author = self.accounts.get(a.actor_id)
            outside = (since is not None and a.at < since) or (until is not None and a.at >= until)
            if author is None or outside:
                continue
            if a.kind in ("message", "thread") and a.target_message_id is None:
                channel = channels.get(a.channel_id)
                flair = channel.name if channel and channel.type in (0, 15) else None
                title = f"post {a.message_id % 10_000}"
                things[a.message_id] = self.sb.post(sub, author, title, flair=flair)  # type: ignore[arg-type]
                made["t3"] += 1
            elif a.kind == "reply" and a.target_message_id in things:
                things[a.message_id] = self.sb.comment(things[a.target_message_id], author, "…")
                made["t1"] += 1
            else:
                continue
            # When the simulated member wrote it, a month earlier: members who have been around that long
            # are the established ones the ranking is seeded on.
            things[a.message_id].created_utc = (a.at - HISTORY).timestamp()
            if live and (made["t1"] + made["t3"]) % 60 == 0:
                await self._rounds(1)
        return made

    async def _link(self, fan: int, reddit_id: int | None, names: dict[int, str]) -> bool:
        if reddit_id is None:
            print("3. nobody is ranked yet: no link to show")
            return False
        name = names[reddit_id]
        text = await self._slash(fan, "link", {"username": f"u/{name}"}, "reddit")
        code = CODE.search(text)
        if code is None:
            print(f"   /link reddit did not answer with a code: {text}")
            return False
        self.sb.send_message(name, BOT_ACCOUNT, "Microvoice link", code.group(0))
        await self._rounds()
        combined = await self.app.links.combined_standing(self.guild, fan)
        whole = next((c for c in combined if c.scope == "all"), None)
        print(f"3. A Discord member links u/{name} with a one-time code sent by private message")
        if whole is None:
            print("   the link did not complete")
            return False
        print(
            f"   combined standing: rank #{whole.rank} in the whole community ({whole.identities} identity"
            f" ranked, {whole.distinct_peers} distinct peers); unlinked accounts are never merged"
        )
        return True

    async def _giveaway(self, contact: int, sub: object) -> bool:
        store, clock = self.app.store, self.app.clock
        now = clock()
        brand = await store.create_brand(self.guild, BRAND, [contact], [], by=self.owner, now=now)
        await store.set_brand_status(
            self.guild, brand.id, expected="pending", status="approved", by=self.owner, now=now
        )
        mod = Actor(self.guild, self.owner, is_moderator=True)
        subreddit = ledger_id(self.sb.state.subreddit(SUBREDDIT).fullname, "t5")
        start = now + timedelta(minutes=5)
        activation, commitment = await self.app.reddit_activations.create_giveaway(
            mod,
            Proposal(brand.id, subreddit, start, start + timedelta(hours=2), "A year of oat milk", "gifted"),
            RedditGiveawayTerms("One entry per account. Shipping worldwide.", 3, min_account_days=7),
        )
        await self.app.activations.approve(mod, activation.id)
        clock.move_to(start + timedelta(minutes=1))
        await self.app.activations.run_due()
        post = next(t for t in self.sb.made_by_app() if t.kind == "t3")
        tag = disclosure.tag("en", BRAND, "gifted")
        print(f"4. {BRAND} runs a giveaway in r/{SUBREDDIT}, approved by a moderator; the bot's post:")
        print(f"   title: {post.title}")
        print(f"   body:  {post.body.splitlines()[0]} … (commitment {commitment[:16]}…)")
        print(f"   flair {post.flair_text!r}, stickied {post.stickied}, distinguished {post.distinguished!r}")
        for account in list(self.accounts.values())[:12]:
            self.sb.comment(post, account, "count me in")
        await self.app.reddit_activations.sync_live()
        clock.move_to(activation.ends_at + timedelta(minutes=1))
        await self.app.activations.run_due()
        await self.app.activations.idle(activation.id)
        result = next((t for t in self.sb.made_by_app() if t.kind == "t1"), None)
        entrants = await store.giveaway_entrants(activation.id)
        seed = await store.giveaway_seed_for_draw(activation.id) or ""
        winners = draw.draw(seed, entrants, 3)
        print(f"   {len(entrants)} eligible entries from top-level comments; results comment:")
        if result is None:
            print("   no results comment was posted")
            return False
        for line in result.body.split("\n\n")[:3]:
            print(f"   {line[:150]}")
        verified = draw.verify_commitment(seed, commitment) and all(
            f"u/{self.sb.state.account(n).name}" in result.body for n in (self._name_of(w) for w in winners)
        )
        disclosed = all(
            t.body.startswith(f"**{tag}**") and (t.kind != "t3" or t.title.startswith(tag))
            for t in self.sb.made_by_app()
        )
        print(
            f"   draw recomputed from the seed and the entrant list: {'matches' if verified else 'DIFFERS'};"
            f" disclosure first on all {len(self.sb.made_by_app())} of the bot's posts and comments:"
            f" {'yes' if disclosed else 'NO'}"
        )
        return verified and disclosed

    def _name_of(self, member_id: int) -> str:
        for name in self.accounts.values():
            if ledger_id(self.sb.state.account(name).fullname) == member_id:
                return name
        return ""
