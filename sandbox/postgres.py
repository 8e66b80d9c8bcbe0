"""A throwaway PostgreSQL server for tests and benchmarks: a fresh cluster in a temporary directory, `pg_ctl
start` listening on a unix socket only (no TCP port), stopped and deleted afterwards.

The fresh cluster is a copy of one `initdb` made once and kept in the temporary directory for the next
servers (per user, PostgreSQL build and initdb options): the test suite starts one server per xdist
worker, and copying a cluster costs a small fraction of what `initdb` does.

It needs the server binaries (Debian's `postgresql` package puts them in /usr/lib/postgresql/<v>/bin);
`find_binaries()` says where they are, or None. PostgreSQL refuses to run as root, so under root the
server runs as the `postgres` system user the package creates.

The server is tuned for throwaway data (fsync off, no full-page writes): fast, and lost on a crash,
which is what a test database should be.
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

DEFAULT_USER = "microvoice"
INITDB_OPTIONS = ("--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync", "--wal-segsize=1")


def find_binaries() -> Path | None:
    """The directory holding initdb and pg_ctl: $MICROVOICE_PG_BIN, the PATH, or the newest
    /usr/lib/postgresql/<version>/bin; None when PostgreSQL is not installed."""
    candidates: list[str] = []
    if os.environ.get("MICROVOICE_PG_BIN"):
        candidates.append(os.environ["MICROVOICE_PG_BIN"])
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).resolve().parent))
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    newest_first = sorted(
        versions, key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0, reverse=True
    )
    candidates += newest_first
    for directory in candidates:
        path = Path(directory)
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file():
            return path
    return None


class PostgresServer:
    """`start()` a server in a fresh directory, `url(db)` to reach it, `create_database()`, `stop()`."""

    def __init__(self, bin_dir: Path, *, user: str = DEFAULT_USER) -> None:
        self.bin_dir = bin_dir
        self.user = user
        self.root = Path(tempfile.mkdtemp(prefix="microvoice-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "run"
        self.log = self.root / "server.log"
        self.port = 5432  # only names the socket file (.s.PGSQL.5432): TCP is off
        self._run_as: list[str] = []
        self.started = False

    def _command(self, *args: str) -> list[str]:
        return [*self._run_as, *args]

    def start(self) -> None:
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("as root, the server runs as the 'postgres' user: none found") from None
            os.chmod(self.root, 0o755)
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            runuser = shutil.which("runuser") or shutil.which("setpriv")
            if runuser is None:
                raise RuntimeError("running as root needs runuser (util-linux) to start the server")
            self._run_as = (
                [runuser, "-u", "postgres", "--"]
                if runuser.endswith("runuser")
                else [runuser, f"--reuid={owner.pw_uid}", f"--regid={owner.pw_gid}", "--init-groups"]
            )
        self.socket_dir.mkdir()
        if self._run_as:
            owner = pwd.getpwnam("postgres")
            os.chown(self.socket_dir, owner.pw_uid, owner.pw_gid)
        # A copy keeps owner and modes (cp -a, as root too): the server runs as the template's owner.
        subprocess.run(["cp", "-a", str(self._template()), str(self.data)], check=True, capture_output=True)
        options = " ".join([
            "-c listen_addresses=''",
            f"-c unix_socket_directories={self.socket_dir}",
            f"-p {self.port}",
            "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
            "-c max_connections=200", "-c shared_buffers=128MB",
        ])
        subprocess.run(
            self._command(
                str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                "-t", "30", "-o", options, "start",
            ),
            check=True, capture_output=True,
        )
        self.started = True

    def _template(self) -> Path:
        """The pristine cluster this server starts from: made by `initdb` the first time (under a lock,
        as xdist's workers start together), then reused; a new PostgreSQL build gets a new one."""
        initdb = self.bin_dir / "initdb"
        identity = f"{initdb.resolve()}|{initdb.stat().st_mtime_ns}|{self.user}|{' '.join(INITDB_OPTIONS)}"
        key = hashlib.sha256(identity.encode()).hexdigest()[:16]
        template = Path(tempfile.gettempdir()) / f"microvoice-pg-template-{os.geteuid()}-{key}"
        with open(f"{template}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if (template / "PG_VERSION").is_file() and template.stat().st_uid == self._owner_uid():
                return template
            shutil.rmtree(template, ignore_errors=True)
            staging = Path(tempfile.mkdtemp(prefix="microvoice-pg-initdb-"))
            try:
                if self._run_as:
                    os.chmod(staging, 0o755)
                    os.chown(staging, self._owner_uid(), -1)
                subprocess.run(
                    self._command(str(initdb), "-D", str(staging / "data"), "-U", self.user, *INITDB_OPTIONS),
                    check=True, capture_output=True,
                )
                (staging / "data").rename(template)  # whole or not at all
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        return template

    def _owner_uid(self) -> int:
        return pwd.getpwnam("postgres").pw_uid if self._run_as else os.geteuid()

    def url(self, database: str = "postgres") -> str:
        """A `postgresql://` URL reaching `database` over the unix socket (asyncpg's `host=` form)."""
        return f"postgresql://{self.user}@/{database}?host={self.socket_dir}&port={self.port}"

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """CREATE DATABASE (optionally as a copy of `template`); returns its URL."""
        sql = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else "")
        self.psql(sql)
        return self.url(name)

    def psql(self, sql: str, database: str = "postgres") -> str:
        out = subprocess.run(
            [str(self.bin_dir / "psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
             "-h", str(self.socket_dir), "-p", str(self.port), "-U", self.user, "-d", database, "-c", sql],
            check=True, capture_output=True, text=True,
        )
        return out.stdout

    def stop(self) -> None:
        if self.started:
            subprocess.run(
                self._command(
                    str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"
                ),
                capture_output=True,
            )
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
