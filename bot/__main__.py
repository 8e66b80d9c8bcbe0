"""`python -m bot <command>`: run the bot, run the demo, and the project's other tools."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings

if TYPE_CHECKING:
    import discord

    from bot.app import MicrovoiceBot

log = logging.getLogger("bot")


# discord.py warns at start that its voice libraries are missing; Microvoice uses no voice.
VOICE_NOTICE = "is not installed, voice will NOT be supported"

# The privileged intents the settings may ask for, with their names under Bot → Privileged Gateway
# Intents in the developer portal.
PRIVILEGED_INTENTS = (
    ("members_intent", "MICROVOICE_MEMBERS_INTENT", "Server Members Intent"),
    ("message_content_intent", "MICROVOICE_MESSAGE_CONTENT_INTENT", "Message Content Intent"),
)


class _WithoutVoiceNotices(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return VOICE_NOTICE not in record.getMessage()


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    # discord.py logs gateway payload details at DEBUG; keep them out unless asked for.
    logging.getLogger("discord").setLevel(max(logging.getLevelName(level), logging.INFO))
    logging.getLogger("discord.client").addFilter(_WithoutVoiceNotices())


async def _store_error(bot: MicrovoiceBot) -> str | None:
    """Why the bot cannot have its database (one line, no password): MICROVOICE_DB cannot be opened or
    migrated, or another process serves this process's shards. None once it is open, the shards held
    and the schema up to date. Checked before logging in to Discord."""
    import threading

    from bot.shards import ShardTaken
    from bot.store import is_postgres_url

    settings = bot.settings
    before = set(threading.enumerate())
    try:
        await bot.open_store()
    except ShardTaken as exc:
        return str(exc)
    except Exception as exc:
        log.debug("opening the database failed", exc_info=True)
        if not is_postgres_url(settings.database):
            # SQLite's worker thread still hands its stop back to this loop: let it, before the loop
            # closes (otherwise it prints a traceback of its own).
            for thread in set(threading.enumerate()) - before:
                await asyncio.to_thread(thread.join, 2)
        return _store_problem(settings.database, exc)
    return None


def _store_problem(target: Path | str, exc: BaseException) -> str:
    """The one-line error for a database that could not be opened: the setting, where, and why."""
    from urllib.parse import unquote, urlsplit

    from bot.store import is_postgres_url, redact

    reason = _reason(exc)
    if is_postgres_url(target):
        url = str(target)
        where = redact(url)
        try:
            password = urlsplit(url).password
        except ValueError:  # malformed: whatever followed the scheme may hold it
            password, reason = None, reason.replace(url, where)
        for secret in {password, unquote(password)} if password else ():
            reason = reason.replace(secret, "***")
        if isinstance(exc, ValueError):
            reason = f"the URL is malformed ({reason})"
    else:
        path = Path(target)
        where = str(path)
        if path.is_dir():
            reason = "it is a directory; MICROVOICE_DB names the database file"
        else:
            blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
            if blocking is not None:
                reason = f"{blocking} is a file, not a directory"
    return f"cannot open the database in MICROVOICE_DB ({where}): {reason}"


def _privileged_intents_error(settings: Settings) -> str:
    """Which privileged intent the settings ask for, and the two ways out."""
    asked = [(env, portal) for attr, env, portal in PRIVILEGED_INTENTS if getattr(settings, attr)]
    where = "in the developer portal under Bot → Privileged Gateway Intents"
    if len(asked) == 1:
        env, portal = asked[0]
        return (
            f"Discord refused the privileged intent {portal} ({env}=true): enable it {where}, "
            f"or set {env}=false in .env"
        )
    names = " or ".join(f"{portal} ({env}=true)" for env, portal in asked) or "one the bot asked for"
    return (
        f"Discord refused a privileged intent: {names} is not enabled for this application; "
        f"enable it {where}, or set that variable to false in .env"
    )


def _http_error(exc: discord.HTTPException, *, logged_in: bool) -> str:
    when = "at start-up" if logged_in else "at login"
    if exc.status >= 500 or exc.status == 429:
        return f"Discord answered HTTP {exc.status} {when}; try again later"
    detail = f"code {exc.code}: {exc.text}" if exc.text else f"code {exc.code}"
    return f"Discord answered HTTP {exc.status} {when} ({detail})"


async def _run(settings: Settings, token: str) -> int:
    import discord

    from bot.app import build_bot, point_discord_at

    if settings.discord_api_base:
        point_discord_at(settings.discord_api_base, settings.discord_gateway_url, settings.discord_cdn_base)
        log.info("using the Discord-compatible API at %s", settings.discord_api_base)
    bot = build_bot(settings)
    if settings.shard_count:
        ids = ",".join(map(str, settings.shard_ids)) or "all"
        log.info("running shard(s) %s of %d", ids, settings.shard_count)
    # The database first, shards held and schema migrated, before anything reaches Discord.
    problem = await _store_error(bot)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with bot:
        runner = asyncio.create_task(bot.start(token))
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if runner in done:
            stopper.cancel()
            try:
                runner.result()
            except discord.LoginFailure:
                print("error: Discord rejected DISCORD_TOKEN; check the bot token in .env", file=sys.stderr)
                return 1
            except discord.PrivilegedIntentsRequired:
                print(f"error: {_privileged_intents_error(settings)}", file=sys.stderr)
                return 1
            except discord.HTTPException as exc:  # 5xx or an unexpected refusal at login
                print(f"error: {_http_error(exc, logged_in=bot.app is not None)}", file=sys.stderr)
                return 1
            except (OSError, discord.GatewayNotFound) as exc:  # no network, DNS, refused, TLS
                where = settings.discord_api_base or "discord.com"
                print(
                    f"error: cannot reach Discord at {where} ({_reason(exc)}); check the network",
                    file=sys.stderr,
                )
                return 1
            await bot.close()  # the bot may have stopped itself: its shutdown finishes first
            if bot.stopped_by is not None:
                print(f"error: {bot.stopped_by}", file=sys.stderr)
                return 1
            return 0
        log.info("shutting down")
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await runner
    return 0


def _reason(exc: BaseException) -> str:
    """The innermost cause of a connection failure, in one line."""
    while exc.__cause__ is not None or getattr(exc, "os_error", None) is not None:
        exc = getattr(exc, "os_error", None) or exc.__cause__  # type: ignore[assignment]
    return " ".join(str(exc).split()) or type(exc).__name__


def _invite(client_id: int | None) -> int:
    """Print the invite link with the exact permissions the README lists."""
    from bot import invite

    if client_id is None:
        try:
            settings = Settings.from_env()
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        client_id = invite.application_id_from_token(settings.discord_token)
    names = ", ".join(name for name, _, _ in invite.PERMISSIONS)
    print(f"permissions {invite.permission_integer()}: {names}")
    if client_id is None:
        print(
            "error: no application id: pass --client-id (the Application ID in the developer portal)"
            " or set DISCORD_TOKEN",
            file=sys.stderr,
        )
        return 2
    print(invite.invite_url(client_id))
    return 0


def _add_verify_giveaway(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    verify = sub.add_parser(
        "verify-giveaway",
        help="recompute a giveaway's winners from the revealed seed and the entrant ids (docs/giveaways.md)",
    )
    verify.add_argument(
        "--seed", required=True, help="the seed revealed with the winners (64 hex characters)"
    )
    verify.add_argument(
        "--commitment", help="the SHA-256 shown on the opening post; the seed is checked against it"
    )
    verify.add_argument("--winners", type=int, required=True, help="how many winners the giveaway drew")
    verify.add_argument(
        "--reroll",
        type=int,
        action="append",
        default=[],
        metavar="N",
        help="a reroll round that drew N replacements (repeat for each round, in order)",
    )
    verify.add_argument(
        "--entrants-file", type=Path, help="the published entrant list (ids separated by spaces or newlines)"
    )
    verify.add_argument("--expect", help="comma-separated winners as announced; checked against the result")
    verify.add_argument("entrants", nargs="*", help="entrant ids (instead of, or in addition to, the file)")


def _verify_giveaway(args: argparse.Namespace) -> int:
    """Print the winners the seed and entrants produce; exit 1 if the commitment or --expect disagrees."""
    from bot.activations import draw as giveaway

    try:
        ids = giveaway.parse_entrant_ids(" ".join(args.entrants))
        if args.entrants_file is not None:
            ids += giveaway.parse_entrant_ids(args.entrants_file.read_text(encoding="utf-8"))
        entrants = giveaway.canonical_entrants(ids)
        rounds = giveaway.draw_rounds(args.seed, entrants, [args.winners, *args.reroll])
        digest = giveaway.commitment(args.seed)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ok = True
    print(f"seed commitment: sha256(seed) = {digest}")
    if args.commitment is not None:
        matches = giveaway.verify_commitment(args.seed, args.commitment)
        ok &= matches
        print("commitment: OK, matches the published hash" if matches else "commitment: MISMATCH")
    print(f"entrants: {len(entrants)} (sha256 of the sorted list: {giveaway.entrants_digest(entrants)})")
    for number, winners in enumerate(rounds):
        label = "draw" if number == 0 else f"reroll {number}"
        print(f"round {number} ({label}): " + (", ".join(str(w) for w in winners) or "no winners"))
    if args.expect is not None:
        expected = [int(x) for x in args.expect.replace(",", " ").split()]
        same = expected == rounds[0]
        ok &= same
        print("winners: OK, match the announcement" if same else "winners: MISMATCH with --expect")
    return 0 if ok else 1


def _with_shards(settings: Settings, shard_ids: str | None, shard_count: int | None) -> Settings:
    """The settings with the shards given on the command line (which win over the environment)."""
    from dataclasses import replace

    from bot.shards import Shards, parse_shard_ids

    count = settings.shard_count if shard_count is None else shard_count
    try:
        ids = settings.shard_ids if shard_ids is None else parse_shard_ids(shard_ids)
        Shards(ids, count)
    except ValueError as exc:
        raise ConfigError(f"--shard-ids/--shard-count: {exc}") from None
    return replace(settings, shard_ids=ids, shard_count=count)


def _add_report(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = sub.add_parser(
        "report", help="write a report's CSV and PNG chart without Discord (the database in MICROVOICE_DB)"
    )
    kinds = report.add_subparsers(dest="report", required=True)
    community = kinds.add_parser("community", help="a community's health over the last days")
    community.add_argument("id", type=int, help="the community (Discord server) id")
    community.add_argument("--days", type=int, default=30, help="how many days, today included (1-90)")
    activation = kinds.add_parser("activation", help="one activation's results")
    activation.add_argument("id", type=int, help="the activation's number")
    for parser in (community, activation):
        parser.add_argument("--out", type=Path, default=Path("."), help="directory to write the files to")
        parser.add_argument(
            "--db", help="the database file or postgresql:// URL (default: MICROVOICE_DB or data/)"
        )


async def _report(args: argparse.Namespace, settings: Settings) -> int:
    """Write the same CSV and PNG files the bot attaches, as a moderator sees them (k applies)."""
    from datetime import UTC, datetime

    from bot.errors import MicrovoiceError
    from bot.i18n import t
    from bot.reports.files import write_files
    from bot.reports.service import ReportService
    from bot.store import Store, is_postgres_url

    db: Path | str = args.db or settings.database
    if not is_postgres_url(db):
        db = Path(db)
        if not db.exists():
            print(f"error: no database at {db}", file=sys.stderr)
            return 2
    store = await Store.open(db)
    try:
        reports = ReportService(
            store, clock=lambda: datetime.now(UTC), default_locale=settings.default_locale
        )
        try:
            if args.report == "community":
                rendered = await reports.community_report(args.id, args.days)
            else:
                activation = await store.activation_by_id(args.id)
                if activation is None:
                    print(f"error: no activation #{args.id}", file=sys.stderr)
                    return 2
                rendered = await reports.activation_report(
                    activation.community_id, activation.id, member_id=None, moderator=True
                )
        except MicrovoiceError as exc:
            print(f"error: {t(settings.default_locale, exc.key, **exc.params)}", file=sys.stderr)
            return 2
    finally:
        await store.close()
    print(rendered.title)
    for line in rendered.lines:
        print(f"  {line.replace('**', '')}")
    for path in write_files(rendered, args.out):
        print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from bot import cpu

    cpu.prefer_fast_sorts()  # before anything imports numpy (see bot/cpu.py)
    parser = argparse.ArgumentParser(prog="python -m bot", description="Microvoice community bot")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bot with DISCORD_TOKEN from the environment or .env")
    run.add_argument(
        "--shard-ids",
        help="the shards this process serves, e.g. 0,1 or 0-3 (with --shard-count; see docs/scaling.md)",
    )
    run.add_argument(
        "--shard-count", type=int, help="how many shards the bot runs as in all (every process says the same)"
    )
    demo = sub.add_parser("demo", help="run the bot against the local sandbox with a simulated community")
    demo.add_argument("--members", type=int, default=200)
    demo.add_argument("--days", type=float, default=7.0)
    demo.add_argument("--seed", type=int, default=7)
    invite = sub.add_parser("invite", help="print the link inviting the bot with the permissions it needs")
    invite.add_argument("--client-id", type=int, help="the Application ID (default: read from DISCORD_TOKEN)")
    _add_verify_giveaway(sub)
    _add_report(sub)
    args = parser.parse_args(argv)

    if args.command == "run":
        try:
            settings = _with_shards(Settings.from_env(), args.shard_ids, args.shard_count)
            token = settings.require_token()
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        _configure_logging(settings.log_level)
        from bot import allocator

        allocator.tune()  # before anything else allocates much, and before any thread starts
        return asyncio.run(_run(settings, token))
    if args.command == "demo":
        try:
            from sandbox.demo import run_demo
        except ModuleNotFoundError as exc:
            if exc.name != "sandbox":
                raise
            print(
                "error: the demo needs the sandbox/ package, which is in the source tree but not in the "
                "installed bot; run it from a checkout (make demo)",
                file=sys.stderr,
            )
            return 2

        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        logging.getLogger("discord.client").setLevel(logging.ERROR)  # voice-library notices
        return asyncio.run(run_demo(members=args.members, days=args.days, seed=args.seed))
    if args.command == "verify-giveaway":
        return _verify_giveaway(args)
    if args.command == "invite":
        return _invite(args.client_id)
    if args.command == "report":
        try:
            settings = Settings.from_env()
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return asyncio.run(_report(args, settings))
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
