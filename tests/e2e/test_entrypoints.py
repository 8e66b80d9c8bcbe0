"""The shipped entry points: `python -m bot run` against a Discord-compatible server, and the demo."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import sys
from pathlib import Path

import pytest

from sandbox.demo import run_demo
from sandbox.discord_server import DiscordSandbox
from tests.e2e.conftest import build_world

ROOT = Path(__file__).resolve().parents[2]


async def test_python_m_bot_run_records_and_shuts_down_cleanly(tmp_path: Path):
    sb = DiscordSandbox()
    await sb.start()
    world = build_world(sb)
    db = tmp_path / "run.sqlite3"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": sb.token,
        "MICROVOICE_DB": str(db),
        "MICROVOICE_DISCORD_API_BASE": sb.api_base,
        "MICROVOICE_DISCORD_GATEWAY_URL": sb.gateway_url,
        "MICROVOICE_COMMAND_GUILD_IDS": str(world.guild),
        "MICROVOICE_INGEST_FLUSH_MS": "50",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await sb.wait_ready(timeout=30)
        await sb.wait_for_call("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", timeout=30)
        msg = await sb.send_message(world.general, world.alice, "hello")
        await sb.send_message(world.general, world.bob, "", reply_to=int(msg["id"]))
        for _ in range(200):
            await asyncio.sleep(0.05)
            if db.exists():
                with sqlite3.connect(db) as con:
                    try:
                        if con.execute("SELECT count(*) FROM events").fetchone()[0] >= 2:
                            break
                    except sqlite3.OperationalError:
                        pass
        proc.terminate()
        _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    finally:
        if proc.returncode is None:
            proc.kill()
        await sb.stop()
    assert proc.returncode == 0, err.decode()
    assert sb.token not in err.decode()
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT kind, actor_id, target_id FROM events ORDER BY id").fetchall()
    assert rows == [("message", world.alice, None), ("reply", world.bob, world.alice)]


@pytest.mark.timeout(240)
async def test_demo_records_exactly_what_the_simulated_community_sent(capsys):
    # 120 members: this two-day community listed two to nine members at each of 84 start times
    # measured (every hour at two minutes, and three hours every five minutes), and the demo passed;
    # with 80, a quarter of the start minutes listed one, too few for the brand side.
    assert await run_demo(members=120, days=2, seed=3) == 0
    out = capsys.readouterr().out
    assert "OK: recorded counts equal what was sent" in out
    assert "/microvoice status" in out
    # The brand side, through the same bot: partners only, disclosed posts, a draw anyone can verify.
    # How many members the small simulated community lists depends on where the UTC day boundary
    # falls in its two days; every listed partner opted in, and only they are listed.
    listed = re.search(r"Only the (\d+) partners are listed;", out)
    assert listed is not None and int(listed.group(1)) == out.count(" accepts: ") >= 1
    assert "Opening post, first line: Ad · Gifted product from Northwind Coffee" in out
    assert "Opening post, first line: פרסומת · " in out
    assert "   verified: the revealed seed matches the commitment" in out
    # Once the giveaway has ended: the community report and its report, as files under demo-output/.
    assert "Reports once it has ended" in out and "Giveaway entries: 9" in out
    assert re.search(r"demo-output/community-\d+-30d\.png", out) and "demo-output/activation-1.csv" in out
    # The rest of the product, briefly: Q&A, takeover and its exact restore, codes and their conversion,
    # a community giveaway ended early, a topic's voices, an export, the audit log; names, not raw ids.
    assert "in the thread (2 posts), every one disclosed:" in out
    assert "the channel's overwrites and topic are exactly as before" in out
    codes = re.search(r"(\d+) of (\d+) claimed codes? redeemed: (\d+)% conversion", out)
    assert codes is not None, "the conversion report"
    redeemed, claimed, share = map(int, codes.groups())
    assert 1 <= redeemed <= claimed and share == round(100 * redeemed / claimed)
    assert "Opening post: Community giveaway (no advertising mark)" in out
    assert "/voices top topic:#" in out and ".json: " in out and "17. The audit log" in out
    assert not re.search(r"<[#@]&?\d+>|<t:\d+", out), re.findall(r".*<[#@]&?\d+>.*", out)[:3]
