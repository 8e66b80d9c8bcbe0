"""The permission matrix (bot/roles.py, docs/permissions.md), cell by cell, through the sandbox.

Each command is run by a moderator, a brand manager, a partner and a plain member. A refused call gets
an ephemeral message naming who may run it and changes nothing in the database; an allowed one is
answered normally (no refusal, no error). The limited cells ("own brands", "the taker") are then checked
from the other side: a brand manager of another brand, or a partner who is not the taker, is refused
with the cog's own message, and nothing changes either.

The matrix is walked twice: in the Discord-only configuration, which registers every command but the
Reddit ones, and with Reddit configured (the real praw against the Reddit sandbox), which registers
every row of the matrix. Either way the registered commands are exactly the rows walked, and `/help`
lists exactly the registered commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot import i18n
from bot.i18n import isolate
from bot.roles import MATRIX, REDDIT_ONLY, ROLE_ORDER, Role, refusal_key
from sandbox.reddit_server import RedditSandbox
from tests.e2e.activation_helpers import approve, create, move_to
from tests.e2e.conftest import BASIC, MANAGE_GUILD, Harness, Launcher
from tests.e2e.reddit_helpers import (  # noqa: F401 - fixtures
    CODE,
    fast_praw_fixture,
    reddit_sb_fixture,
    start_with_reddit,
)
from tests.e2e.test_giveaway import ENTER, add_members, click
from tests.e2e.test_giveaway import options as giveaway_options
from tests.e2e.test_partners import join
from tests.e2e.test_reddit import bind

EPHEMERAL = 1 << 6
REFUSALS = {
    i18n.t("en", key)
    for key in (
        "error.forbidden",
        "error.moderator_only",
        "error.brand_manager_only",
        "error.brand_or_moderator_only",
        "error.partner_only",
        "error.taker_only",
        "error.not_your_brand",
        "activation.error.not_manager",
        "activation.error.not_brand_manager",
        "takeover.error.no_live",
    )
}
FAILURES = REFUSALS | {i18n.t("en", "error.generic")}

# Destructive allowed cells last: removing a brand, leaving the program.
ORDER = [c for c in MATRIX if c not in ("brand remove", "partner leave")] + ["brand remove", "partner leave"]


def at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


@dataclass
class Scene:
    """What the allowed calls act on: brands, and activations in every state the commands need."""

    h: Harness
    t0: datetime
    acme: int = 0
    ended_giveaway: int = 0
    pending_giveaway: int = 0
    to_approve: int = 0
    to_reject: int = 0
    to_cancel: dict[Role, int] = field(default_factory=dict)
    qa: int = 0
    question: int = 0
    takeovers: dict[Role, tuple[int, int, datetime]] = field(default_factory=dict)  # id, channel, start

    def options(self, command: str, role: Role) -> dict[str, Any]:
        w, h = self.h.world, self.h
        later = h.clock.now + timedelta(days=5)
        proposal = {"brand": self.acme, "channel": w.cooking, "title": "Ask us", "starts": at(later)}
        proposal["ends"] = at(later + timedelta(hours=1))
        in_subreddit = {"brand": self.acme, "subreddit": "r/VeganCooking", "starts": proposal["starts"]}
        in_subreddit["ends"] = proposal["ends"]
        return {
            "brand register": {"name": "Gamma", "contact": w.carol},
            "brand approve": {"brand": "Beta"},
            "brand suspend": {"brand": "Beta"},
            "brand remove": {"brand": "Beta"},
            "brand role": {"brand": "Beta"},
            "brand contact-add": {"brand": "Beta", "member": w.carol},
            "brand contact-remove": {"brand": "Beta", "member": w.carol},
            "brand show": {"brand": "Acme"},
            "brand partners": {"brand": "Acme"},
            "privacy forget-member": {"member_id": str(w.carol)},
            "microvoice setup": {"retention_days": 90},
            "voices member": {"member": w.alice},
            "voices override": {"member": w.alice, "mode": "clear"},
            "activation create qa": proposal,
            "activation create takeover": {**proposal, "taker": w.alice},
            "activation create giveaway": giveaway_options(
                h, brand=self.acme, starts=proposal["starts"], ends=proposal["ends"]
            ),
            "activation approve": {"id": self.to_approve},
            "activation reject": {"id": self.to_reject, "reason": "Not this month"},
            "activation cancel": {"id": self.to_cancel.get(role, self.to_cancel[Role.MODERATOR])},
            "activation show": {"id": self.ended_giveaway},
            "activation retry": {"id": self.ended_giveaway},
            "activation reroll": {"id": self.ended_giveaway},
            "activation codes": {
                "id": self.pending_giveaway,
                "file": ("codes.txt", f"{role.value.upper()}-1\n{role.value.upper()}-2\n".encode()),
            },
            "activation redemptions": {
                "id": self.pending_giveaway,
                "file": ("shop.csv", b"code\nMODERATOR-1\n"),
            },
            "qa answer": {"question": self.question, "text": "Yes, it is."},
            "voices role": {"top": 5},  # no role: turns the (absent) rule off
            "giveaway create": {
                "channel": w.cooking,
                "prize": "A cookbook",
                "rules": "One entry per member.",
                "winners": 1,
                "no_brand": True,
                "starts": proposal["starts"],
                "ends": proposal["ends"],
            },
            "giveaway end": {"id": self.ended_giveaway},
            "microvoice reddit add": {"subreddit": "r/OatLovers"},
            "microvoice reddit remove": {"subreddit": "r/OatLovers"},
            "microvoice reddit flair": {"subreddit": "r/VeganCooking", "flair": "Sponsored"},
            "microvoice reddit voices": {"subreddit": "r/VeganCooking"},
            "link reddit": {"username": f"u/{role.value}_r"},
            "activation create reddit-qa": {**in_subreddit, "title": "Ask us on Reddit"},
            "activation create reddit-announcement": {**in_subreddit, "title": "News", "text": "Oats!"},
            "activation create reddit-giveaway": {
                **in_subreddit,
                "prize": "Oats",
                "rules": "One per account.",
                "winners": 1,
            },
            "report community": {"days": 7},
            "report activation": {"id": self.ended_giveaway},
        }.get(command, {})

    def channel(self, command: str, role: Role) -> int:
        if command == "takeover post" and role in self.takeovers:
            return self.takeovers[role][1]
        return self.h.world.general

    async def before(self, command: str, role: Role) -> None:
        """/takeover post needs the caller's takeover live in that channel: start it (the last one ends)."""
        if command == "takeover post" and role in self.takeovers:
            activation_id, _, start = self.takeovers[role]
            await move_to(self.h, start + timedelta(minutes=1))
            state = await self.h.scalar("SELECT state FROM activations WHERE id = ?", activation_id)
            assert state == "live", (role, state)


