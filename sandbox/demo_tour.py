"""`make demo`, the rest of the product, briefly: a Q&A with disclosed posts, a channel takeover and its
exact restore, promo codes and their conversion, a community giveaway ended early with its draw, a
topic's trusted voices with a trusted-voice role, a member's export, the audit log and /help — each
step through the real bot and the sandbox, as members, the brand's contact and a moderator would do it.

Runs after the brand side (`sandbox.demo_brands`), on the same bot and community: the brand is approved
and some members are partners. Channel and member ids are shown by name (`#general`, `@koala.472`).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sandbox.demo_brands import BASIC, MANAGE_GUILD, BrandDemoError, DemoClock
from sandbox.simulator import SimCommunity

if TYPE_CHECKING:
    from bot.app import App, MicrovoiceBot
    from sandbox.discord_server import DiscordSandbox, Interaction

T = TypeVar("T")

STEP_S = 10.0  # longest wait for one answer from the bot
TOTAL_S = 60.0  # longest the whole tour may take
ASK = "microvoice:qa:ask"
QUESTION_INPUT = "microvoice:qa:question"
ENTER = "microvoice:giveaway:enter:{}"
CODE = "microvoice:codes:claim:{}"
CODES = [f"ROAST-{n:03d}" for n in range(1, 9)]


async def show_tour(
    sandbox: DiscordSandbox, bot: MicrovoiceBot, community: SimCommunity, *, moderator: int
) -> None:
    """Run the tour against the connected bot, printing what happens; raises BrandDemoError (naming the
    step) rather than hanging."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(TOTAL_S):
            await _Tour(sandbox, bot, community, moderator).run()
    except TimeoutError as exc:
        raise BrandDemoError(f"the tour did not finish within {TOTAL_S:g} s") from exc
    print(f"\n  (tour: {time.perf_counter() - started:.1f} s)")


