"""Ingest reliability through the sandbox: writes during a flood with bounded memory and bounded loss
on SIGKILL (bot subprocesses), no member text in any log line or table, gap fill after a downtime or a
session that could not resume, and a start-up that never depends on the command sync."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

import bot.app as bot_app
from bench.flood import BotProcess, build, flood
from bot.gapfill import GapFill
from sandbox.discord_server import DiscordSandbox
from tests.e2e.conftest import MANAGE_GUILD, Harness, Launcher, eventually

SENTINEL = "qx-SENTINEL-ab41c9-what-was-said"
SYNC_ROUTE = "/applications/{application_id}/guilds/{guild_id}/commands"


async def recorded_ids(h: Harness) -> list[int]:
    rows = await h.rows("SELECT source_id FROM events WHERE kind IN ('message', 'reply')")
    return sorted(int(r[0]) for r in rows)


# -- a flood faster than the writer, in a bot process --------------------------------------------------

N = 20_000


@pytest.mark.timeout(240)
async def test_rows_are_written_while_a_flood_lasts_and_memory_stays_bounded(tmp_path: Path):
    sb = DiscordSandbox()
    await sb.start()
    try:
        world = build(sb)
        # A small buffer and a window longer than the flood: during the flood only full batches and
        # back-pressure move events; the last partial batch follows within the window (5 s).
        bot = BotProcess(
            sb, world, tmp_path, "microvoice", MICROVOICE_INGEST_BATCH_SIZE="200",
            MICROVOICE_INGEST_FLUSH_MS="5000",
        )  # fmt: skip
        await bot.start()
        # Sampled every 20 ms. Sent at 10,000 events a second (two seconds): unpaced, the whole flood
        # can reach the socket before a loaded machine runs the bot at all, and then no row can be
        # written while it lasts.
        result = await flood(sb, world, bot, N, rate=10_000, slash_at=0.3, sample_every=0.02)
        err = await bot.stop()
    finally:
        await sb.stop()
    assert result.committed == N, err[-2000:]
    assert result.rows_during_flood > 0, result.timeline
    growing = [r for _, r in result.timeline if 0 < r < N]
    assert len(set(growing)) >= 5, f"rows should appear continuously: {result.timeline}"
    assert result.rss_peak_mb < result.rss_idle_mb + 150, (result.rss_idle_mb, result.rss_peak_mb)
    assert result.slash_ms is not None and result.slash_ms < 3000


@pytest.mark.timeout(240)
async def test_a_sigkill_loses_at_most_the_flush_window(tmp_path: Path):
    sb = DiscordSandbox()
    await sb.start()
    try:
        world = build(sb)
        bot = BotProcess(sb, world, tmp_path, "microvoice", MICROVOICE_INGEST_FLUSH_MS="500")
        await bot.start(("-m", "bot", "run"))  # the shipped entry point
        result = await flood(sb, world, bot, 20_000, rate=2_000, kill_after=3.0)
        await bot.stop()
    finally:
        await sb.stop()
    assert result.killed_at is not None and result.committed > 4_000
    # What was lost was sent within the flush window (500 ms) plus one batch write and the socket.
    assert result.lost_window_s < 1.5, (result.lost, result.lost_window_s)


# -- no member text anywhere ---------------------------------------------------------------------------


async def test_no_member_text_in_any_log_line_or_table(
    launcher: Launcher, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    """With the Message Content intent on, messages carrying a sentinel (some mentioning the bot, so a
    text-command prefix would match) leave no trace in the logs or the database."""
    caplog.set_level(logging.DEBUG)
    logging.getLogger("discord").setLevel(logging.INFO)  # as `python -m bot run` configures it
    try:
        h = await launcher.start("db.sqlite3", message_content_intent=True)
        w, sb = h.world, h.sandbox
        me = sb.bot_user_id
        seen: list[str] = []

        async def keep(message: Any) -> None:
            seen.append(message.content)

        h.bot.add_listener(keep, "on_message")
        previous = None
        for i in range(150):
            text = f"<@{me}> {SENTINEL} {i}" if i % 3 == 0 else f"{SENTINEL} says {i}"
            author = (w.alice, w.bob, w.carol)[i % 3]
            reply_to = int(previous["id"]) if previous is not None and i % 5 == 0 else None
            previous = await sb.send_message(w.general, author, text, reply_to=reply_to)
        await sb.create_thread(w.general, w.bob, SENTINEL[:30])
        await h.flush()
        assert sum(SENTINEL in s for s in seen) == 150, "the bot did receive the text"
        assert await h.count() >= 150
        tables = [r[0] for r in await h.rows("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in await h.rows(f'SELECT * FROM "{table}"'):
                assert not any(SENTINEL[:12] in str(v) for v in row), f"text stored in {table}: {row}"
        await launcher.stop(h)
    finally:
        logging.getLogger("discord").setLevel(logging.NOTSET)
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("db.sqlite3"))
    assert SENTINEL[:12].encode() not in blob
    lines = [r.getMessage() + (r.exc_text or "") for r in caplog.records]
    assert lines, "log records were captured"
    assert not [line for line in lines if SENTINEL[:12] in line]
    assert not [line for line in lines if "CommandNotFound" in line or "is not found" in line]


# -- gap fill ------------------------------------------------------------------------------------------


@pytest.mark.both_backends
async def test_messages_and_replies_sent_while_the_bot_was_down_reach_the_ledger_once(launcher: Launcher):
    h = await launcher.start()
    w, sb = h.world, h.sandbox
    before = [await sb.send_message(w.general, w.alice, "") for _ in range(3)]
    before.append(await sb.send_message(w.cooking, w.bob, ""))
    await h.flush()
    await launcher.stop(h)

    during = [await sb.send_message(w.general, w.bob, "", reply_to=int(before[0]["id"]))]
    during += [await sb.send_message(w.general, w.carol, "") for _ in range(250)]  # more than a page
    during.append(await sb.send_message(w.general, w.alice, "", reply_to=int(during[1]["id"])))
    during.append(await sb.send_message(w.cooking, w.alice, ""))
    await sb.add_reaction(w.general, int(before[1]["id"]), w.carol)  # not recoverable

    h = await launcher.start()
    await eventually(lambda: h.app.gapfill.last is not None, "the gap fill", timeout=15)
    await h.flush()
    assert await recorded_ids(h) == sorted(int(m["id"]) for m in before + during)
    assert await h.rows("SELECT actor_id, target_id FROM events WHERE kind = 'reply' ORDER BY id") == [
        (w.bob, w.alice),
        (w.alice, w.carol),
    ]
    assert await h.count("reaction") == 0  # reactions added while down are not in history
    requests = sb.rest.find("GET", "/channels/{channel_id}/messages")
    assert all(int(c.query["limit"]) <= 100 and "after" in c.query for c in requests)
    assert h.app.gapfill.last.requests == len(requests) == 4  # general: 100, 100, 53; cooking: 1


async def test_channels_and_threads_first_written_in_while_the_bot_was_down_are_read_back(
    launcher: Launcher,
):
    h = await launcher.start()
    w, sb = h.world, h.sandbox
    first = await sb.send_message(w.general, w.alice, "")
    quiet = sb.add_channel(w.guild, "quiet")  # exists before, nothing said in it until the downtime
    idle = sb.add_channel(w.guild, "idle")  # nothing said in it at all
    await h.flush()
    await launcher.stop(h)

    fresh = sb.add_channel(w.guild, "new-while-down")
    during = [await sb.send_message(fresh, w.bob, "") for _ in range(3)]
    thread = await sb.create_thread(w.cooking, w.carol, "A thread opened while down")
    during += [await sb.send_message(int(thread["id"]), u, "") for u in (w.alice, w.bob)]
    during.append(await sb.send_message(quiet, w.carol, ""))

    h = await launcher.start()
    await eventually(lambda: h.app.gapfill.last is not None, "the gap fill", timeout=15)
    await h.flush()
    recorded = await recorded_ids(h)
    assert all(int(m["id"]) in recorded for m in [first, *during]), "a message sent while down is missing"
    assert len(recorded) == len(set(recorded))
    # Only channels with something new are read.
    read = {c.path for c in sb.rest.find("GET", "/channels/{channel_id}/messages")}
    assert f"/channels/{idle}/messages" not in read and f"/channels/{quiet}/messages" in read


async def test_a_message_written_before_the_gap_fill_starts_does_not_hide_the_gap(
    launcher: Launcher, monkeypatch: pytest.MonkeyPatch
):
    """discord.py fires `on_ready` only once every guild arrived (and its members were chunked):
    live messages of the new session are written before the gap fill starts, and they move the
    channel's cursor past the gap. The gap begins where the cursor stood at the session's READY."""
    h = await launcher.start()
    w, sb = h.world, h.sandbox
    await sb.send_message(w.general, w.alice, "")
    await h.flush()
    await launcher.stop(h)

    during = [await sb.send_message(w.general, w.bob, "") for _ in range(3)]
    gate = asyncio.Event()
    real = GapFill.run

    async def late(self: GapFill, *args: Any, **kwargs: Any) -> Any:
        await gate.wait()  # a slow `on_ready`: guilds still arriving, members being chunked
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(GapFill, "run", late)
    monkeypatch.setattr(bot_app, "GAP_FILL_WAIT", 0.0)  # the start-up digest does not wait on it here
    h = await launcher.start()
    live = await sb.send_message(w.general, w.carol, "")
    await h.flush()
    assert int(live["id"]) in await recorded_ids(h)
    gate.set()
    await eventually(lambda: h.app.gapfill.last is not None, "the gap fill", timeout=15)
    await h.flush()
    recorded = await recorded_ids(h)
    assert all(int(m["id"]) in recorded for m in during), "a message sent while down is missing"
    assert len(recorded) == len(set(recorded)) == 5


async def test_the_gap_fill_leaves_no_rate_limit_records_behind(launcher: Launcher):
    """discord.py keeps a rate-limit record for each channel whose history is read, and drops it only
    when a later request finds it unused for five minutes. The gap fill reads every recorded channel
    once: an idle bot kept every record (8,430, about 10 MB, after a server of 16,669 channels)."""
    h = await launcher.start()
    w, sb = h.world, h.sandbox
    topics = [sb.add_channel(w.guild, f"topic-{i}", parent_id=w.category) for i in range(60)]
    for channel in topics:
        await sb.send_message(channel, w.alice, "")
    await h.flush()
    await launcher.stop(h)
    for channel in topics[:5]:
        await sb.send_message(channel, w.bob, "")

    h = await launcher.start()
    await eventually(lambda: h.app.gapfill.last is not None, "the gap fill", timeout=15)
    # The five sent while down, and perhaps the harness's own marker read again in #general (a bot's
    # message moves no cursor).
    assert h.app.gapfill.last.requests >= 60 and h.app.gapfill.last.fetched in (5, 6)
    history = {c.path for c in h.rest.find("GET", "/channels/{channel_id}/messages")}
    assert len(history) >= 60
    # What is left: the routes the bot itself uses outside the gap fill (command sync, ...).
    assert len(h.bot.http._buckets) < 10


async def test_a_channel_whose_history_fails_holds_back_no_other_channels_gap(launcher: Launcher):
    """Discord answers 503 for one channel's history (discord.py does not retry a 503): that channel
    is counted unreadable, and the gap fill goes on to the others."""
    h = await launcher.start()
    w, sb = h.world, h.sandbox
    await sb.send_message(w.cooking, w.bob, "")
    await sb.send_message(w.general, w.alice, "")
    await h.flush()
    await launcher.stop(h)

    cooking = [await sb.send_message(w.cooking, w.alice, "") for _ in range(2)]
    await sb.send_message(w.general, w.carol, "")  # the busiest channel: read first, and it fails
    sb.fail_next("GET", f"/channels/{w.general}/messages", status=503)

    h = await launcher.start()
    await eventually(lambda: h.app.gapfill.last is not None, "the gap fill", timeout=15)
    await h.flush()
    assert h.app.gapfill.last.unavailable == 1
    recorded = await recorded_ids(h)
    assert all(int(m["id"]) in recorded for m in cooking)


@pytest.mark.both_backends
async def test_a_session_that_could_not_resume_fills_its_gap(harness: Harness):
    w, sb = harness.world, harness.sandbox
    await sb.send_message(w.general, w.alice, "")
    await harness.flush()
    first_fill = await eventually(lambda: harness.app.gapfill.last, "the start-up gap fill")
    await sb.invalidate_session(resumable=False)
    lost = [await sb.send_message(w.general, w.bob, "") for _ in range(5)]  # no session to deliver to
    # discord.py identifies again (a new session: READY, on_ready) and the gap is filled.
    await eventually(lambda: harness.app.gapfill.last is not first_fill, "the new session's gap fill", 30)
    assert harness.app.gapfill.last.requests >= 1
    await harness.flush()
    recorded = await recorded_ids(harness)
    assert all(int(m["id"]) in recorded for m in lost)
    assert len(recorded) == len(set(recorded)) == 6


async def test_a_server_back_from_an_outage_fills_its_gap(harness: Harness):
    """Discord marks a server unavailable (GUILD_DELETE, `unavailable`) and sends none of its events
    until its GUILD_CREATE, within one session: the messages sent meanwhile are read back once it is
    back. Before, only a new session filled a gap, and they were lost."""
    w, sb = harness.world, harness.sandbox
    await sb.send_message(w.general, w.alice, "")
    await harness.flush()
    first_fill = await eventually(lambda: harness.app.gapfill.last, "the start-up gap fill")
    await sb.guild_outage(w.guild)
    lost = [await sb.send_message(w.general, w.bob, "") for _ in range(4)]  # not sent to the bot
    await sb.guild_back(w.guild)
    await eventually(lambda: harness.app.gapfill.last is not first_fill, "the server's gap fill", 30)
    await harness.flush()
    recorded = await recorded_ids(harness)
    assert all(int(m["id"]) in recorded for m in lost)
    assert len(recorded) == len(set(recorded)) == 5


async def test_a_server_still_unavailable_when_the_session_starts_is_filled_once_back(launcher: Launcher):
    """READY lists every server unavailable; one still in an outage follows with a GUILD_CREATE that
    says `unavailable: true`, then none of its events until its full GUILD_CREATE. The session's gap
    fill finds nothing of it to read, and what is sent until it is back never arrives live: both are
    read back once it is available. Before, only a server that went down during a session was."""
    h = await launcher.start()
    w, sb = h.world, h.sandbox
    await sb.send_message(w.general, w.alice, "")
    await h.flush()
    await launcher.stop(h)
    await sb.guild_outage(w.guild)
    down = [await sb.send_message(w.general, w.bob, "") for _ in range(2)]  # while the bot is down
    h = await launcher.start(wait_for_guilds=False)
    first_fill = await eventually(lambda: h.app.gapfill.last, "the start-up gap fill")
    guild = h.bot.get_guild(w.guild)
    assert guild is not None and guild.unavailable
    assert {"id": str(w.guild), "unavailable": True} in [d for e, d in sb.dispatched if e == "GUILD_CREATE"]
    during = [await sb.send_message(w.general, w.carol, "") for _ in range(2)]  # not sent to the bot
    await sb.guild_back(w.guild)
    await eventually(lambda: h.app.gapfill.last is not first_fill, "the server's gap fill", 30)
    await h.flush()
    recorded = await recorded_ids(h)
    assert all(int(m["id"]) in recorded for m in down + during)
    assert len(recorded) == len(set(recorded)) == 5


async def test_a_session_that_begins_while_a_gap_fill_runs_is_filled_after_it(
    launcher: Launcher, monkeypatch: pytest.MonkeyPatch
):
    """The start-up gap fill is still running (a long history) when the session drops and cannot
    resume: the new session's gap is filled once the running fill ends, not skipped."""
    gate = asyncio.Event()
    runs: list[int] = []
    real = GapFill.run

    async def slow_first(self: GapFill, *args: Any, **kwargs: Any) -> Any:
        runs.append(len(runs))
        if len(runs) == 1:
            await gate.wait()  # the start-up fill, reading a long history
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(GapFill, "run", slow_first)
    monkeypatch.setattr(bot_app, "GAP_FILL_WAIT", 0.0)  # the start-up digest does not wait on it here
    h = await launcher.start()
    w, sb = h.world, h.sandbox
    await eventually(lambda: runs == [0], "the start-up gap fill to begin")
    await sb.send_message(w.general, w.alice, "")
    await h.flush()
    readied: list[int] = []

    async def on_ready() -> None:
        readied.append(1)

    h.bot.add_listener(on_ready, "on_ready")
    await sb.invalidate_session(resumable=False)
    lost = [await sb.send_message(w.general, w.bob, "") for _ in range(4)]  # no session to deliver to
    await eventually(lambda: readied == [1], "the new session's on_ready, the first fill running", 30)
    await asyncio.sleep(0.1)
    assert runs == [0]
    gate.set()
    await eventually(lambda: len(runs) == 2 and h.app.gapfill.last is not None, "the second gap fill", 30)
    await eventually(lambda: not h.app.gapfill._lock.locked(), "the second gap fill to end", 15)
    await h.flush()
    recorded = await recorded_ids(h)
    assert all(int(m["id"]) in recorded for m in lost)
    assert len(recorded) == len(set(recorded)) == 5


