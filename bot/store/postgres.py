"""PostgreSQL behind the store: an asyncpg pool dressed as the small part of aiosqlite's interface the
query mixins use (`execute` as an awaitable or `async with`, `executemany`, cursors with `fetchone`,
`fetchall`, `rowcount` and `description`), so one SQL text serves both databases.

The SQL the mixins write is SQLite's, kept portable. What differs is translated here, once per text
and cached — a small known set, nothing more:

- placeholders: `:name` (named) and `?` (positional) become `$1, $2, ...`;
- `INSERT OR IGNORE INTO ...` becomes `INSERT INTO ... ON CONFLICT DO NOTHING`;
- `CAST(julianday(x) - 2440587.5 AS INTEGER)`, SQLite's day number, becomes `floor(...)::bigint`
  (PostgreSQL rounds a cast to integer where SQLite truncates); any other `CAST(... AS INTEGER)`
  becomes `AS BIGINT` (ids are 64-bit snowflakes).

Functions SQLite has and PostgreSQL lacks (`julianday`, `group_concat`, `ifnull`) are defined in the
database by migrations/postgresql/0001. A query that cannot be written portably (JSON table functions,
the catalog) is a `Dialects` string: its `str` value is the SQLite text, `.postgresql` the other.

Connections: a statement runs on a pooled connection of its own unless it runs inside
`transaction()`, whose connection the task's context carries; so, as with SQLite's single connection,
nothing ever joins another task's transaction by accident. Constraint violations surface as
`ConstraintViolation`, a `sqlite3.IntegrityError`, so callers catch one exception on both backends.

Nothing waits on the server without a bound (`PgTimeouts`): a statement that runs past its timeout
is cancelled on the server and raises `TimeoutError`, which `bot.store.store_unavailable` counts as
the database being unavailable, so callers back off and try again as after a lost connection. A
connection whose cancelled statement the server does not acknowledge (a stalled server, a half-open
connection after a failover) is dropped rather than reused. Opening a connection is bounded, TCP
keepalives detect dead peers on both ends, and the server ends a session left idle inside a
transaction (its locks released). Migrations and advisory locks run on connections taken from the
pool directly and are not bounded: a migration may legitimately run for minutes.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import socket
import sqlite3
from collections.abc import AsyncIterator, Generator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:  # imported where a PostgreSQL store is used: a SQLite bot never loads the driver
    import asyncpg

log = logging.getLogger(__name__)

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


@dataclass(frozen=True)
class PgTimeouts:
    """How long the store waits on PostgreSQL before it gives up on a statement or a connection
    (seconds). Every pool `connect_postgres` opens uses `TIMEOUTS` unless told otherwise."""

    #: One statement, or the BEGIN / COMMIT / ROLLBACK of a transaction, or waiting for a free pooled
    #: connection. The longest statements the bot sends otherwise take a few seconds (an erasure of a
    #: member with 85,000 events: 0.4 s; feeding the aggregates from 200,000 new events: 1.6 s).
    statement: float = 30.0
    #: What a bulk statement (`executemany`, one `INSERT ... SELECT FROM unnest`) gets on top, per row:
    #: a 200,000-row chunk of `record_bulk` took 4.2 s, and gets 230 s.
    per_bulk_row: float = 0.001
    #: Opening a connection (TCP, TLS, authentication).
    connect: float = 10.0
    #: How long the server has to acknowledge the cancellation of a timed-out statement (and a
    #: connection given back, to reset) before the connection is dropped instead of reused.
    cancel: float = 2.0
    #: Closing the pool: statements still running get this long, then their connections are dropped.
    close: float = 5.0
    #: Server side: a session idle inside a transaction this long is ended by the server, so a client
    #: that stalled mid-transaction does not hold its locks against the other processes.
    idle_in_transaction: float = 60.0
    #: TCP keepalives, set on both ends of a TCP connection (not on a unix socket): the first probe
    #: after this many idle seconds, then one every `keepalive_interval`, and the peer is taken for
    #: dead after `keepalive_count` unanswered ones (about a minute in all).
    keepalive_idle: int = 30
    keepalive_interval: int = 10
    keepalive_count: int = 3

    def server_settings(self) -> dict[str, str]:
        """The session settings every connection starts with."""
        return {
            "timezone": "UTC",
            "idle_in_transaction_session_timeout": str(int(self.idle_in_transaction * 1000)),
            "tcp_keepalives_idle": str(self.keepalive_idle),
            "tcp_keepalives_interval": str(self.keepalive_interval),
            "tcp_keepalives_count": str(self.keepalive_count),
        }

    def keep_alive(self, sock: socket.socket | None) -> None:
        """Turn TCP keepalives on for the client's end of a connection (a unix socket has none)."""
        if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
            return
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for name, value in (
            ("TCP_KEEPIDLE", self.keepalive_idle),
            ("TCP_KEEPINTVL", self.keepalive_interval),
            ("TCP_KEEPCNT", self.keepalive_count),
        ):
            option = getattr(socket, name, None)
            if option is not None:
                sock.setsockopt(socket.IPPROTO_TCP, option, value)