class _Tour:
    def __init__(
        self, sandbox: DiscordSandbox, bot: MicrovoiceBot, community: SimCommunity, moderator: int
    ) -> None:
        if bot.app is None or not isinstance(bot.app.clock, DemoClock):
            raise BrandDemoError("the bot must be built with clock=DemoClock() (see run_demo)")
        self.sb, self.community, self.moderator = sandbox, community, moderator
        self.app: App = bot.app
        self.clock: DemoClock = bot.app.clock
        self.guild = community.guild_id
        self.topics = [c.id for c in community.channels if c.type == 0]
        self.names = {c.id: c.name for c in community.channels}
        self.members = {m.id: m.name for m in community.members}

    async def run(self) -> None:
        audit = self.sb.add_channel(self.guild, "mod-log")
        self.names[audit] = "mod-log"
        await self.mod(
            "microvoice", "setup", {"locale": "en", "max_sponsored_per_week": 20, "min_gap_hours": 0}
        )
        text = await self.mod("microvoice", "audit", {"channel": audit})
        print(f"\n10. The rest of the product. /microvoice audit channel:#mod-log → {self.readable(text)}")
        brands = await self.app.store.list_brands(self.guild)
        brand = next((b for b in brands if b.status == "approved"), None)
        if brand is None:  # the brand side had too few ranked members to run
            print("   (no approved brand: the rest of the tour needs the brand side's partnership)")
            return
        contact = brand.contacts[0]
        partners = [
            int(r[0])
            for r in await self.app.store.fetch_all(
                "SELECT member_id FROM partners WHERE community_id = :c AND opted_out_at IS NULL"
                " ORDER BY member_id",
                dict(c=self.guild),
            )
        ]
        after = max(a.ends_at for a in await self.app.store.list_activations(self.guild))
        qa_id = await self.qa(brand.id, contact, partners, after)
        await self.codes(qa_id, contact, partners)
        await self.takeover(brand.id, contact, partners[0], after + timedelta(hours=3))
        await self.community_giveaway(after + timedelta(hours=5))
        await self.voices(partners)
        await self.export(partners[0])
        await self.help(partners[-1])
        print("\n17. The audit log: one line per privileged event, in #mod-log (first lines)")
        for message in self.sb.messages(audit)[:12]:
            print(f"   {self.readable(message['content'])}")

    # -- steps ------------------------------------------------------------------------------------------

    async def qa(self, brand: int, contact: int, partners: list[int], after: datetime) -> int:
        print("\n11. A Q&A: the brand proposes it, a moderator approves, members ask, the brand answers")
        start = after + timedelta(hours=1)
        options = {
            "brand": brand,
            "channel": self.topics[0],
            "title": "Ask our roaster anything",
            "starts": _at(start),
            "ends": _at(start + timedelta(hours=1, minutes=30)),
        }
        activation_id = await self.create("qa", contact, options)
        await self.mod("activation", "approve", {"id": activation_id})
        opening = await self.go_live(activation_id, start)
        print(
            f"   Opening post in #{self.names[self.topics[0]]}: "
            + self.readable(opening["embeds"][0]["title"])
        )
        asker = partners[1 % len(partners)]
        clicked = await self.sb.click(opening, ASK, asker, guild_id=self.guild, permissions=BASIC)
        modal = (await _within("the Ask button", clicked.response(timeout=STEP_S))).json
        submitted = await self.sb.submit_modal(
            modal["data"]["custom_id"],
            {QUESTION_INPUT: "How dark is the house roast?"},
            asker,
            guild_id=self.guild,
            channel_id=self.topics[0],
        )
        await self.answer(submitted, "the question")
        question_id = int(
            await self.app.store.scalar(
                "SELECT max(id) FROM qa_questions WHERE activation_id = :a", dict(a=activation_id)
            )
        )
        thread = int(
            await self.app.store.scalar(
                "SELECT thread_id FROM activations WHERE id = :a", dict(a=activation_id)
            )
        )
        await self.run_as(
            contact, "qa", "answer", {"question": question_id, "text": "Medium-dark, roasted on Tuesdays."}
        )
        posts = self.sb.messages(thread)
        print(
            f"   {self.name(asker)} asks through a form; in the thread ({len(posts)} posts),"
            " every one disclosed:"
        )
        for post in posts[-2:]:
            print(f"     {self.readable(post.get('content') or post['embeds'][0].get('title', ''))[:150]}")
        return activation_id

    async def codes(self, activation_id: int, contact: int, partners: list[int]) -> None:
        print("\n12. Promo codes: the brand uploads unique codes, members claim one each, the shop reports")
        file = ("codes.txt", "\n".join(CODES).encode())
        text = await self.run_as(contact, "activation", "codes", {"id": activation_id, "file": file})
        print(f"   /activation codes → {self.readable(text)}")
        post = next(m for m in reversed(self.sb.messages(self.topics[0])) if m.get("components"))
        for member in partners[:3]:
            clicked = await self.sb.click(
                post, CODE.format(activation_id), member, guild_id=self.guild, permissions=BASIC
            )
            answer = await self.answer(clicked, "Get a code")
            print(f"   {self.name(member)} gets: {self.readable(_last_line(answer.get('content')))}")
        claimed = [
            str(r[0])
            for r in await self.app.store.fetch_all(
                "SELECT code FROM activation_codes WHERE activation_id = :a AND claimed_by IS NOT NULL"
                " ORDER BY code",
                dict(a=activation_id),
            )
        ]
        csv = (
            "orders.csv",
            ("code,order\n" + "".join(f"{c},A{i}\n" for i, c in enumerate(claimed[:2]))).encode(),
        )
        text = await self.run_as(contact, "activation", "redemptions", {"id": activation_id, "file": csv})
        print(f"   /activation redemptions (the shop's CSV) → {self.readable(text)}")

    async def takeover(self, brand: int, contact: int, taker: int, start: datetime) -> None:
        channel = self.topics[1 % len(self.topics)]
        print(
            f"\n13. A takeover of #{self.names[channel]} by the partner {self.name(taker)},"
            " and its exact restore"
        )
        before = (self.sb.channel_overwrites(channel), self.sb.channel(channel).get("topic"))
        options = {
            "brand": brand,
            "channel": channel,
            "title": "A day with our roaster",
            "taker": taker,
            "starts": _at(start),
            "ends": _at(start + timedelta(hours=1)),
        }
        activation_id = await self.create("takeover", contact, options)
        await self.mod("activation", "approve", {"id": activation_id})
        await self.go_live(activation_id, start)
        mine = [o for o in self.sb.channel_overwrites(channel) if int(o["id"]) == taker]
        print(
            f"   live: {self.name(taker)} may post (overwrite allow={mine[0]['allow'] if mine else '-'}); "
            f"topic: {self.readable(str(self.sb.channel(channel).get('topic')))[:80]}"
        )
        self.clock.move_to(start + timedelta(hours=1, minutes=1))
        await _within("the takeover's end", self.app.activations.run_due())
        after = (self.sb.channel_overwrites(channel), self.sb.channel(channel).get("topic"))
        same = "exactly as before" if _same(before, after) else "DIFFERENT from before"
        print(f"   ended: the channel's overwrites and topic are {same}")
        if not _same(before, after):
            raise BrandDemoError(f"the takeover of #{self.names[channel]} was not restored exactly")

    async def community_giveaway(self, start: datetime) -> None:
        print("\n14. A community giveaway (no brand behind it), ended early by a moderator with its draw")
        self.clock.move_to(start)
        options = {
            "channel": self.topics[0],
            "prize": "A mug from the moderators",
            "winners": 1,
            "no_brand": True,
            "rules": "One entry per member; drawn when it ends.",
            "starts": "now",
            "ends": "+1d",
        }
        text = await self.mod("giveaway", "create", options)
        print(f"   /giveaway create no_brand:True → {self.readable(text)[:140]}…")
        activation_id = int(re.findall(r"#(\d+)", text)[0])
        await _within("the community giveaway's start", self.app.activations.idle(activation_id))
        await asyncio.sleep(0.05)
        activation = await self.app.store.get_activation(self.guild, activation_id)
        opening = self.sb.message(activation.message_id or 0) if activation else None
        if opening is None:
            raise BrandDemoError(f"community giveaway #{activation_id} did not open")
        print(f"   Opening post: {self.readable(_first_line(opening.get('content')))} (no advertising mark)")
        entrants = [m.id for m in self.community.members if not m.is_bot and m.id != self.moderator][:4]
        for member in entrants:
            clicked = await self.sb.click(
                opening, ENTER.format(activation_id), member, guild_id=self.guild, permissions=BASIC
            )
            await self.answer(clicked, "Enter")
        text = await self.mod("giveaway", "end", {"id": activation_id})
        print(f"   /giveaway end → {self.readable(text)}")
        winners = json.loads(
            str(
                await self.app.store.scalar(
                    "SELECT winners FROM giveaway_draws WHERE activation_id = :a AND round = 0",
                    dict(a=activation_id),
                )
            )
        )
        print(
            f"   {len(entrants)} entrants; winner: {', '.join(self.name(w) for w in winners)} "
            "(the same commit-reveal draw, checked by verify-giveaway)"
        )

    async def voices(self, partners: list[int]) -> None:
        topic = self.topics[0]
        print(f"\n15. Trusted voices of one topic, #{self.names[topic]}, and a trusted-voice role for them")
        role = self.sb.add_role(self.guild, "Trusted voice")
        # The server's owner: a moderator hands out only a role they could give themselves (Manage Roles).
        owner = int(self.sb.stored_guild(self.guild).data["owner_id"])
        options = {"role": role, "topic": topic, "top": 3}
        text = await self.run_as(owner, "voices", "role", options, MANAGE_GUILD)
        print(f"   /voices role, by the server's owner → {self.readable(text)}")
        await self.mod("voices", "recompute", {})
        reply = await self.reply_of(
            await self.slash(self.moderator, "voices", "top", {"topic": topic}, MANAGE_GUILD)
        )
        embed = reply["embeds"][0]
        print(f"   /voices top topic:#{self.names[topic]} → {self.readable(embed['title'])}")
        for line in embed.get("description", "").splitlines()[:3]:
            print(f"     {self.readable(line)[:150]}")
        holders = [
            int(r[0])
            for r in await self.app.store.fetch_all(
                "SELECT member_id FROM voice_role_holders WHERE community_id = :c", dict(c=self.guild)
            )
        ]
        print(
            "   holding @Trusted voice after the recompute: "
            + (", ".join(self.name(m) for m in holders) or "nobody")
        )

    async def export(self, member: int) -> None:
        print(f"\n16. {self.name(member)} exports what is stored about them (/privacy export, a JSON file)")
        interaction = await self.slash(member, "privacy", "export", {}, BASIC)
        first = await _within("/privacy export", interaction.response(timeout=STEP_S))
        call = (
            first
            if first.files
            else await _within("/privacy export", interaction.wait_followup(timeout=STEP_S))
        )
        name, data = call.files[0]
        document = json.loads(data)
        tables = document.get("tables", {})
        listed = ", ".join(f"{t} {len(rows)}" for t, rows in sorted(tables.items()))
        print(f"   {name}: {sum(len(r) for r in tables.values())} rows — {listed}")
        print("   (message text: none stored; other people's ids in those rows: replaced by null)")

    async def help(self, member: int) -> None:
        reply = await self.reply_of(await self.slash(member, "help", None, {}, BASIC))
        groups = [f["name"] for f in reply["embeds"][0]["fields"]]
        print(f"\n/help, as the partner {self.name(member)} sees it: {', '.join(dict.fromkeys(groups))}")

    # -- the bot's side ---------------------------------------------------------------------------------

    async def go_live(self, activation_id: int, start: datetime) -> dict[str, Any]:
        """Move the clock to the start and run the start job; the opening post (empty for a takeover)."""
        self.clock.move_to(start + timedelta(minutes=1))
        await _within("the activation's start", self.app.activations.run_due())
        activation = await self.app.store.get_activation(self.guild, activation_id)
        if activation is None or activation.state != "live":
            raise BrandDemoError(f"activation #{activation_id} did not go live")
        return self.sb.message(activation.message_id or 0) or {}

    async def create(self, kind: str, contact: int, options: dict[str, Any]) -> int:
        interaction = await self.sb.slash(
            self.guild,
            self.topics[0],
            contact,
            "activation",
            options,
            subcommand=["create", kind],
            permissions=BASIC,
        )
        text = str((await self.reply_of(interaction)).get("content", ""))
        found = re.findall(r"#(\d+)", text)
        if not found:
            raise BrandDemoError(f"/activation create {kind} was refused: {text}")
        return int(found[0])

    async def mod(self, command: str, sub: str, options: dict[str, Any]) -> str:
        return await self.run_as(self.moderator, command, sub, options, MANAGE_GUILD)

    async def run_as(
        self, user: int, command: str, sub: str, options: dict[str, Any], perms: int = BASIC
    ) -> str:
        return str(
            (await self.reply_of(await self.slash(user, command, sub, options, perms))).get("content", "")
        )

    async def slash(
        self, user: int, command: str, sub: str | None, options: dict[str, Any], perms: int
    ) -> Interaction:
        return await self.sb.slash(
            self.guild, self.topics[0], user, command, options, subcommand=sub, permissions=perms
        )

    async def reply_of(self, interaction: Interaction) -> dict[str, Any]:
        return await self.answer(interaction, "a command")

    async def answer(self, interaction: Interaction, what: str) -> dict[str, Any]:
        call = await _within(what, interaction.response(timeout=STEP_S))
        if call.json.get("type") == 5:
            return dict((await _within(what, interaction.wait_followup(timeout=STEP_S))).json)
        return dict(call.json.get("data") or {})

    # -- presentation -----------------------------------------------------------------------------------

    def name(self, member_id: int) -> str:
        return self.members.get(member_id, str(member_id))

    def readable(self, text: str) -> str:
        """Discord markup as a person reads it: names for mentions and channels, UTC times, no markdown."""
        text = re.sub(r"<@!?(\d+)>", lambda m: "@" + self.name(int(m.group(1))), text)
        text = re.sub(r"<@&(\d+)>", "@Trusted voice", text)
        text = re.sub(r"<#(\d+)>", lambda m: "#" + self.names.get(int(m.group(1)), m.group(1)), text)
        text = re.sub(
            r"<t:(\d+)(?::\w)?>", lambda m: _utc(datetime.fromtimestamp(int(m.group(1)), UTC)), text
        )
        text = re.sub(
            r"https?://\S+/channels/\d+/(\d+)/\d+",
            lambda m: "#" + self.names.get(int(m.group(1)), "thread"),
            text,
        )
        for mark in ("**", "`", "\u2068", "\u2069", "\\"):
            text = text.replace(mark, "")
        return " ".join(text.split())


def _same(before: tuple[list[dict[str, Any]], Any], after: tuple[list[dict[str, Any]], Any]) -> bool:
    def key(o: dict[str, Any]) -> str:
        return str(o["id"])

    return sorted(before[0], key=key) == sorted(after[0], key=key) and before[1] == after[1]


async def _within(what: str, awaitable: Awaitable[T], timeout: float = STEP_S) -> T:  # noqa: ASYNC109
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except TimeoutError as exc:
        raise BrandDemoError(f"{what}: the bot did not answer within {timeout:g} s") from exc


def _at(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _first_line(text: object) -> str:
    lines = str(text or "").splitlines()
    return lines[0] if lines else ""


def _last_line(text: object) -> str:
    lines = str(text or "").splitlines()
    return lines[-1] if lines else ""
