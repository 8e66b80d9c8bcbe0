"""`make demo`, brand side: partners opt in, a brand is sanctioned, and a disclosed, provably fair giveaway
runs from proposal to verified draw — every step through the real bot and the sandbox, as members,
the brand's contact and a moderator would do it (slash commands, buttons), printed as a narrative.

The bot's clock is a `DemoClock` (real time plus an offset) so the demo can move it to a giveaway's start
and end instead of waiting; with no offset the bot behaves exactly as with the real clock.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from bot.activations import draw as giveaway
from bot.partners import lookup_key
from sandbox.demo_reports import show_reports
from sandbox.simulator import SimCommunity

if TYPE_CHECKING:
    from bot.activations import Activation
    from bot.app import App, MicrovoiceBot
    from sandbox.discord_server import DiscordSandbox, Interaction, RecordedCall

T = TypeVar("T")

MANAGE_GUILD = 1 << 5
BASIC = (1 << 10) | (1 << 11)  # view channel, send messages: an ordinary member
STEP_S = 10.0  # longest wait for one answer from the bot
TOTAL_S = 60.0  # longest the whole brand side may take
BRAND = "Northwind Coffee"
PRIZE = "A year of Northwind Coffee beans"
RULES = "One entry per member. Three winners are drawn when the giveaway ends and must claim within 7 days."
WINNERS = 3
ENTRANTS = 9
ENTER = "microvoice:giveaway:enter:{}"
_HEX64 = re.compile(r"\b[0-9a-f]{64}\b")
_USER = re.compile(r"<@!?(\d+)>")


class DemoClock:
    """The bot's clock in the demo: real time plus an offset the demo only ever moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def move_to(self, moment: datetime) -> None:
        self.offset = max(self.offset, moment - datetime.now(UTC))


class BrandDemoError(RuntimeError):
    """A step of the brand demo did not go as the bot should make it go; the message says which."""


