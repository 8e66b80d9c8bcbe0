"""Where the slash commands are registered: every server in MICROVOICE_COMMAND_GUILD_IDS on its own (one
Discord refuses keeps none of the others without commands), what is no longer configured emptied, and
the record of what was registered kept per application."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from bot import i18n
from bot.command_sync import PermanentSyncError, record_key
from bot.store import Store
from sandbox.discord_server import DiscordSandbox
from tests.e2e.conftest import (
    MANAGE_GUILD,
    Clock,
    Harness,
    Launcher,
    build_world,
    eventually,
    make_settings,
    redirected,
    start_bot,
    stop_bot,
)
from tests.pg import PostgresForTests

GUILD_ROUTE = "/applications/{application_id}/guilds/{guild_id}/commands"
GLOBAL_ROUTE = "/applications/{application_id}/commands"
BOGUS_GUILD = 123456789012345678


def guild_path(sb: DiscordSandbox, guild_id: int) -> str:
    return f"/applications/{sb.application_id}/guilds/{guild_id}/commands"


async def status_text(h: Harness) -> str:
    interaction = await h.slash("microvoice", h.world.owner, subcommand="status", permissions=MANAGE_GUILD)
    await interaction.response()
    followup = await h.sandbox.wait_for_call("POST", "/webhooks/{application_id}/{interaction_token}")
    return str(followup.json["embeds"][0]["description"])


# -- one server refused, the others registered ------------------------------------------------------------


@pytest.mark.parametrize("refusal", ["unknown guild", "missing access"])
async def test_a_refused_server_first_in_the_list_keeps_no_other_server_without_commands(
    launcher: Launcher, caplog: pytest.LogCaptureFixture, refusal: str
):
    sb = launcher.sandbox
    world = launcher.build()
    if refusal == "unknown guild":
        refused = BOGUS_GUILD  # a typo, or a server the bot is not in: Discord answers 404, 10004
        expected = "HTTP 404, code 10004: Unknown Guild"
    else:
        refused = sb.add_guild("No commands scope", owner_id=world.owner)
        sb.fail_next("PUT", GUILD_ROUTE, status=403, code=50001, message="Missing Access")
        expected = "HTTP 403, code 50001: Missing Access"
    caplog.set_level(logging.INFO, logger="bot")
    h = await launcher.start(command_guild_ids=(refused, world.guild))
    state = await h.app.command_sync.wait()

    assert {c["name"] for c in sb.commands(world.guild)} >= {"microvoice", "voices"}
    assert [c.status for c in sb.rest.find("PUT", guild_path(sb, world.guild))] == [200]
    assert not state.ok and state.permanent and state.next_attempt_at is None
    assert state.error is not None
    assert f"guild {refused} in MICROVOICE_COMMAND_GUILD_IDS: {expected}" in state.error
    refusals = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(refusals) == 1 and str(refused) in refusals[0]
    assert "MICROVOICE_COMMAND_GUILD_IDS" in refusals[0] and expected in refusals[0]
    # Never retried: another pass asks Discord nothing more for that server.
    with pytest.raises(PermanentSyncError, match=str(refused)):
        await h.bot.sync_commands_if_changed()
    assert len(sb.rest.find("PUT", guild_path(sb, refused))) == 1
    # Another server's refusal is not this server's business: its status names neither the server
    # nor the error (the log has both, for the operator).
    text = await status_text(h)
    assert "could not be registered" not in text and str(refused) not in text and expected not in text


async def test_a_server_failing_for_now_is_retried_without_the_one_refused_for_good(launcher: Launcher):
    sb = launcher.sandbox
    world = launcher.build()
    failing = sb.add_guild("Busy", owner_id=world.owner)
    sb.fail_next("PUT", guild_path(sb, failing), status=503, message="upstream connect error")
    h = await launcher.start(command_guild_ids=(BOGUS_GUILD, failing, world.guild))
    sync = h.app.command_sync
    await eventually(lambda: sync.state.error, "the failed sync")
    state = sync.state
    assert not state.permanent and state.next_attempt_at is not None
    assert str(failing) in (state.error or "") and str(BOGUS_GUILD) in (state.error or "")
    assert sb.commands(world.guild) and not sb.commands(failing)
    # The next attempt registers the one that failed for now and asks nothing of the refused one.
    await sync.close()
    with pytest.raises(PermanentSyncError, match=str(BOGUS_GUILD)):
        await h.bot.sync_commands_if_changed()
    assert sb.commands(failing)
    assert len(sb.rest.find("PUT", guild_path(sb, BOGUS_GUILD))) == 1


# -- switching scopes empties the old ones -----------------------------------------------------------------


async def test_switching_from_server_commands_to_global_empties_the_server(launcher: Launcher):
    sb = launcher.sandbox
    world = launcher.build()
    h = await launcher.start(command_guild_ids=(world.guild,))
    assert (await h.app.command_sync.wait()).ok and sb.commands(world.guild)
    await launcher.stop(h)

    h = await launcher.start(command_guild_ids=())
    assert (await h.app.command_sync.wait()).ok
    assert {c["name"] for c in sb.commands()} >= {"microvoice", "voices"}
    # Otherwise every command would show twice in that server: its own copy and the global one.
    assert sb.commands(world.guild) == []
    assert sb.rest.find("PUT", guild_path(sb, world.guild))[-1].json == []
    # Emptied once: the next start asks Discord nothing.
    await launcher.stop(h)
    before = len(sb.rest.calls)
    h = await launcher.start(command_guild_ids=())
    assert (await h.app.command_sync.wait()).ok
    assert not [c for c in sb.rest.calls[before:] if c.method == "PUT"]


async def test_switching_from_global_to_server_commands_empties_the_global_scope(launcher: Launcher):
    sb = launcher.sandbox
    world = launcher.build()
    h = await launcher.start(command_guild_ids=())
    assert (await h.app.command_sync.wait()).ok and sb.commands()
    await launcher.stop(h)

    h = await launcher.start(command_guild_ids=(world.guild,))
    assert (await h.app.command_sync.wait()).ok
    assert {c["name"] for c in sb.commands(world.guild)} >= {"microvoice", "voices"}
    assert sb.commands() == []
    assert sb.rest.find("PUT", GLOBAL_ROUTE)[-1].json == []


async def test_a_server_taken_out_of_the_list_is_emptied_and_the_others_kept(launcher: Launcher):
    sb = launcher.sandbox
    world = launcher.build()
    other = sb.add_guild("Second server", owner_id=world.owner)
    h = await launcher.start(command_guild_ids=(world.guild, other))
    assert (await h.app.command_sync.wait()).ok and sb.commands(other)
    await launcher.stop(h)

    h = await launcher.start(command_guild_ids=(world.guild,))
    assert (await h.app.command_sync.wait()).ok
    assert sb.commands(other) == [] and sb.commands(world.guild)
    # The server that stays had nothing new: it is not registered again.
    assert len(sb.rest.find("PUT", guild_path(sb, world.guild))) == 1


async def test_a_server_the_bot_has_left_needs_no_emptying(launcher: Launcher):
    sb = launcher.sandbox
    world = launcher.build()
    other = sb.add_guild("Left since", owner_id=world.owner)
    h = await launcher.start(command_guild_ids=(world.guild, other))
    assert (await h.app.command_sync.wait()).ok
    await launcher.stop(h)

    sb.fail_next("PUT", guild_path(sb, other), status=404, code=10004, message="Unknown Guild")
    h = await launcher.start(command_guild_ids=(world.guild,))
    assert (await h.app.command_sync.wait()).ok
    record = await h.app.store.get_state(record_key(sb.application_id))
    assert record is not None and str(world.guild) in record and str(other) not in record


async def test_records_from_before_they_named_the_application_are_emptied_when_no_longer_configured(
    launcher: Launcher,
):
    sb = launcher.sandbox
    world = launcher.build()
    h = await launcher.start(command_guild_ids=(world.guild,))
    assert (await h.app.command_sync.wait()).ok
    # What an earlier version kept: one record per scope, without the application.
    store = h.app.store
    await store.write("DELETE FROM bot_state WHERE key LIKE 'command_tree:%'")
    await store.set_state(f"command_tree:{world.guild}", "fingerprint-of-an-earlier-version")
    await launcher.stop(h)

    h = await launcher.start(command_guild_ids=())
    assert (await h.app.command_sync.wait()).ok
    assert sb.commands() and sb.commands(world.guild) == []
    assert await h.app.store.get_state(f"command_tree:{world.guild}") is None


# -- another application on the same database ----------------------------------------------------------


async def test_another_application_on_the_same_database_registers_its_own_commands(
    launcher: Launcher, tmp_path: Path, clock: Clock
):
    first = launcher.sandbox
    h = await launcher.start("shared.sqlite3", command_guild_ids=())
    assert (await h.app.command_sync.wait()).ok and first.commands()
    await launcher.stop(h)

    second = DiscordSandbox()  # another application, with its own token
    await second.start()
    try:
        world = build_world(second)
        with redirected(second):
            settings = make_settings(second, world, tmp_path / "shared.sqlite3", command_guild_ids=())
            bot, task = await start_bot(second, settings, clock)
            try:
                assert bot.app is not None
                assert (await bot.app.command_sync.wait()).ok
            finally:
                await stop_bot(bot, task)
    finally:
        await second.stop()
    assert second.application_id != first.application_id
    assert {c["name"] for c in second.commands()} >= {"microvoice", "voices"}


# -- another process of the same bot syncing ----------------------------------------------------------


async def test_a_sync_left_to_another_process_is_reported_as_such_not_as_done(
    launcher: Launcher, pg: PostgresForTests
):
    """Sharded processes sync one at a time: a process that finds another one syncing neither
    registers nor claims to have registered the commands; its status says the other process has it."""
    url = pg.migrated()
    first = await launcher.start(database_url=url)  # the other process, which registered the commands
    assert (await first.app.command_sync.wait()).ok
    await launcher.stop(first)
    registrations = len(launcher.sandbox.rest.find("PUT", GUILD_ROUTE))
    other = await Store.open(url, pool_size=2)
    try:
        async with other.exclusive("command-sync") as syncing:  # and is syncing again now
            assert syncing
            h = await launcher.start(database_url=url)
            sync = h.app.command_sync
            await eventually(lambda: sync.state.attempts >= 1, "the first sync attempt")
            assert not sync.state.ok and sync.state.elsewhere and sync.state.error is None
            assert sync.state.next_attempt_at is not None
            assert len(launcher.sandbox.rest.find("PUT", GUILD_ROUTE)) == registrations
            world = h.world
            interaction = await h.sandbox.slash(
                world.guild,
                world.general,
                world.owner,
                "microvoice",
                subcommand="status",
                permissions=MANAGE_GUILD,
            )
            await interaction.response()
            followup = await h.sandbox.wait_for_call("POST", "/webhooks/{application_id}/{interaction_token}")
            text = str(followup.json["embeds"][0]["description"])
            assert "registered by another process of this bot" in text, text
            assert "could not be registered" not in text
    finally:
        await other.close()


# -- a bot started again in the same process ---------------------------------------------------------------


async def test_a_bot_started_again_in_the_process_runs_no_cog_module_again_and_registers_the_same_commands(
    launcher: Launcher,
):
    from bot.app import discover_cogs

    world = launcher.build()
    h = await launcher.start()
    assert (await h.app.command_sync.wait()).ok
    registered = launcher.sandbox.commands(world.guild)
    assert {c["name"] for c in registered} >= {"microvoice", "voices", "activation"}
    modules = {name: sys.modules[name] for name in discover_cogs()}
    await launcher.stop(h)

    h = await launcher.start()
    assert (await h.app.command_sync.wait()).ok
    # Each cog module was imported once: a start builds its cogs from it, never runs the module again.
    assert {name: sys.modules.get(name) for name in discover_cogs()} == modules
    assert launcher.sandbox.commands(world.guild) == registered
    # A command of the shared /activation group, defined at a cog module's top level, runs in this bot.
    listed = await h.slash("activation", world.owner, subcommand="list", permissions=MANAGE_GUILD)
    answer = (await listed.response()).json
    assert answer["data"]["embeds"][0]["description"] == i18n.t("en", "activation.list_empty")
