"""`python -m bot run` is the installed product: it reaches a custom Discord API base through its own
setting and never imports the sandbox, which stays out of the wheel."""

from __future__ import annotations

import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import setuptools

from bot.config import ConfigError, Settings

ROOT = Path(__file__).resolve().parents[2]

# Runs the real `run` command against an endpoint nobody listens on: login fails at once, after the
# bot was built and the endpoints applied. Then it reports what the run path imported and set.
_RUN_AND_REPORT = """
import sys
import discord.asset, discord.http
from bot.__main__ import main
try:
    main(["run"])
except OSError:
    pass
print(discord.http.Route.BASE)
print(discord.asset.Asset.BASE)
print(sorted(m for m in sys.modules if m == "sandbox" or m.startswith("sandbox.")))
"""


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_applies_the_api_base_setting_and_imports_no_sandbox(tmp_path: Path):
    api_base = f"http://127.0.0.1:{_closed_port()}/api/v10"
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": "not.a.token",
        "MICROVOICE_DB": str(tmp_path / "x.db"),
        "MICROVOICE_LOG_LEVEL": "ERROR",
        "MICROVOICE_DISCORD_API_BASE": api_base + "/",
        "MICROVOICE_DISCORD_GATEWAY_URL": "ws://127.0.0.1:9/gateway",
        "MICROVOICE_DISCORD_CDN_BASE": "http://cdn.proxy.example",
    }
    proc = subprocess.run(
        [sys.executable, "-c", _RUN_AND_REPORT],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [api_base, "http://cdn.proxy.example", "[]"]


def test_endpoint_settings_are_validated():
    base = {"MICROVOICE_DISCORD_API_BASE": "https://proxy.example/api/v10/"}
    s = Settings.from_env(base | {"MICROVOICE_DISCORD_GATEWAY_URL": "wss://gateway.discord.gg/"}, dotenv=None)
    assert (s.discord_api_base, s.discord_cdn_base) == ("https://proxy.example/api/v10", "")
    with pytest.raises(ConfigError, match="MICROVOICE_DISCORD_CDN_BASE"):
        Settings.from_env({"MICROVOICE_DISCORD_CDN_BASE": "https://cdn.proxy.example"}, dotenv=None)
    with pytest.raises(ConfigError, match="MICROVOICE_DISCORD_GATEWAY_URL must be a ws"):
        Settings.from_env(base | {"MICROVOICE_DISCORD_GATEWAY_URL": "https://x"}, dotenv=None)
    with pytest.raises(ConfigError, match="MICROVOICE_DISCORD_API_BASE must be an http"):
        Settings.from_env(
            {"MICROVOICE_DISCORD_API_BASE": "proxy:80", "MICROVOICE_DISCORD_GATEWAY_URL": "wss://g"},
            dotenv=None,
        )


def test_demo_without_the_sandbox_package_says_so_in_one_line(tmp_path: Path):
    installed = tmp_path / "site"  # only what the wheel ships: bot and cogs, no sandbox
    installed.mkdir()
    for package in ("bot", "cogs"):
        (installed / package).symlink_to(ROOT / package)
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(installed)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "sandbox" in lines[0] and "Traceback" not in proc.stderr


def test_wheel_packages_leave_the_sandbox_out():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packages = setuptools.find_packages(where=str(ROOT), include=config["include"])
    assert "bot" in packages and "cogs" in packages
    assert not [p for p in packages if p.split(".")[0] in {"sandbox", "tests", "bench"}]


def test_the_wheel_carries_every_migration():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    shipped = {
        path.relative_to(ROOT).as_posix()
        for target, patterns in data.items()
        if target.startswith("share/microvoice/migrations")
        for pattern in patterns
        for path in ROOT.glob(pattern)
    }
    on_disk = {p.relative_to(ROOT).as_posix() for p in (ROOT / "migrations").rglob("*.sql")}
    assert shipped == on_disk and len(on_disk) >= 18
