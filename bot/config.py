"""Settings read once from the environment (and an optional .env file), validated, frozen.

Every key is documented in `.env.example`. Secrets are held here and nowhere else; `Settings.__repr__`
masks them so a stray log line can never leak a token.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

LOCALES = ("en", "ar", "he")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable and what to set."""


def _int(env: Mapping[str, str], key: str, default: int, *, lo: int, hi: int) -> int:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{key} must be a whole number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{key} must be between {lo} and {hi}, got {value}")
    return value


def _ids(env: Mapping[str, str], key: str) -> tuple[int, ...]:
    raw = env.get(key, "").strip()
    if not raw:
        return ()
    try:
        return tuple(int(part) for part in raw.replace(" ", "").split(",") if part)
    except ValueError:
        raise ConfigError(f"{key} must be a comma-separated list of numeric ids, got {raw!r}") from None


def _bool(env: Mapping[str, str], key: str, default: bool) -> bool:
    raw = env.get(key, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{key} must be true or false, got {raw!r}")


REDDIT_CREDENTIALS = (
    "MICROVOICE_REDDIT_CLIENT_ID",
    "MICROVOICE_REDDIT_CLIENT_SECRET",
    "MICROVOICE_REDDIT_USERNAME",
    "MICROVOICE_REDDIT_PASSWORD",
)
_REDDIT_NAME = re.compile(r"^[A-Za-z0-9_-]{3,20}$")


def _reddit_settings(env: Mapping[str, str]) -> dict[str, object]:
    """The Reddit keys: all four credentials or none (Discord-only), names and URLs well-formed."""
    values = {key: env.get(key, "").strip() for key in REDDIT_CREDENTIALS}
    given = [k for k, v in values.items() if v]
    if given and len(given) != len(values):
        missing = ", ".join(k for k, v in values.items() if not v)
        raise ConfigError(f"Reddit needs all four credentials; set {missing} (or none of them)")
    username = values["MICROVOICE_REDDIT_USERNAME"]
    if username and not _REDDIT_NAME.match(username):
        raise ConfigError(f"MICROVOICE_REDDIT_USERNAME must be a Reddit username, got {username!r}")
    owner = env.get("MICROVOICE_REDDIT_OWNER", "").strip().removeprefix("u/").removeprefix("/u/")
    if owner and not _REDDIT_NAME.match(owner):
        raise ConfigError(f"MICROVOICE_REDDIT_OWNER must be a Reddit username, got {owner!r}")
    app_id = env.get("MICROVOICE_REDDIT_APP_ID", "").strip() or "microvoice"
    if not re.match(r"^[A-Za-z0-9._-]{1,64}$", app_id):
        raise ConfigError(
            f"MICROVOICE_REDDIT_APP_ID must be letters, digits, '.', '_' or '-', got {app_id!r}"
        )
    urls = {}
    for key, attr in (
        ("MICROVOICE_REDDIT_OAUTH_URL", "reddit_oauth_url"),
        ("MICROVOICE_REDDIT_URL", "reddit_url"),
        ("MICROVOICE_REDDIT_SHORT_URL", "reddit_short_url"),
    ):
        url = env.get(key, "").strip().rstrip("/")
        if url and not url.startswith(("http://", "https://")):
            raise ConfigError(f"{key} must be an http:// or https:// URL, got {url!r}")
        urls[attr] = url
    if bool(urls["reddit_oauth_url"]) != bool(urls["reddit_url"]):
        raise ConfigError("set both MICROVOICE_REDDIT_OAUTH_URL and MICROVOICE_REDDIT_URL, or neither")
    return dict(
        reddit_client_id=values["MICROVOICE_REDDIT_CLIENT_ID"],
        reddit_client_secret=values["MICROVOICE_REDDIT_CLIENT_SECRET"],
        reddit_username=username,
        reddit_password=values["MICROVOICE_REDDIT_PASSWORD"],
        reddit_app_id=app_id,
        reddit_owner=owner,
        reddit_poll_seconds=_int(env, "MICROVOICE_REDDIT_POLL_SECONDS", 10, lo=1, hi=3600),
        reddit_requests_per_minute=_int(env, "MICROVOICE_REDDIT_REQUESTS_PER_MINUTE", 80, lo=10, hi=1000),
        reddit_timeout=_int(env, "MICROVOICE_REDDIT_TIMEOUT_SECONDS", 16, lo=1, hi=300),
        **urls,
    )


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. Build it with `Settings.from_env()`; never at import time."""

    discord_token: str = field(default="", repr=False)
    db_path: Path = Path("data/microvoice.sqlite3")
    # MICROVOICE_DB given as a postgresql:// URL: the store runs on PostgreSQL instead of `db_path`.
    database_url: str = field(default="", repr=False)
    default_locale: str = "en"
    log_level: str = "INFO"
    # Guilds whose slash commands are synced directly (instant); empty means global commands.
    command_guild_ids: tuple[int, ...] = ()
    # Ask for the privileged intents only when the application has them enabled in the portal.
    members_intent: bool = False
    message_content_intent: bool = False
    # Ingest batching: flush after this many events or this many milliseconds, whichever is first.
    ingest_batch_size: int = 500
    ingest_flush_ms: int = 1000
    retention_days: int = 180
    # Trust ranking: minutes between scheduled recomputes, and distinct peers needed to be listed.
    trust_interval_minutes: int = 15
    trust_min_peers: int = 5
    # Milliseconds between two trusted-voice role changes in one server (made after each recompute).
    voice_role_pace_ms: int = 200
    # Discord-compatible endpoints. Empty means discord.com; set them to reach Discord through a proxy
    # or to run against another Discord-compatible server. The CDN base only changes the asset URLs the
    # bot builds (avatars); empty keeps Discord's.
    discord_api_base: str = ""
    discord_gateway_url: str = ""
    discord_cdn_base: str = ""
    # Sharded processes (`python -m bot run --shard-ids 0,1 --shard-count 4`); 0 means unsharded.
    shard_ids: tuple[int, ...] = ()
    shard_count: int = 0
    # Memory for cached trust ranking state (graphs, live rankings) per process, in MB.
    trust_memory_mb: int = 1024

    @property
    def database(self) -> Path | str:
        """What `Store.open` takes: the PostgreSQL URL when one is set, else the SQLite file."""
        return self.database_url or self.db_path

    # Reddit (optional): a "script" app's id and secret and the bot's own Reddit account. Without them
    # the bot runs Discord-only. See `.env.example`.
    reddit_client_id: str = ""
    reddit_client_secret: str = field(default="", repr=False)
    reddit_username: str = ""
    reddit_password: str = field(default="", repr=False)
    # The user agent Reddit requires: <platform>:<app id>:<version> (by /u/<owner>).
    reddit_app_id: str = "microvoice"
    reddit_owner: str = ""
    # Seconds between polls of the subreddits' streams and the bot's inbox, and the request timeout.
    reddit_poll_seconds: int = 10
    #: The request rate the Reddit rounds keep to (Reddit allows an OAuth client 100 a minute; the
    #: commands' own requests use the rest).
    reddit_requests_per_minute: int = 80
    reddit_timeout: int = 16
    # Reddit-compatible endpoints (praw's oauth_url, reddit_url, short_url). Empty means reddit.com.
    reddit_oauth_url: str = ""
    reddit_url: str = ""
    reddit_short_url: str = ""

    @property
    def reddit_enabled(self) -> bool:
        return bool(self.reddit_client_id)

    @property
    def reddit_user_agent(self) -> str:
        """Reddit's required form: <platform>:<app id>:<version> (by /u/<username>)."""
        from importlib.metadata import PackageNotFoundError, version

        try:
            release = version("microvoice")
        except PackageNotFoundError:
            release = "0.1.0"
        owner = self.reddit_owner or self.reddit_username
        return f"python:{self.reddit_app_id}:v{release} (by /u/{owner})"

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, dotenv: Path | None = Path(".env")
    ) -> Settings:
        """Merge `.env` (if present) under the real environment, then validate every key."""
        merged: dict[str, str] = {}
        if dotenv is not None and dotenv.is_file():
            from dotenv import dotenv_values  # only with a .env: most deployments set the environment

            merged.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
        merged.update(os.environ if env is None else env)
        locale = merged.get("MICROVOICE_DEFAULT_LOCALE", "en").strip() or "en"
        if locale not in LOCALES:
            raise ConfigError(
                f"MICROVOICE_DEFAULT_LOCALE must be one of {', '.join(LOCALES)}, got {locale!r}"
            )
        level = (merged.get("MICROVOICE_LOG_LEVEL", "INFO").strip() or "INFO").upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ConfigError(f"MICROVOICE_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}")
        api_base = merged.get("MICROVOICE_DISCORD_API_BASE", "").strip().rstrip("/")
        gateway = merged.get("MICROVOICE_DISCORD_GATEWAY_URL", "").strip()
        if bool(api_base) != bool(gateway):
            raise ConfigError(
                "set both MICROVOICE_DISCORD_API_BASE and MICROVOICE_DISCORD_GATEWAY_URL, or neither"
            )
        cdn = merged.get("MICROVOICE_DISCORD_CDN_BASE", "").strip().rstrip("/")
        if cdn and not api_base:
            raise ConfigError("MICROVOICE_DISCORD_CDN_BASE needs MICROVOICE_DISCORD_API_BASE as well")
        for key, url in (
            ("MICROVOICE_DISCORD_API_BASE", api_base),
            ("MICROVOICE_DISCORD_CDN_BASE", cdn),
        ):
            if url and not url.startswith(("http://", "https://")):
                raise ConfigError(f"{key} must be an http:// or https:// URL, got {url!r}")
        if gateway and not gateway.startswith(("ws://", "wss://")):
            raise ConfigError(
                f"MICROVOICE_DISCORD_GATEWAY_URL must be a ws:// or wss:// URL, got {gateway!r}"
            )
        database = merged.get("MICROVOICE_DB", "").strip()
        url = database if database.startswith(("postgresql://", "postgres://")) else ""
        if "://" in database and not url:
            raise ConfigError(
                f"MICROVOICE_DB must be a file path (SQLite) or a postgresql:// URL, got {database.split('://')[0]}://..."
            )
        shard_count = _int(merged, "MICROVOICE_SHARD_COUNT", 0, lo=0, hi=10_000)
        shard_ids = _ids(merged, "MICROVOICE_SHARD_IDS")
        if shard_ids and not shard_count:
            raise ConfigError("MICROVOICE_SHARD_IDS needs MICROVOICE_SHARD_COUNT")
        if any(not 0 <= i < shard_count for i in shard_ids):
            raise ConfigError(f"MICROVOICE_SHARD_IDS must be between 0 and {shard_count - 1}")
        reddit = _reddit_settings(merged)
        return cls(
            **reddit,
            discord_token=merged.get("DISCORD_TOKEN", "").strip(),
            db_path=Path((database if not url else "") or "data/microvoice.sqlite3"),
            database_url=url,
            default_locale=locale,
            log_level=level,
            command_guild_ids=_ids(merged, "MICROVOICE_COMMAND_GUILD_IDS"),
            members_intent=_bool(merged, "MICROVOICE_MEMBERS_INTENT", False),
            message_content_intent=_bool(merged, "MICROVOICE_MESSAGE_CONTENT_INTENT", False),
            ingest_batch_size=_int(merged, "MICROVOICE_INGEST_BATCH_SIZE", 500, lo=1, hi=100_000),
            ingest_flush_ms=_int(merged, "MICROVOICE_INGEST_FLUSH_MS", 1000, lo=1, hi=600_000),
            retention_days=_int(merged, "MICROVOICE_RETENTION_DAYS", 180, lo=1, hi=3650),
            trust_interval_minutes=_int(merged, "MICROVOICE_TRUST_INTERVAL_MINUTES", 15, lo=1, hi=1440),
            trust_min_peers=_int(merged, "MICROVOICE_TRUST_MIN_PEERS", 5, lo=1, hi=1000),
            voice_role_pace_ms=_int(merged, "MICROVOICE_VOICE_ROLE_PACE_MS", 200, lo=0, hi=60_000),
            discord_api_base=api_base,
            discord_gateway_url=gateway,
            discord_cdn_base=cdn,
            shard_ids=shard_ids,
            shard_count=shard_count,
            trust_memory_mb=_int(merged, "MICROVOICE_TRUST_MEMORY_MB", 1024, lo=16, hi=1_000_000),
        )

    def require_token(self) -> str:
        if not self.discord_token:
            raise ConfigError(
                "DISCORD_TOKEN is not set: put your bot token in .env (see .env.example) or the environment"
            )
        return self.discord_token

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr)
        secrets = ", ".join(
            f"{name}={'***' if getattr(self, name) else ''!r}"
            for name in ("discord_token", "reddit_client_secret", "reddit_password")
        )
        return f"Settings({shown}, {secrets})"