async def test_one_shard_that_could_not_resume_fills_its_servers_gap(launcher: Launcher):
    """A process running two shards: one shard's session cannot resume while the other keeps its
    own. discord.py fires `on_shard_ready` for it and no `on_ready`; its servers' gap is filled."""
    h = await launcher.start(shard_count=2)
    w, sb = h.world, h.sandbox
    await sb.send_message(w.general, w.alice, "")
    await h.flush()
    first_fill = await eventually(lambda: h.app.gapfill.last, "the start-up gap fill")
    await sb.invalidate_session(resumable=False, shard=(w.guild >> 22) % 2)
    lost = [await sb.send_message(w.general, w.bob, "") for _ in range(5)]  # no session to deliver to
    await eventually(lambda: h.app.gapfill.last is not first_fill, "the shard's gap fill", 30)
    await h.flush()
    recorded = await recorded_ids(h)
    assert all(int(m["id"]) in recorded for m in lost)
    assert len(recorded) == len(set(recorded)) == 6


# -- start-up never depends on the command sync --------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "fault"),
    [
        (400, dict(code=50035, message="Invalid Form Body: options[0].name is invalid")),
        (503, dict(message="upstream connect error")),
        (429, dict(retry_after=3600.0, code=30034, message="Max number of daily command creates")),
    ],
)
async def test_a_failing_command_sync_neither_stops_nor_delays_recording(
    launcher: Launcher, caplog: pytest.LogCaptureFixture, status: int, fault: dict[str, Any]
):
    # A first run registers the commands; the next one must sync again (its record is gone) and fails.
    h = await launcher.start()
    await h.app.command_sync.wait()
    await h.app.store.db.execute("DELETE FROM bot_state WHERE key LIKE 'command_tree:%'")
    await launcher.stop(h)
    sb = launcher.sandbox
    sb.fail_next("PUT", SYNC_ROUTE, status=status, **fault)
    caplog.set_level(logging.INFO, logger="bot")
    loop = asyncio.get_running_loop()
    started = loop.time()
    h = await launcher.start()
    assert loop.time() - started < 10
    await sb.send_message(h.world.general, h.world.alice, "")
    await h.flush()
    assert await h.count("message") == 1  # the ledger records from the first event
    if status == 429:
        # discord.py is waiting out the rate limit in the background: nothing failed, nothing held.
        assert h.app.command_sync.state.ok is False
        return
    state = await eventually(lambda: h.app.command_sync.state.error, "the failed sync")
    assert fault["message"] in state and f"guild {h.world.guild} in MICROVOICE_COMMAND_GUILD_IDS" in state
    sync = h.app.command_sync.state
    if status == 400:
        # The commands as they are will never be accepted: stopped at once, not retried.
        assert sync.permanent and sync.next_attempt_at is None and "not retried" in state
        said = [r for r in caplog.records if "command sync refused" in r.getMessage()]
        assert [r.levelno for r in said] == [logging.ERROR]
    else:
        assert not sync.permanent and sync.next_attempt_at is not None
        said = [r for r in caplog.records if "command sync failed" in r.getMessage()]
        assert [r.levelno for r in said] == [logging.WARNING]
    assert fault["message"] in said[0].getMessage()
    interaction = await h.slash("microvoice", h.world.owner, subcommand="status", permissions=MANAGE_GUILD)
    await interaction.response()
    followup = await sb.wait_for_call("POST", "/webhooks/{application_id}/{interaction_token}")
    assert "could not be registered" in followup.json["embeds"][0]["description"]


async def test_the_digest_caught_up_at_start_up_waits_for_the_gap_fill(
    launcher: Launcher, monkeypatch: pytest.MonkeyPatch
):
    """A weekly digest due while the bot was down is claimed once and never redone: at start-up it is
    made once the gap fill read back what was sent meanwhile, not before (it missed those messages)."""
    from bot.reports.service import ReportService

    order: list[str] = []
    fill, digests = GapFill.run, ReportService.run_digests

    async def slow_fill(self: GapFill, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.3)  # a history being read back
        try:
            return await fill(self, *args, **kwargs)
        finally:
            order.append("gap filled")

    async def run_digests(self: ReportService, *args: Any, **kwargs: Any) -> Any:
        order.append("digests")
        return await digests(self, *args, **kwargs)

    monkeypatch.setattr(GapFill, "run", slow_fill)
    monkeypatch.setattr(ReportService, "run_digests", run_digests)
    await launcher.start()
    assert order[:2] == ["gap filled", "digests"]