async def propose(h: Harness, kind: str, user: int, options: dict[str, Any]) -> int:
    data, activation_id = await create(h, kind, user, options, permissions=BASIC)
    assert activation_id is not None, data
    return activation_id


async def build_scene(h: Harness) -> Scene:
    """Brands Acme (approved, managed by bob) and Beta (pending); alice a partner; then one activation for
    every allowed call, along a timeline of sponsored windows that never overlap (the saturation guard):
    an ended giveaway [1h, 2h], a Q&A [3h, 4h] that is live during the loop, and two takeovers [5h, 6h]
    (alice, #general) and [7h, 8h] (bob, #vegan-cooking) started when their cells run."""
    w, store, t0 = h.world, h.app.store, h.clock.now.replace(second=0)
    s = Scene(h, t0)
    acme = await store.create_brand(w.guild, "Acme", [w.bob], [w.cooking], by=w.owner, now=t0)
    await store.set_brand_status(w.guild, acme.id, expected="pending", status="approved", by=w.owner, now=t0)
    await store.create_brand(w.guild, "Beta", [w.mod], [], by=w.owner, now=t0)
    await store.update_settings(
        w.guild, {"max_sponsored_per_week": 50, "min_gap_hours": 0}, by=w.owner, now=t0
    )
    await join(h, w.alice)
    s.acme = acme.id

    def window(start: timedelta, hours: int = 1) -> dict[str, str]:
        return {"starts": at(t0 + start), "ends": at(t0 + start + timedelta(hours=hours))}

    hour = timedelta(hours=1)
    # A giveaway that ran and ended: three entrants, two winners, nobody claimed (reroll has work).
    s.ended_giveaway = await propose(h, "giveaway", w.bob, giveaway_options(h, brand=acme.id, **window(hour)))
    await approve(h, s.ended_giveaway)
    await move_to(h, t0 + hour + timedelta(minutes=1))
    opening = int(await h.scalar("SELECT message_id FROM activations WHERE id = ?", s.ended_giveaway))
    for fan in add_members(h, 3):
        await click(h, opening, ENTER.format(s.ended_giveaway), fan)
    await move_to(h, t0 + 2 * hour + timedelta(minutes=1))
    assert await h.scalar("SELECT count(*) FROM giveaway_draws") == 1

    qa = {"brand": acme.id, "channel": w.cooking, "title": "Oats, asked"}
    s.qa = await propose(h, "qa", w.bob, {**qa, **window(3 * hour)})
    for role, taker, channel, start in (
        (Role.PARTNER, w.alice, w.general, 5 * hour),
        (Role.BRAND_MANAGER, w.bob, w.cooking, 7 * hour),
    ):
        options = {**qa, "title": "Takeover", "channel": channel, "taker": taker, **window(start)}
        s.takeovers[role] = (await propose(h, "takeover", w.bob, options), channel, t0 + start)
    days = timedelta(days=3)
    s.to_approve = await propose(h, "qa", w.bob, {**qa, **window(days)})
    s.to_reject = await propose(h, "qa", w.bob, {**qa, **window(days)})
    s.to_cancel = {
        role: await propose(h, "qa", w.bob, {**qa, **window(days)})
        for role in (Role.BRAND_MANAGER, Role.MODERATOR)
    }
    s.pending_giveaway = await propose(
        h, "giveaway", w.bob, giveaway_options(h, brand=acme.id, **window(days))
    )
    for activation_id in (s.qa, *(t for t, _, _ in s.takeovers.values())):
        assert "approved" in (await approve(h, activation_id))["content"]
    await move_to(h, t0 + 3 * hour + timedelta(minutes=1))
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", s.qa) == "live"
    s.question = await store.add_question(w.guild, s.qa, w.carol, "Is it vegan?", now=h.clock.now)
    return s