async def show_brand_partnership(
    sandbox: DiscordSandbox,
    bot: MicrovoiceBot,
    community: SimCommunity,
    *,
    moderator: int | None = None,
) -> None:
    """Run the brand side of the demo against the connected bot, printing what happens; raises
    BrandDemoError (with the step that failed) rather than hanging."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(TOTAL_S):
            await _BrandDemo(sandbox, bot, community, moderator).run()
    except TimeoutError as exc:
        raise BrandDemoError(f"the brand demo did not finish within {TOTAL_S:g} s") from exc
    print(f"\n  (brand side: {time.perf_counter() - started:.1f} s)")


#: The brand whose staff are members of the simulated server (the simulator's "brand_staff").
RESIDENT_BRAND = "Lakeside Outfitters"


async def register_resident_brand(
    sandbox: DiscordSandbox,
    bot: MicrovoiceBot,
    community: SimCommunity,
    *,
    moderator: int | None = None,
) -> None:
    """A brand already works with the server and its staff are members (they post announcements and
    answer support questions): a moderator registered it with the staff as its contacts, as they
    would have when it arrived, so no listing ranks them. Printed as one line of the narrative."""
    async with asyncio.timeout(TOTAL_S):
        await _BrandDemo(sandbox, bot, community, moderator).register_resident()


class _BrandDemo:
    def __init__(
        self, sandbox: DiscordSandbox, bot: MicrovoiceBot, community: SimCommunity, moderator: int | None
    ) -> None:
        if bot.app is None or not isinstance(bot.app.clock, DemoClock):
            raise BrandDemoError("the bot must be built with clock=DemoClock() (see run_demo)")
        self.sb, self.bot, self.community = sandbox, bot, community
        self.app: App = bot.app
        self.clock: DemoClock = bot.app.clock
        self.guild = community.guild_id
        self.moderator = moderator or next(m.id for m in community.members if not m.is_bot)
        self.channels = {c.id: c.name for c in community.channels}
        self.channel = next(c.id for c in community.channels if c.type == 0)  # the first topic channel

    # -- the story ----------------------------------------------------------------------------------

    async def run(self) -> None:
        print("\nBrand partnerships, end to end through the bot (what a moderator would see):")
        ranked = await self._ranked()
        if len(ranked) < 2:
            print("  fewer than 2 members are ranked yet; nothing to show on the brand side")
            return
        absent, joiners = ranked[0], ranked[1:4]
        decliner = ranked[4] if len(ranked) > 4 else None
        contact = self._pick_contact({r for r, _ in ranked})

        print("\n1. Partner program: trusted members opt in with /partner join and the Accept button")
        for member, rank in joiners:
            text = await self._partner_join(member, "Accept")
            print(f"   {self.name(member)} (#{rank}) accepts: {_first_sentence(text)}")
        if decliner is not None:
            text = await self._partner_join(decliner[0], "Decline")
            print(f"   {self.name(decliner[0])} (#{decliner[1]}) declines: {_first_sentence(text)}")
        most = ", the most trusted member" if absent[1] == 1 else ""
        print(f"   {self.name(absent[0])} (#{absent[1]}{most}) does not run /partner join.")

        print(f"\n2. A moderator registers the brand {BRAND} with its contact and approves it")
        text = await self._mod("brand", "register", {"name": BRAND, "contact": contact})
        print(f"   /brand register → {self.readable(text)}")
        brand = await self.app.store.find_brand(self.guild, lookup_key(BRAND))
        if brand is None:
            raise BrandDemoError(f"/brand register did not create the brand: {text}")
        text = await self._mod("brand", "approve", {"brand": BRAND})
        print(f"   /brand approve → {self.readable(text)}")

        await self._brand_partners(contact, [m for m, _ in joiners], absent, decliner)

        print("\n4. The brand manager proposes a giveaway; a moderator approves it")
        activation_id = await self._propose(contact, brand.id, starts="+1h", ends="+25h")
        text = await self._approve(activation_id)
        print(f"   /activation approve {activation_id} → {self.readable(text)}")

        await self._run_giveaway(activation_id, contact, [m for m, _ in joiners])
        await show_reports(self.app, self.guild, activation_id)
        await self._localized(contact, brand.id, [m for m, _ in joiners])

    async def register_resident(self) -> None:
        """`register_resident_brand`: the brand, its staff as contacts, and one line printed."""
        staff = sorted(self.community.labels.get("brand_staff", ()))
        if not staff:
            return
        options: dict[str, Any] = {"name": RESIDENT_BRAND}
        options.update(zip(("contact", "contact2", "contact3"), staff, strict=False))
        text = await self._mod("brand", "register", options)
        if await self.app.store.find_brand(self.guild, lookup_key(RESIDENT_BRAND)) is None:
            raise BrandDemoError(f"/brand register did not create the resident brand: {text}")
        for member in staff[3:]:
            await self._mod("brand", "contact-add", {"brand": RESIDENT_BRAND, "member": member})
        names = ", ".join(self.name(m) for m in staff)
        print(
            f"A moderator registered {RESIDENT_BRAND}, whose staff are on the server ({names}), with them"
            " as its contacts: no listing ranks a brand's contacts."
        )

    async def _ranked(self) -> list[tuple[int, int]]:
        """(member, rank) of the most trusted members, as /voices top shows them; moderators left out."""
        page = await self.app.voices.top(self.guild, "all", per_page=10)
        return [(e.member_id, e.rank) for e in page.entries if e.member_id != self.moderator]

    def _pick_contact(self, ranked: set[int]) -> int:
        """An established member who is neither ranked at the top nor a moderator acts for the brand
        (an ordinary one, by the simulator's hidden labels, when there is one)."""
        candidates = [
            m.id
            for m in self.community.members
            if not m.is_bot
            and m.id not in ranked
            and m.id != self.moderator
            and m.joined_at < self.community.start
        ]
        if not candidates:
            raise BrandDemoError("the simulated community has no established member to act for the brand")
        ordinary = self.community.labels.get("ordinary", frozenset())
        return next((m for m in candidates if m in ordinary), candidates[0])

    async def _brand_partners(
        self, contact: int, joiners: list[int], absent: tuple[int, int], decliner: tuple[int, int] | None
    ) -> None:
        print(f"\n3. /brand partners, as the brand manager {self.name(contact)} sees it (ephemeral)")
        interaction = await self.sb.slash(
            self.guild, self.channel, contact, "brand", subcommand="partners", permissions=BASIC
        )
        data = await self._answer(interaction, "/brand partners")
        if not data.get("embeds"):
            raise BrandDemoError(f"/brand partners was refused: {data.get('content')}")
        embed = data["embeds"][0]
        print(f"   {self.readable(embed.get('title', ''))}")
        for line in str(embed.get("description", "")).splitlines():
            print(f"     {self.readable(line)}")
        print(f"   {self.readable(embed.get('footer', {}).get('text', ''))}")
        listed = [int(m) for m in _USER.findall(str(embed.get("description", "")))]
        if absent[0] in listed or (decliner is not None and decliner[0] in listed):
            raise BrandDemoError("/brand partners listed a member who did not opt in")
        if listed != joiners:
            raise BrandDemoError(f"/brand partners listed {listed}, expected the partners {joiners}")
        missing = f"{self.name(absent[0])} (#{absent[1]} in the community)"
        if decliner is not None:
            missing += f" and {self.name(decliner[0])} (#{decliner[1]}, declined)"
        print(f"   Only the {len(listed)} partners are listed; {missing} did not opt in and are absent.")

    async def _propose(
        self, contact: int, brand_id: int, *, starts: str, ends: str, show: bool = True
    ) -> int:
        before = int(await self.app.store.scalar("SELECT coalesce(max(id), 0) FROM activations"))
        options = {
            "brand": brand_id,
            "channel": self.channel,
            "prize": PRIZE,
            "rules": RULES,
            "winners": WINNERS,
            "starts": starts,
            "ends": ends,
        }
        interaction = await self.sb.slash(
            self.guild,
            self.channel,
            contact,
            "activation",
            options,
            subcommand=["create", "giveaway"],
            permissions=BASIC,
        )
        first = str((await self._answer(interaction, "/activation create giveaway")).get("content", ""))
        after = int(await self.app.store.scalar("SELECT coalesce(max(id), 0) FROM activations"))
        if after <= before:
            raise BrandDemoError(f"/activation create giveaway was refused: {first}")
        if "SHA-256" not in first:
            raise BrandDemoError(f"/activation create giveaway gave no fairness commitment: {first}")
        if show:
            print(f"   /activation create giveaway → {self.readable(first)}")
        return after

    async def _approve(self, activation_id: int) -> str:
        text = await self._mod("activation", "approve", {"id": activation_id})
        activation = await self._activation(activation_id)
        if activation.state != "scheduled":
            raise BrandDemoError(f"/activation approve {activation_id} was refused: {text}")
        return text

    async def _run_giveaway(self, activation_id: int, contact: int, partners: list[int]) -> None:
        opening = await self._go_live(activation_id, "5.")
        commitment = _one_hex(opening["embeds"][0].get("description", ""), "the opening post's commitment")
        print(f"   Commitment (SHA-256 of the secret seed): {commitment}")

        entrants = self._entrants(contact, partners)
        print(f"\n6. {len(entrants)} members press Enter; the brand's contact and a moderator try too")
        answers = {m: await self._click(opening, activation_id, m, BASIC) for m in entrants}
        print(f"   {', '.join(self.name(m) for m in entrants)}")
        for answer in dict.fromkeys(answers.values()):
            who = [self.name(m) for m, a in answers.items() if a == answer]
            each = (
                "each is"
                if len(who) == len(answers)
                else ", ".join(who) + (" is" if len(who) == 1 else " are")
            )
            print(f"   {each} told: {self.readable(answer)}")
        refused = await self._click(opening, activation_id, contact, BASIC)
        print(f"   {self.name(contact)} (brand contact) is told: {self.readable(refused)}")
        refused = await self._click(opening, activation_id, self.moderator, MANAGE_GUILD)
        print(f"   {self.name(self.moderator)} (moderator) is told: {self.readable(refused)}")

        activation = await self._activation(activation_id)
        self.clock.move_to(activation.ends_at)
        print(
            f"\n7. The clock moves to the end ({_utc(activation.ends_at)}): the bot draws and posts results"
        )
        await self._run_due("the giveaway's end")
        results = self._results_post(activation_id)
        content = str(results.json.get("content") or "")
        description = str(results.json["embeds"][0].get("description", ""))
        print(f"   Results post, first line: {self.readable(_first_line(content))}")
        winners = [int(m) for m in _USER.findall(_first_line(description))]
        seed = _revealed_seed(description, commitment)
        if seed is None:
            raise BrandDemoError("the results post does not reveal the seed")
        print(f"   Winners: {', '.join(self.name(w) for w in winners)}")
        print(f"   Revealed seed: {seed}")
        name, listing = results.files[0]
        self._verify(seed, commitment, winners, listing.decode("ascii"), name, description)

    def _verify(
        self, seed: str, commitment: str, winners: list[int], listing: str, name: str, description: str
    ) -> None:
        """What `python -m bot verify-giveaway` does, on what the public posts show."""
        entrants = giveaway.canonical_entrants(giveaway.parse_entrant_ids(listing))
        print(
            f"\n8. Anyone can check the draw: python -m bot verify-giveaway --seed {seed[:8]}… "
            f"--commitment {commitment[:8]}… --winners {WINNERS} --entrants-file {name}"
        )
        committed = giveaway.verify_commitment(seed, commitment)
        drawn = giveaway.draw_rounds(seed, entrants, [WINNERS])[0]
        print(
            "   commitment: "
            + (
                "OK, sha256(seed) matches the hash published before anyone entered"
                if committed
                else "MISMATCH"
            )
        )
        listed = giveaway.entrants_digest(entrants) in description
        print(
            f"   {len(entrants)} entrants in {name}"
            + (" (its SHA-256 is the one on the results post)" if listed else " (SHA-256 MISMATCH)")
            + f"; the draw gives {', '.join(self.name(w) for w in drawn)}"
        )
        if not committed or not listed or drawn != winners:
            raise BrandDemoError(f"the draw does not verify: drew {drawn}, announced {winners}")
        print("   verified: the revealed seed matches the commitment and reproduces the announced winners")

    async def _localized(self, contact: int, brand_id: int, partners: list[int]) -> None:
        print("\n9. A moderator switches the community to Hebrew; the next giveaway is disclosed in Hebrew")
        text = await self._mod("microvoice", "setup", {"locale": "he"})
        print(f"   /microvoice setup locale:he → {self.readable(text)}")
        # The saturation guard wants 24 hours between sponsored activations: start a day after the first.
        activation_id = await self._propose(contact, brand_id, starts="+25h", ends="+49h", show=False)
        await self._approve(activation_id)
        print(f"   Giveaway #{activation_id} is proposed and approved the same way; it goes live:")
        opening = await self._go_live(activation_id)
        print(f'   (the same disclosure as "Ad · Gifted product from {BRAND}"; no setting removes it)')
        entrants = self._entrants(contact, partners)[:4]
        answers = {m: await self._click(opening, activation_id, m, BASIC) for m in entrants}
        print(f"   {len(entrants)} members press Enter; what each is told is in Hebrew too:")
        for answer in dict.fromkeys(answers.values()):
            who = ", ".join(self.name(m) for m, a in answers.items() if a == answer)
            print(f"   {who}: {self.readable(answer)}")

    # -- steps --------------------------------------------------------------------------------------

    async def _go_live(self, activation_id: int, heading: str | None = None) -> dict[str, Any]:
        activation = await self._activation(activation_id)
        self.clock.move_to(activation.starts_at)
        if heading is not None:
            print(
                f"\n{heading} The bot's clock moves to the start ({_utc(activation.starts_at)}): "
                f"the giveaway goes live in #{self.channels[self.channel]}"
            )
        await self._run_due("the giveaway's start")
        activation = await self._activation(activation_id)
        opening = self.sb.message(activation.message_id or 0)
        if activation.state != "live" or opening is None:
            raise BrandDemoError(f"giveaway #{activation_id} did not open (state {activation.state})")
        print(f"   Opening post, first line: {self.readable(_first_line(opening.get('content')))}")
        print(f"   Embed title: {self.readable(opening['embeds'][0].get('title', ''))}")
        return opening

    async def _activation(self, activation_id: int) -> Activation:
        activation = await self.app.store.get_activation(self.guild, activation_id)
        if activation is None:
            raise BrandDemoError(f"activation #{activation_id} is missing")
        return activation

    async def _run_due(self, what: str) -> None:
        """What the scheduler's job would run at the moved clock (its real-time trigger is hours away)."""
        done = await _within(what, self.app.activations.run_due())
        if not done:
            raise BrandDemoError(f"nothing happened at {what}")

    def _entrants(self, contact: int, partners: list[int]) -> list[int]:
        """Two partners and other established members, but never the brand's contact or the moderator."""
        chosen = partners[:2]
        for m in self.community.members:
            if len(chosen) >= ENTRANTS:
                break
            if m.is_bot or m.id in (contact, self.moderator, *chosen) or m.joined_at >= self.community.start:
                continue
            chosen.append(m.id)
        return chosen

    async def _click(self, opening: dict[str, Any], activation_id: int, member: int, perms: int) -> str:
        interaction = await self.sb.click(
            opening, ENTER.format(activation_id), member, guild_id=self.guild, permissions=perms
        )
        return str(
            (await self._answer(interaction, f"{self.name(member)} pressing Enter")).get("content", "")
        )

    def _results_post(self, activation_id: int) -> RecordedCall:
        posts = [
            c
            for c in self.sb.rest.find("POST", "/channels/{channel_id}/messages")
            if c.path.split("/")[2] == str(self.channel) and c.files and c.status == 200
        ]
        if not posts:
            raise BrandDemoError(f"giveaway #{activation_id} ended but no results post was made")
        return posts[-1]

    async def _partner_join(self, member: int, choice: str) -> str:
        interaction = await self.sb.slash(
            self.guild, self.channel, member, "partner", subcommand="join", permissions=BASIC
        )
        await self._answer(interaction, "/partner join")
        message = interaction.message
        if message is None:
            raise BrandDemoError("/partner join showed no terms")
        buttons = {c.get("label"): c["custom_id"] for row in message["components"] for c in row["components"]}
        if choice not in buttons:
            raise BrandDemoError(f"/partner join offered no {choice} button: {sorted(map(str, buttons))}")
        clicked = await self.sb.click(
            message, buttons[choice], member, guild_id=self.guild, permissions=BASIC
        )
        return str((await self._answer(clicked, f"/partner join → {choice}")).get("content", ""))

    async def _mod(self, command: str, sub: str, options: dict[str, Any]) -> str:
        """A moderator (Manage Server) runs a command; returns the (ephemeral) text they see."""
        interaction = await self.sb.slash(
            self.guild,
            self.channel,
            self.moderator,
            command,
            options,
            subcommand=sub,
            permissions=MANAGE_GUILD,
        )
        return str((await self._answer(interaction, f"/{command} {sub}")).get("content", ""))

    async def _answer(self, interaction: Interaction, what: str) -> dict[str, Any]:
        """The text the user sees: the immediate reply, or the followup after a deferral."""
        call = await _within(what, interaction.response(timeout=STEP_S))
        if call.json.get("type") == 5:
            return dict((await _within(what, interaction.wait_followup(timeout=STEP_S))).json)
        return dict(call.json.get("data") or {})

    # -- presentation -------------------------------------------------------------------------------

    def name(self, member_id: int) -> str:
        try:
            return self.community.member(member_id).name
        except KeyError:
            return str(member_id)

    def readable(self, text: str) -> str:
        """Discord markup as a person reads it: names for mentions, UTC for timestamps, no markdown."""
        text = _USER.sub(lambda m: "@" + self.name(int(m.group(1))), text)
        text = re.sub(r"<#(\d+)>", lambda m: "#" + self.channels.get(int(m.group(1)), m.group(1)), text)
        text = re.sub(
            r"<t:(\d+)(?::\w)?>", lambda m: _utc(datetime.fromtimestamp(int(m.group(1)), UTC)), text
        )
        for mark in ("**", "`", "\u2068", "\u2069"):
            text = text.replace(mark, "")
        return text


async def _within(what: str, awaitable: Awaitable[T], timeout: float = STEP_S) -> T:  # noqa: ASYNC109
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except TimeoutError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "no answer"
        raise BrandDemoError(f"{what}: the bot did not answer within {timeout:g} s ({first})") from exc


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _first_line(text: object) -> str:
    lines = str(text or "").splitlines()
    return lines[0] if lines else ""


def _first_sentence(text: str) -> str:
    head, dot, _ = text.partition(". ")
    return head + dot.strip()


def _revealed_seed(description: str, commitment: str) -> str | None:
    """The results post shows the seed beside the commitment it must match (the entrant list's hash is on
    a line of its own), whatever the language."""
    for line in description.splitlines():
        found = _HEX64.findall(line)
        if commitment in found and len(set(found)) > 1:
            return next(h for h in found if h != commitment)
    return None


def _one_hex(text: str, what: str) -> str:
    found = _HEX64.findall(text)
    if not found:
        raise BrandDemoError(f"{what} is missing")
    return str(found[0])
