"""Shared helpers for the activation e2e tests (Q&A, takeover, lifecycle)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Any

from bot.activations import disclosure
from bot.activations.service import ActivationService
from bot.ledger import iso
from sandbox.discord_server import Interaction, RecordedCall
from tests.e2e.conftest import MANAGE_GUILD, Harness, eventually

EPHEMERAL = 1 << 6
MESSAGE_ROUTES = (
    ("POST", "/channels/{channel_id}/messages"),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}"),
)
WEBHOOK_EXEC = ("POST", "/webhooks/{webhook_id}/{webhook_token}")


async def seed_brand(
    h: Harness, name: str = "Acme Oats", *, status: str = "approved", contacts: Iterable[int] = ()
) -> int:
    """A brand row as the partners feature (issue #5) would write it."""
    now = iso(h.clock.now)
    db = h.app.store.db
    [(brand_id,)] = await h.app.store.write_returning(
        "INSERT INTO brands (community_id, name, status, created_by, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (h.world.guild, name, status, h.world.owner, now, now),
    )
    for member in contacts:
        await db.execute(
            "INSERT INTO brand_contacts (brand_id, community_id, member_id) VALUES (?, ?, ?)",
            (brand_id, h.world.guild, member),
        )
    return brand_id


async def seed_partner(h: Harness, member: int) -> None:
    await h.app.store.db.execute(
        "INSERT INTO partners (community_id, member_id, terms_version, opted_in_at) VALUES (?, ?, 1, ?)",
        (h.world.guild, member, iso(h.clock.now)),
    )


async def set_locale(h: Harness, lang: str, **extra: Any) -> None:
    options: dict[str, Any] = {"locale": lang, **extra}
    call = await (
        await h.slash("microvoice", h.world.owner, options, subcommand="setup", permissions=MANAGE_GUILD)
    ).response()
    assert call.json["type"] == 4, call.json


def data_of(call: RecordedCall) -> dict[str, Any]:
    return call.json.get("data") or {}


async def reply(interaction: Interaction) -> dict[str, Any]:
    """The text the user sees: the immediate response, or the followup after a deferral."""
    call = await interaction.response()
    if call.json["type"] == 5:
        return (await interaction.wait_followup()).json
    return data_of(call)


def when(h: Harness, delta: timedelta) -> str:
    return (h.clock.now + delta).strftime("%Y-%m-%d %H:%M")


def engine(h: Harness) -> ActivationService:
    return h.app.activations


async def create(
    h: Harness,
    kind: str,
    user: int,
    options: dict[str, Any],
    *,
    permissions: int | None = None,
) -> tuple[dict[str, Any], int | None]:
    """Run `/activation create <kind>`; returns the reply and the new activation's id (None if refused)."""
    before = int(await h.scalar("SELECT coalesce(max(id), 0) FROM activations"))
    interaction = await h.slash(
        "activation", user, options, subcommand=["create", kind], permissions=permissions
    )
    data = await reply(interaction)
    after = int(await h.scalar("SELECT coalesce(max(id), 0) FROM activations"))
    return data, (after if after > before else None)


async def approve(h: Harness, activation_id: int) -> dict[str, Any]:
    interaction = await h.slash(
        "activation", h.world.owner, {"id": activation_id}, subcommand="approve", permissions=MANAGE_GUILD
    )
    return await reply(interaction)


async def retry(h: Harness, activation_id: int) -> None:
    """Run `/activation retry` as the server's owner and wait for its answer."""
    interaction = await h.slash(
        "activation", h.world.owner, {"id": activation_id}, subcommand="retry", permissions=MANAGE_GUILD
    )
    await interaction.response()


async def intent_states(h: Harness, activation_id: int, action: str) -> str | None:
    """The states of an activation's `open` or `close` intents, comma-separated ("done" when finished)."""
    return await h.scalar(
        "SELECT group_concat(state) FROM activation_intents WHERE activation_id = ? AND action = ?",
        activation_id,
        action,
    )


async def move_to(h: Harness, moment: datetime) -> int:
    """Move the injected clock and run what the scheduler's jobs would run at that moment."""
    h.clock.now = moment
    done = await engine(h).run_due()
    await h.settle()
    return done


async def wait_state(h: Harness, activation_id: int, state: str, timeout: float = 5) -> None:  # noqa: ASYNC109
    """Wait for work the bot does after it already replied (e.g. an approval that starts at once)."""

    async def reached() -> bool:
        return await h.scalar("SELECT state FROM activations WHERE id = ?", activation_id) == state

    await eventually(reached, f"activation {activation_id} to become {state}", timeout)
    await engine(h).idle(activation_id)  # the engine holds it until the kind's hook (posting) is done
    await h.settle()


def activation_messages(h: Harness, channel_ids: Iterable[int]) -> list[RecordedCall]:
    """Every message the bot posted or edited in these channels, and every webhook execution there."""
    wanted = {str(c) for c in channel_ids}
    found: list[RecordedCall] = []
    for method, route in MESSAGE_ROUTES:
        for call in h.rest.find(method, route):
            if call.path.split("/")[2] in wanted and call.status == 200:
                found.append(call)
    for call in h.rest.find(*WEBHOOK_EXEC):
        if str(call.path.split("/")[2]) != str(h.sandbox.application_id) and call.status in (200, 204):
            found.append(call)
    return found


def assert_disclosed(call: RecordedCall, tag: str) -> None:
    body = call.json
    content = body.get("content")
    embeds = body.get("embeds") or []
    if content is not None:
        assert disclosure.starts_disclosed(content, tag), (call.path, content)
    else:
        assert embeds, (call.path, body)
    for embed in embeds:
        assert str(embed.get("title", "")).startswith(tag), (call.path, embed)


def assert_no_mass_mentions(
    h: Harness, *, allowed_roles: Collection[str] = (), calls: Iterable[RecordedCall] | None = None
) -> None:
    """No recorded call (or none of `calls`, when a caller checks each call once as it comes) may let a
    message ping @everyone/@here or roles (but `allowed_roles`, the role a moderator chose to ping when a
    giveaway opens)."""
    for call in h.rest.calls if calls is None else calls:
        body = call.json if isinstance(call.json, dict) else {}
        payloads = [body, body.get("data") or {}] if isinstance(body.get("data"), dict) else [body]
        for payload in payloads:
            has_text = "content" in payload or "embeds" in payload
            mentions = payload.get("allowed_mentions")
            if mentions is None:
                assert not has_text or call.path.startswith("/applications"), (call.method, call.path)
                continue
            assert "everyone" not in mentions.get("parse", []), call.path
            assert "roles" not in mentions.get("parse", []), call.path
            assert {str(r) for r in mentions.get("roles") or []} <= set(allowed_roles), call.path