async def snapshot(h: Harness) -> dict[str, list[tuple[Any, ...]]]:
    """Every table, but the Reddit streams' cursors, which the adapter's thread moves on its own: what the
    bot committed, read in one read transaction on a connection of the test's own to the same file
    (on PostgreSQL, in one snapshot through the store)."""
    store = h.app.store
    if store.dialect == "postgresql":
        async with store.snapshot():
            names = await store.fetch_all(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
                " AND table_type = 'BASE TABLE' AND table_name != 'reddit_cursors'"
            )
            return {n: sorted(await store.fetch_all(f'SELECT * FROM "{n}"'), key=repr) for (n,) in names}
    db = store.reader()
    try:
        db.execute("BEGIN")
        names = db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name != 'reddit_cursors'"
        ).fetchall()
        return {n: sorted(db.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for (n,) in names}
    finally:
        db.close()


async def run(
    h: Harness, command: str, user: int, perms: int, options: dict[str, Any], channel: int | None = None
) -> dict[str, Any]:
    name, _, sub = command.partition(" ")
    interaction = await h.sandbox.slash(
        h.world.guild,
        channel or h.world.general,
        user,
        name,
        options,
        subcommand=sub.split(),
        permissions=perms,
    )
    call = (await interaction.response()).json
    if call["type"] == 5:
        followup = (await interaction.wait_followup(timeout=30)).json
        return {"type": 5, **followup}
    return {"type": call["type"], **(call.get("data") or {})}


def tree_commands(h: Harness) -> set[str]:
    return {
        c.qualified_name
        for c in h.bot.tree.walk_commands()
        if not hasattr(c, "walk_commands")  # groups are not commands one can run
    }


async def test_every_cell_of_the_permission_matrix(harness: Harness):
    """Discord-only: every command but the Reddit ones is registered, and each cell behaves."""
    await walk_matrix(harness, reddit=False)


async def test_every_cell_of_the_permission_matrix_with_reddit_configured(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """With Reddit configured every row of the matrix is a registered command, and each cell behaves."""
    sb = reddit_sb
    sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot",), flairs=("Sponsored",))
    sb.add_subreddit("OatLovers", moderators=("MicrovoiceBot",))
    h = await start_with_reddit(launcher, sb)
    assert "now part of this community" in await bind(h, "r/VeganCooking")
    await walk_matrix(h, reddit=True)


async def walk_matrix(h: Harness, *, reddit: bool) -> None:
    w = h.world
    rows = [c for c in ORDER if reddit or c not in REDDIT_ONLY]
    # every command the bot registers has its row, and every row walked here is registered
    assert tree_commands(h) == set(rows)
    await check_help(h, rows)
    s = await build_scene(h)
    callers = {
        Role.MODERATOR: (w.owner, MANAGE_GUILD),
        Role.BRAND_MANAGER: (w.bob, BASIC),
        Role.PARTNER: (w.alice, BASIC),
        Role.MEMBER: (w.carol, BASIC),
    }
    checked = 0
    for command in rows:
        for role in reversed(ROLE_ORDER):  # member first: refusals before the allowed calls change state
            user, perms = callers[role]
            await s.before(command, role)
            refused = role not in MATRIX[command]
            before = await snapshot(h) if refused else None
            options, channel = s.options(command, role), s.channel(command, role)
            reply_ = await run(h, command, user, perms, options, channel)
            refusal = i18n.t("en", refusal_key(command))
            if not refused:
                assert reply_.get("content") not in FAILURES, (command, role, reply_)
                if command == "link reddit":
                    assert CODE.search(reply_["content"]), reply_
            else:
                assert reply_["type"] == 4 and reply_["flags"] & EPHEMERAL, (command, role, reply_)
                assert reply_["content"] == refusal, (command, role, reply_["content"])
                assert not reply_.get("embeds") and not reply_.get("components"), (command, role)
                assert await snapshot(h) == before, (command, role)
            checked += 1
    assert checked == 4 * len(rows)
    # The allowed calls did what they say.
    states = dict(await h.rows("SELECT id, state FROM activations"))
    assert states[s.to_approve] == "scheduled" and states[s.to_reject] == "rejected"
    assert {states[a] for a in s.to_cancel.values()} == {"cancelled"}
    assert await h.scalar("SELECT count(*) FROM activations WHERE title = 'Ask us'") == 4  # qa, takeover × 2
    assert await h.scalar("SELECT count(*) FROM community_giveaways") == 1  # by the moderator only
    assert await h.scalar("SELECT count(*) FROM giveaway_draws") == 2  # the draw and one reroll
    assert await h.scalar("SELECT count(*) FROM activation_codes") == 4  # two pools of two
    assert await h.scalar("SELECT count(*) FROM code_redemptions") == 1
    assert await h.scalar("SELECT answered_by FROM qa_questions WHERE id = ?", s.question) == w.bob
    on_reddit = "SELECT count(*) FROM activations a JOIN reddit_subreddits r ON r.subreddit_id = a.channel_id"
    if reddit:
        # reddit-qa, -giveaway and -announcement, each by the moderator and the brand manager, pending
        assert await h.scalar(f"{on_reddit} WHERE a.state = 'pending'") == 6
        assert await h.scalar(f"{on_reddit} WHERE a.kind = 'giveaway'") == 2
        assert await h.scalar(f"{on_reddit} WHERE a.kind = 'announcement'") == 2
        assert await h.rows("SELECT name, sponsored_flair_id IS NOT NULL FROM reddit_subreddits") == [
            ("VeganCooking", 1)
        ]  # r/OatLovers was bound and unbound by the moderator
        assert await h.scalar("SELECT count(*) FROM reddit_link_codes") == 0  # withdrawn by /link remove
    assert await h.scalar("SELECT count(*) FROM activations WHERE kind = 'giveaway'") == 5 + 2 * reddit

    await check_own_brands_and_the_taker(h, s, reddit=reddit)


async def check_help(h: Harness, rows: list[str]) -> None:
    """/help lists, for a moderator, exactly the registered commands a moderator or anyone may run."""
    answer = await run(h, "help", h.world.owner, MANAGE_GUILD, {})
    text = "\n".join(f["value"] for f in answer["embeds"][0]["fields"])
    listed = {line.split("`")[1].removeprefix("/") for line in text.splitlines()}
    expected = {c for c in rows if MATRIX[c] & {Role.MODERATOR, Role.MEMBER}}
    assert listed == expected, listed ^ expected


Check = tuple[str, int, dict[str, Any], int, str | tuple[str, dict[str, Any]]]


async def check_own_brands_and_the_taker(h: Harness, s: Scene, *, reddit: bool) -> None:
    """The limited cells from the other side: alice manages the brand Other, not Acme; bob is the taker
    in #vegan-cooking, not in #general."""
    w, store, now = h.world, h.app.store, h.clock.now
    other = await store.create_brand(w.guild, "Other", [w.alice], [], by=w.owner, now=now)
    await store.set_brand_status(
        w.guild, other.id, expected="pending", status="approved", by=w.owner, now=now
    )
    later = now + timedelta(days=9)
    proposal = {
        "brand": s.acme,
        "channel": w.cooking,
        "title": "Not mine",
        "starts": at(later),
        "ends": at(later + timedelta(hours=1)),
    }
    not_manager = "activation.error.not_manager"
    cases: list[Check] = [
        # another brand is as unknown to a manager as one that does not exist: its name tells nothing
        ("brand show", w.bob, {"brand": "Other"}, w.general, ("brand.unknown", {"name": isolate("Other")})),
        (
            "brand partners",
            w.bob,
            {"brand": "Other"},
            w.general,
            ("brand.unknown", {"name": isolate("Other")}),
        ),
        ("activation create qa", w.alice, proposal, w.general, not_manager),
        (
            "activation create giveaway",
            w.alice,
            giveaway_options(h, brand=s.acme, starts=proposal["starts"], ends=proposal["ends"]),
            w.general,
            not_manager,
        ),
        ("activation create takeover", w.alice, {**proposal, "taker": w.bob}, w.general, not_manager),
        ("activation cancel", w.alice, {"id": s.pending_giveaway}, w.general, not_manager),
        ("activation show", w.alice, {"id": s.ended_giveaway}, w.general, not_manager),
        ("report activation", w.alice, {"id": s.ended_giveaway}, w.general, not_manager),
        (
            "activation codes",
            w.alice,
            {"id": s.pending_giveaway, "file": ("c.txt", b"X-1\n")},
            w.general,
            not_manager,
        ),
        (
            "activation redemptions",
            w.alice,
            {"id": s.pending_giveaway, "file": ("s.csv", b"code\nX-1\n")},
            w.general,
            not_manager,
        ),
        (
            "qa answer",
            w.alice,
            {"question": s.question, "text": "Not mine"},
            w.general,
            "activation.error.not_brand_manager",
        ),
        # bob's takeover is live in #vegan-cooking; in #general he is not the taker, nor is alice there.
        ("takeover post", w.bob, {}, w.general, "takeover.error.no_live"),
        ("takeover post", w.alice, {}, w.cooking, "takeover.error.no_live"),
    ]
    if reddit:
        in_subreddit = {**proposal, "subreddit": "r/VeganCooking"}
        del in_subreddit["channel"]
        cases.append(("activation create reddit-qa", w.alice, in_subreddit, w.general, not_manager))
        news = {**in_subreddit, "text": "Not mine either"}
        cases.append(("activation create reddit-announcement", w.alice, news, w.general, not_manager))
        prize = {k: v for k, v in in_subreddit.items() if k != "title"} | {"prize": "Oats", "rules": "One."}
        cases.append(
            ("activation create reddit-giveaway", w.alice, {**prize, "winners": 1}, w.general, not_manager)
        )
    before = await snapshot(h)
    for command, user, options, channel, key in cases:
        answer = await run(h, command, user, BASIC, options, channel)
        said = i18n.t("en", key) if isinstance(key, str) else i18n.t("en", key[0], **key[1])
        assert answer["flags"] & EPHEMERAL and answer["content"] == said, (command, answer)
    if reddit:  # a subreddit that is not bound here is refused before anything is written
        elsewhere = {**in_subreddit, "subreddit": "r/Elsewhere"}
        answer = await run(h, "activation create reddit-qa", w.bob, BASIC, elsewhere)
        assert answer["content"] == i18n.t("en", "reddit.not_bound", name="Elsewhere"), answer
    assert await snapshot(h) == before
    listed = (await run(h, "brand list", w.bob, BASIC, {}))["embeds"][0]["description"]
    assert "Acme" in listed and "Other" not in listed
    mine = (await run(h, "activation list", w.alice, BASIC, {}))["embeds"][0]["description"]
    assert mine == i18n.t("en", "activation.list_empty")  # Other has none; Acme's are not shown
    theirs = (await run(h, "activation list", w.bob, BASIC, {}))["embeds"][0]["description"]
    assert f"**#{s.ended_giveaway}**" in theirs
    # a moderator who is no contact of the brand cannot answer in its name
    refused = await run(h, "qa answer", w.owner, MANAGE_GUILD, {"question": s.question, "text": "x"})
    assert refused["content"] == i18n.t("en", "error.brand_manager_only")