#: The timeouts of every pool opened without its own.
TIMEOUTS = PgTimeouts()


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


def redact(url: str) -> str:
    """The URL without its password, for logs and errors (only its scheme when it cannot be read:
    where a malformed URL's password ends is anybody's guess)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return f"{url.partition(':')[0]}://…"
    if password is None:
        return url
    return url.replace(f":{password}@", ":***@", 1)


class Dialects(str):
    """A query whose text differs between the databases: the string itself is the SQLite text (so
    aiosqlite takes it as it is), `.postgresql` the PostgreSQL text. Both use the same parameters."""

    postgresql: str

    def __new__(cls, sqlite: str, postgresql: str) -> Dialects:
        obj = super().__new__(cls, sqlite)
        obj.postgresql = postgresql
        return obj


class ConstraintViolation(sqlite3.IntegrityError):
    """A unique, foreign-key, check or not-null constraint refused a write on PostgreSQL. The message
    starts as SQLite's does ("UNIQUE constraint failed: ...") and names the constraint."""

    @classmethod
    def from_asyncpg(cls, exc: asyncpg.IntegrityConstraintViolationError) -> ConstraintViolation:
        import asyncpg

        kind = {
            asyncpg.UniqueViolationError: "UNIQUE",
            asyncpg.ForeignKeyViolationError: "FOREIGN KEY",
            asyncpg.CheckViolationError: "CHECK",
            asyncpg.NotNullViolationError: "NOT NULL",
        }.get(type(exc), "INTEGRITY")
        name = getattr(exc, "constraint_name", None) or getattr(exc, "table_name", None) or ""
        return cls(f"{kind} constraint failed: {name} ({exc})")


# -- translation ----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""'(?:[^']|'')*'          # string literal
      | "(?:[^"]|"")*"          # quoted identifier
      | --[^\n]*                # comment
      | /\*.*?\*/               # block comment
      | \$\d+                   # already a PostgreSQL placeholder
      | ::                      # PostgreSQL cast
      | :[A-Za-z_][A-Za-z0-9_]* # named parameter
      | \?                      # positional parameter
    """,
    re.VERBOSE | re.DOTALL,
)
_INSERT_OR_IGNORE = re.compile(r"\bINSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)
_DAY_NUMBER = re.compile(
    r"CAST\(\s*julianday\(([^()]*)\)\s*-\s*2440587\.5\s+AS\s+INTEGER\s*\)", re.IGNORECASE
)
_AS_INTEGER = re.compile(r"\bAS\s+INTEGER\s*\)", re.IGNORECASE)


@dataclass(frozen=True)
class Translated:
    sql: str
    #: Parameter names in $n order (named style), or None for positional `?` parameters.
    names: tuple[str, ...] | None
    count: int

    def args(self, params: Sequence[Any] | dict[str, Any] | None) -> list[Any]:
        if self.count == 0:
            if params:
                raise ValueError("the statement takes no parameters")
            return []
        if self.names is not None:
            if not isinstance(params, dict):
                raise TypeError("this statement has named parameters: pass a dict")
            return [params[n] for n in self.names]
        values = list(params or ())
        if isinstance(params, dict):
            raise TypeError("this statement has positional parameters: pass a sequence")
        if len(values) != self.count:
            raise ValueError(f"the statement takes {self.count} parameters, {len(values)} given")
        return values


def translate(sql: str) -> Translated:
    """The PostgreSQL form of one portable statement (see the module's docstring)."""
    # A `Dialects` compares equal to its SQLite text: cache on the text actually translated.
    return _translate(str(getattr(sql, "postgresql", sql)))


@lru_cache(maxsize=4096)
def _translate(text: str) -> Translated:
    text = _DAY_NUMBER.sub(r"floor(julianday(\1) - 2440587.5)::bigint", text)
    text = _AS_INTEGER.sub("AS BIGINT)", text)
    if _INSERT_OR_IGNORE.search(text):
        text = _INSERT_OR_IGNORE.sub("INSERT INTO", text, count=1)
        stripped = text.rstrip().rstrip(";")
        returning = _RETURNING.search(stripped)
        if returning:
            stripped = f"{stripped[: returning.start()]}ON CONFLICT DO NOTHING {stripped[returning.start():]}"
        else:
            stripped += "\n ON CONFLICT DO NOTHING"
        text = stripped
    names: list[str] = []
    positional = 0
    out: list[str] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token == "?":
            positional += 1
            replacement = f"${positional}"
        elif token.startswith(":") and token != "::":
            name = token[1:]
            if name not in names:
                names.append(name)
            replacement = f"${names.index(name) + 1}"
        else:
            continue
        out.append(text[pos : match.start()])
        out.append(replacement)
        pos = match.end()
    out.append(text[pos:])
    if names and positional:
        raise ValueError("a statement uses either :named or ? parameters, not both")
    return Translated("".join(out), tuple(names) if names else None, positional or len(names))


def _status_count(status: bytes | str | None) -> int:
    """Rows a command touched, from its status tag ('UPDATE 3', 'INSERT 0 1'); -1 when unknown."""
    if not status:
        return -1
    text = status.decode() if isinstance(status, bytes) else status
    last = text.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() and text.split(" ", 1)[0] != "SELECT" else -1


# -- cursors and connections ----------------------------------------------------------------------


class PgCursor:
    """A finished statement: its rows (already fetched), `rowcount` and `description`."""

    def __init__(self, rows: list[Any], status: bytes | str | None) -> None:
        self._rows = [tuple(r) for r in rows]
        self._next = 0
        self.rowcount = _status_count(status)
        if self.rowcount < 0 and rows:
            self.rowcount = len(rows)
        first = rows[0] if rows else None
        names = list(first.keys()) if first is not None else []  # a Record: keys() are its columns
        self.description = tuple((name, None, None, None, None, None, None) for name in names)

    @property
    def lastrowid(self) -> int:
        raise AttributeError("PostgreSQL has no lastrowid: write the INSERT with RETURNING id")

    async def fetchone(self) -> tuple[Any, ...] | None:
        if self._next >= len(self._rows):
            return None
        row = self._rows[self._next]
        self._next += 1
        return row

    async def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._next = self._rows[self._next :], len(self._rows)
        return rows

    async def close(self) -> None:
        return None


class _Pending:
    """`await db.execute(...)` and `async with db.execute(...) as cur`, as aiosqlite allows both."""

    def __init__(self, run: Any) -> None:
        self._run = run
        self._cursor: PgCursor | None = None

    def __await__(self) -> Generator[Any, None, PgCursor]:
        return self._run().__await__()

    async def __aenter__(self) -> PgCursor:
        self._cursor = await self._run()
        return self._cursor

    async def __aexit__(self, *_: object) -> None:
        return None


_VALUES = re.compile(
    r"^(?P<head>\s*INSERT\s+INTO\s+[\w\".]+\s*\([^()]*\)\s*)VALUES\s*\((?P<values>[^()]*)\)"
    r"(?P<tail>\s*(?:ON\s+CONFLICT\s+DO\s+NOTHING)?\s*)$",
    re.IGNORECASE | re.DOTALL,
)


class PgConnection:
    """The store's PostgreSQL connection: a pool, with transactions pinned to one connection."""

    dialect = "postgresql"

    def __init__(self, pool: asyncpg.Pool, url: str, timeouts: PgTimeouts | None = None) -> None:
        self.pool = pool
        self.url = url
        self.timeouts = timeouts or TIMEOUTS
        self._tx: contextvars.ContextVar[asyncpg.Connection | None] = contextvars.ContextVar(
            "microvoice_pg_tx", default=None
        )
        self._bulk: dict[str, str | None] = {}

    @property
    def in_transaction(self) -> bool:
        return self._tx.get() is not None

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        conn = self._tx.get()
        if conn is not None:
            yield conn
            return
        async with self._pooled() as conn:
            yield conn

    @asynccontextmanager
    async def _pooled(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection for one statement or one transaction. Waiting for a free one is bounded
        like a statement, and giving it back by `cancel`: a connection whose timed-out statement the
        server did not acknowledge in that time is dropped, never reused. A statement refused because
        the server is read-only (a failover left the pool's connections on a standby) has every pooled
        connection replaced as it is given back, so the next ones reach the new primary."""
        import asyncpg

        conn = await self.pool.acquire(timeout=self.timeouts.statement)
        try:
            yield conn
        except asyncpg.ReadOnlySQLTransactionError:
            await self.pool.expire_connections()
            raise
        finally:
            try:
                await self.pool.release(conn, timeout=self.timeouts.cancel)
            except Exception as exc:  # the pool dropped the connection: it opens another when needed
                log.debug("a PostgreSQL connection was dropped on release: %r", exc)

    @asynccontextmanager
    async def _begun(self, conn: asyncpg.Connection, begin: str) -> AsyncIterator[None]:
        """`begin` … COMMIT (each bounded like a statement), or ROLLBACK on any error (bounded by
        `cancel`; failing that, the connection is dropped and the server rolls the transaction back)."""
        await conn.execute(begin, timeout=self.timeouts.statement)
        try:
            yield
        except BaseException:
            if not conn.is_closed():
                try:
                    await conn.execute("ROLLBACK", timeout=self.timeouts.cancel)
                except Exception:  # the server rolls back the transaction of a session that ends
                    conn.terminate()
            raise
        await conn.execute("COMMIT", timeout=self.timeouts.statement)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgConnection]:
        """One transaction on one connection; statements of this task run in it until it ends."""
        import asyncpg

        if self._tx.get() is not None:
            raise RuntimeError("a transaction is already open in this task")
        async with self._pooled() as conn:
            token = self._tx.set(conn)
            try:
                async with self._begun(conn, "BEGIN"):
                    yield self
            except asyncpg.IntegrityConstraintViolationError as exc:
                raise ConstraintViolation.from_asyncpg(exc) from exc
            finally:
                self._tx.reset(token)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[PgConnection]:
        """Reads of this task see one snapshot of the database until the block ends (a read-only
        REPEATABLE READ transaction): a watermark and the rows read with it agree."""
        if self._tx.get() is not None:
            yield self
            return
        async with self._pooled() as conn:
            token = self._tx.set(conn)
            try:
                async with self._begun(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"):
                    yield self
            finally:
                self._tx.reset(token)

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> _Pending:
        async def run() -> PgCursor:
            import asyncpg

            query = translate(sql)
            args = query.args(params)
            async with self._connection() as conn:
                try:
                    # asyncpg's own execute path with the status tag (its public `fetch` drops it).
                    rows, status, _ = await conn._execute(
                        query.sql, args, 0, self.timeouts.statement, return_status=True
                    )
                except asyncpg.IntegrityConstraintViolationError as exc:
                    raise ConstraintViolation.from_asyncpg(exc) from exc
            return PgCursor(rows, status)

        return _Pending(run)

    async def executemany(
        self, sql: str, rows: Iterable[Sequence[Any] | dict[str, Any]]
    ) -> PgCursor:
        """Run a statement for every row, in this task's transaction or one of its own; `rowcount` is
        the rows changed in all. A plain `INSERT ... VALUES (...)` (or one ignoring conflicts) runs as
        one `INSERT ... SELECT FROM unnest(...)` statement: a batch is one round trip."""
        query = translate(sql)
        batch = [query.args(r) for r in rows]
        if not batch:
            return PgCursor([], None)
        if self._tx.get() is None:
            async with self.transaction():
                return await self._many(query, batch)
        return await self._many(query, batch)

    async def _many(self, query: Translated, batch: list[list[Any]]) -> PgCursor:
        import asyncpg

        conn = self._tx.get()
        assert conn is not None
        timeout = self.timeouts.statement
        try:
            bulk = await self._bulk_form(conn, query)
            if bulk is not None:
                columns = [list(col) for col in zip(*batch, strict=True)]
                bulk_timeout = timeout + len(batch) * self.timeouts.per_bulk_row
                _, status, _ = await conn._execute(bulk, columns, 0, bulk_timeout, return_status=True)
                return PgCursor([], status)
            total = 0
            for args in batch:
                _, status, _ = await conn._execute(query.sql, args, 0, timeout, return_status=True)
                total += max(_status_count(status), 0)
            return PgCursor([], f"EXECUTE {total}")
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise ConstraintViolation.from_asyncpg(exc) from exc

    async def _bulk_form(self, conn: asyncpg.Connection, query: Translated) -> str | None:
        if query.sql in self._bulk:
            return self._bulk[query.sql]
        form: str | None = None
        match = _VALUES.match(query.sql)
        if match is not None and query.count:
            statement = await conn.prepare(query.sql, timeout=self.timeouts.statement)
            types = [t.name if t.schema == "pg_catalog" else f'"{t.schema}"."{t.name}"'
                     for t in statement.get_parameters()]
            values = re.sub(r"\$(\d+)", r"u.c\1", match.group("values"))
            arrays = ", ".join(f"${i}::{t}[]" for i, t in enumerate(types, start=1))
            names = ", ".join(f"c{i}" for i in range(1, len(types) + 1))
            form = (
                f"{match.group('head')}SELECT {values} FROM unnest({arrays}) AS u({names})"
                f"{match.group('tail')}"
            )
        self._bulk[query.sql] = form
        return form

    async def close(self) -> None:
        """Close the pool; connections still busy after `timeouts.close` are dropped."""
        try:
            await asyncio.wait_for(self.pool.close(), self.timeouts.close)
        except TimeoutError:
            log.warning("PostgreSQL connections still busy after %.0f s were dropped", self.timeouts.close)
            self.pool.terminate()


async def connect_postgres(
    url: str, *, min_size: int = 1, max_size: int = 10, timeouts: PgTimeouts | None = None
) -> PgConnection:
    """A pool on `url` (UTC session time zone, so text timestamps without an offset read as UTC), with
    `timeouts` (`TIMEOUTS` by default): see `PgTimeouts`."""
    import asyncpg

    limits = timeouts or TIMEOUTS

    async def init(conn: asyncpg.Connection) -> None:
        transport = getattr(conn, "_transport", None)
        limits.keep_alive(transport.get_extra_info("socket") if transport is not None else None)

    pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        timeout=limits.connect,
        init=init,
        server_settings=limits.server_settings(),
    )
    assert pool is not None
    return PgConnection(pool, url, limits)
