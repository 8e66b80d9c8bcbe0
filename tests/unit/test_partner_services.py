"""PartnerService and BrandService on a real store (temporary SQLite file), no platform."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import i18n
from bot.community import CommunityService
from bot.errors import Forbidden, InvalidInput
from bot.ingest import Ingest
from bot.partners import BrandService, ContactFacts, PartnerService, RoleFacts
from bot.roles import Role, Standing
from bot.store import Store

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GUILD, OTHER = 100, 200
MOD = 9
KICK_MEMBERS = 1 << 1


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def store(database: str | Path):
    s = await Store.open(database)
    yield s
    await s.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def communities(store: Store, clock: Clock) -> CommunityService:
    return CommunityService(store, Ingest(store), clock=clock)


@pytest.fixture
def partners(store: Store, communities: CommunityService, clock: Clock) -> PartnerService:
    return PartnerService(store, communities, clock=clock)


@pytest.fixture
def brands(store: Store, communities: CommunityService, clock: Clock) -> BrandService:
    return BrandService(store, communities, clock=clock)


def moderator() -> Standing:
    return Standing(moderator=True, managed_brands=(), partner=False)


def contacts(*ids: int) -> list[ContactFacts]:
    return [ContactFacts(i, is_bot=False) for i in ids]


# -- partners -------------------------------------------------------------------------------------


async def test_default_terms_are_version_zero_in_the_community_language(
    partners: PartnerService, communities: CommunityService
):
    assert (await partners.terms(GUILD)).body == i18n.t("en", "partner.default_terms")
    await communities.update(GUILD, {"locale": "he"}, by=MOD)
    terms = await partners.terms(GUILD)
    assert (terms.version, terms.body) == (0, i18n.t("he", "partner.default_terms"))


async def test_join_accept_status_and_newer_terms(partners: PartnerService, clock: Clock):
    offer = await partners.offer(GUILD, 5)
    assert offer.partner is None and offer.needs_consent
    assert await partners.accept(GUILD, 5, offer.terms.version)
    assert not (await partners.offer(GUILD, 5)).needs_consent
    status = await partners.status(GUILD, 5)
    assert status.partner is not None and status.partner.active
    assert (status.partner.terms_version, status.newer_version) == (0, None)
    assert status.accepted_at == status.partner.opted_in_at

    clock.now = T0 + timedelta(days=1)
    version = await partners.set_terms(GUILD, "  New terms: brands see your standing only.  \n", by=MOD)
    assert version == 1
    assert (await partners.terms(GUILD)).body == "New terms: brands see your standing only."
    assert (await partners.status(GUILD, 5)).newer_version == 1
    assert (await partners.offer(GUILD, 5)).needs_consent  # a partner under older terms is offered v1
    assert not await partners.accept(GUILD, 6, 0)  # v0 is no longer the current version
    clock.now = T0 + timedelta(days=2)
    assert await partners.accept(GUILD, 5, 1)
    status = await partners.status(GUILD, 5)
    assert status.partner is not None and status.partner.terms_version == 1
    assert status.accepted_at is not None and status.accepted_at.startswith("2026-03-03")
    assert status.partner.opted_in_at.startswith("2026-03-01")  # a partner since the first acceptance


async def test_terms_that_mention_someone_are_refused_and_nothing_is_saved(partners: PartnerService):
    with pytest.raises(InvalidInput, match=r"partner\.bad_terms_mention"):
        await partners.set_terms(GUILD, "Be kind to everyone, including @everyone here.", by=MOD)
    assert (await partners.terms(GUILD)).version == 0


async def test_decline_is_logged_without_joining(partners: PartnerService, store: Store):
    assert await partners.decline(GUILD, 5, 0) is None
    assert not await store.is_partner(GUILD, 5)
    assert [e.action for e in await store.consent_history(GUILD, 5)] == ["declined"]


async def test_declining_newer_terms_keeps_the_partnership_and_says_so(
    partners: PartnerService, store: Store, clock: Clock
):
    await partners.accept(GUILD, 5, 0)
    await partners.set_terms(GUILD, "New terms with more stuff in them", by=MOD)
    clock.now = T0 + timedelta(hours=1)
    kept = await partners.decline(GUILD, 5, 1)
    assert kept is not None and kept.active and kept.terms_version == 0  # still a partner, under v0
    assert await store.is_partner(GUILD, 5)
    assert [(e.action, e.terms_version) for e in await store.consent_history(GUILD, 5)] == [
        ("accepted", 0),
        ("declined", 1),
    ]
    # a stale Decline clicked after accepting the same terms elsewhere: nothing is recorded
    await partners.accept(GUILD, 5, 1)
    kept = await partners.decline(GUILD, 5, 1)
    assert kept is not None and kept.terms_version == 1
    assert [e.action for e in await store.consent_history(GUILD, 5)] == ["accepted", "declined", "accepted"]
    # a member who left declines like anyone else
    await partners.leave(GUILD, 5)
    assert await partners.decline(GUILD, 5, 1) is None
    assert [e.action for e in await store.consent_history(GUILD, 5)][-1] == "declined"


async def test_leaving_and_being_removed_end_the_partnership_once(partners: PartnerService, store: Store):
    for member in (5, 6, 7):
        await partners.accept(GUILD, member, 0)
    assert await partners.leave(GUILD, 5)
    assert not await partners.leave(GUILD, 5)
    assert await partners.end(GUILD, 6, "left_server")
    assert await partners.end(GUILD, 7, "banned")
    assert not await partners.end(GUILD, 7, "banned")
    with pytest.raises(ValueError):
        await partners.end(GUILD, 8, "left")
    assert await store.active_partner_ids(GUILD) == []
    status = await partners.status(GUILD, 6)
    assert status.partner is not None and not status.partner.active and status.accepted_at is None
    actions = [e.action for m in (5, 6, 7) for e in await store.consent_history(GUILD, m)]
    assert actions == ["accepted", "left", "accepted", "left_server", "accepted", "banned"]


async def test_standing_reflects_partnership_and_managed_brands(
    partners: PartnerService, brands: BrandService
):
    assert (await partners.standing(GUILD, 5, moderator=False)).roles == {Role.MEMBER}
    await partners.accept(GUILD, 5, 0)
    brand = await brands.register(GUILD, "Oat Co", contacts(5), [], by=MOD)
    assert (await partners.standing(GUILD, 5, moderator=False)).roles == {Role.MEMBER, Role.PARTNER}
    await brands.transition(GUILD, brand, "approve", by=MOD)
    standing = await partners.standing(GUILD, 5, moderator=True)
    assert standing.managed_brands == (brand.id,)
    assert standing.roles == {Role.MEMBER, Role.PARTNER, Role.BRAND_MANAGER, Role.MODERATOR}
    assert (await partners.standing(OTHER, 5, moderator=False)).roles == {Role.MEMBER}


async def test_autocomplete_offers_only_the_brands_the_caller_may_see(
    brands: BrandService, partners: PartnerService
):
    oat = await brands.register(GUILD, "Oat Co", contacts(1), [], by=MOD)
    await brands.register(GUILD, "Secret Deal Co", contacts(2), [], by=MOD)  # pending
    await brands.transition(GUILD, oat, "approve", by=MOD)
    member = await partners.standing(GUILD, 3, moderator=False)
    manager = await partners.standing(GUILD, 1, moderator=False)
    pending_contact = await partners.standing(GUILD, 2, moderator=False)
    assert await brands.choices(GUILD, "", member) == []
    assert await brands.choices(GUILD, "co", pending_contact) == []  # not a manager until approved
    assert [b.name for b in await brands.choices(GUILD, "", manager)] == ["Oat Co"]
    assert [b.name for b in await brands.choices(GUILD, "CO", moderator())] == ["Oat Co", "Secret Deal Co"]
    assert [b.name for b in await brands.choices(GUILD, "ＯＡＴ", moderator())] == ["Oat Co"]  # full width


# -- brands ---------------------------------------------------------------------------------------


async def test_register_cleans_the_name_and_keeps_distinct_topics(brands: BrandService):
    brand = await brands.register(GUILD, "  Oat\u200b   Co ", contacts(1, 2, 1), [10, 11, 10, 12, 13], by=MOD)
    assert (brand.name, brand.status, brand.contacts, brand.topics) == (
        "Oat Co",
        "pending",
        (1, 2),
        (10, 11, 12),
    )
    with pytest.raises(InvalidInput, match=r"brand\.contact_is_bot"):
        await brands.register(GUILD, "Bot Co", [ContactFacts(3, is_bot=True)], [], by=MOD)
    with pytest.raises(InvalidInput, match=r"brand\.name_taken") as taken:
        await brands.register(GUILD, "oat co", contacts(4), [], by=MOD)
    assert taken.value.params["name"] == "oat co"  # raw: the adapter escapes it for its platform
    assert [b.name for b in await brands.visible(GUILD, moderator())] == ["Oat Co"]


async def test_names_are_the_same_whatever_their_case_width_marks_or_look_alike_letters(
    brands: BrandService,
):
    emile = await brands.register(GUILD, "Émile", contacts(1), [], by=MOD)
    strasse = await brands.register(GUILD, "Straße", contacts(1), [], by=MOD)
    acme = await brands.register(GUILD, "Acme", contacts(1), [], by=MOD)
    # Greek Alpha, full width, direction marks, Cyrillic Es: each looks like (or is) a name already taken
    look_alikes = ("Αcme", "Ａｃｍｅ", "Acme\u200e", "\u200fACME", "Асме")
    for taken in ("émile", "ÉMILE", "STRASSE", "strasse", *look_alikes):
        with pytest.raises(InvalidInput, match=r"brand\.name_taken"):
            await brands.register(GUILD, taken, contacts(2), [], by=MOD)
    assert (await brands.resolve(GUILD, "émile")).id == emile.id
    assert (await brands.resolve(GUILD, "STRASSE")).id == strasse.id
    assert (await brands.resolve(GUILD, "Ａｃｍｅ")).id == acme.id
    assert (await brands.resolve(GUILD, "Αcme")).id == acme.id
    assert len(await brands.visible(GUILD, moderator())) == 3
    # distinct names stay distinct
    assert (await brands.register(GUILD, "Emile", contacts(2), [], by=MOD)).id != emile.id
    assert (await brands.resolve(GUILD, "Emile")).name == "Emile"


async def test_a_number_is_a_name_first_and_an_id_with_a_hash(brands: BrandService):
    first = await brands.register(GUILD, "Oat Co", contacts(1), [], by=MOD)
    named = await brands.register(GUILD, str(first.id), contacts(1), [], by=MOD)  # a brand named "1"
    assert named.id != first.id
    assert (await brands.resolve(GUILD, str(first.id))).id == named.id  # the name wins
    assert (await brands.resolve(GUILD, f"#{first.id}")).id == first.id  # '#' always means an id
    assert (await brands.resolve(GUILD, f"#{named.id}")).id == named.id
    # a number that is no brand's name is still an id
    assert (await brands.resolve(GUILD, str(named.id))).id == named.id


async def test_resolve_by_id_or_name_and_unknown_names_the_raw_text(brands: BrandService):
    brand = await brands.register(GUILD, "Oat Co", contacts(1), [], by=MOD)
    assert (await brands.resolve(GUILD, f"#{brand.id}")).id == brand.id
    assert (await brands.resolve(GUILD, "OAT co")).id == brand.id
    with pytest.raises(InvalidInput, match=r"brand\.unknown") as unknown:
        await brands.resolve(GUILD, "*Nope*")
    assert unknown.value.params == {"name": "*Nope*"}
    with pytest.raises(InvalidInput):
        await brands.resolve(OTHER, "Oat Co")  # brands are per community


async def test_transitions_are_guarded_and_refusals_name_the_status_in_the_community_language(
    brands: BrandService, communities: CommunityService, store: Store
):
    brand = await brands.register(GUILD, "Oat Co", contacts(1), [], by=MOD)
    change = await brands.transition(GUILD, brand, "approve", by=MOD)
    assert change.changed and change.after.status == "approved" and change.after.approved_by == MOD
    assert (change.add, change.remove) == ((), ())  # no brand role: nothing for the platform to do
    assert await store.managed_brand_ids(GUILD, 1) == [brand.id]
    # a second moderator acting on what they saw before the approval changes nothing
    stale = await brands.transition(GUILD, brand, "suspend", by=MOD + 1)
    assert not stale.changed and stale.after.status == "pending"
    assert (await brands.resolve(GUILD, "Oat Co")).status == "approved"
    await communities.update(GUILD, {"locale": "ar"}, by=MOD)
    with pytest.raises(InvalidInput, match=r"brand\.cannot_approve") as refused:
        await brands.transition(GUILD, change.after, "approve", by=MOD)
    assert refused.value.params == {"status": i18n.t("ar", "brand.status_approved")}


async def test_brand_role_is_a_plan_held_only_while_approved(brands: BrandService):
    brand = await brands.register(GUILD, "Oat Co", contacts(1, 2), [], by=MOD)
    role = RoleFacts(77, is_default=False, managed=False, permissions=0)
    pending = await brands.set_role(GUILD, brand, role)
    # not approved yet: nobody gets it, and the platform makes sure nobody holds it
    assert pending.after.role_id == 77 and pending.add == () and pending.remove == ((1, 77), (2, 77))
    approved = await brands.transition(GUILD, pending.after, "approve", by=MOD)
    assert approved.add == ((1, 77), (2, 77)) and approved.remove == ()
    moved = await brands.set_role(GUILD, approved.after, RoleFacts(78, False, False, 0))
    assert moved.add == ((1, 78), (2, 78)) and moved.remove == ((1, 77), (2, 77))
    suspended = await brands.transition(GUILD, moved.after, "suspend", by=MOD)
    assert suspended.add == () and suspended.remove == ((1, 78), (2, 78))
    cleared = await brands.set_role(GUILD, suspended.after, None)
    assert cleared.after.role_id is None and cleared.add == () and cleared.remove == ((1, 78), (2, 78))


@pytest.mark.parametrize(
    "permission",
    [1 << 7, 1 << 22, 1 << 23, 1 << 24, 1 << 27, 1 << 30, 1 << 33, 1 << 34, 1 << 44, 1 << 51, 1 << 52],
    ids=[
        "audit log",
        "mute",
        "deafen",
        "move",
        "nicknames",
        "expressions",
        "events",
        "threads",
        "create events",
        "pin messages",
        "bypass slowmode",
    ],
)
async def test_a_role_with_any_moderation_permission_is_refused(brands: BrandService, permission: int):
    brand = await brands.register(GUILD, "Oat Co", contacts(1), [], by=MOD)
    with pytest.raises(InvalidInput, match=r"brand\.role_too_powerful"):
        await brands.set_role(GUILD, brand, RoleFacts(77, False, False, permission))


async def test_a_role_that_became_powerful_is_withheld_on_approval(brands: BrandService):
    brand = await brands.register(GUILD, "Oat Co", contacts(1, 2), [], by=MOD)
    chosen = await brands.set_role(GUILD, brand, RoleFacts(77, False, False, 0))
    # a server admin gives the role Manage Threads afterwards: approving never grants it
    now = RoleFacts(77, False, False, 1 << 34)
    approved = await brands.transition(GUILD, chosen.after, "approve", by=MOD, role=now)
    assert approved.changed and approved.after.status == "approved"
    assert (approved.add, approved.remove, approved.withheld) == ((), (), "brand.role_too_powerful")
    suspended = await brands.transition(GUILD, approved.after, "suspend", by=MOD)
    # the role as it is now is harmless again: given on the next approval
    harmless = RoleFacts(77, False, False, 0)
    again = await brands.transition(GUILD, suspended.after, "approve", by=MOD, role=harmless)
    assert (again.add, again.withheld) == (((1, 77), (2, 77)), None)


async def test_unusable_roles_and_removed_brands_are_refused(brands: BrandService):
    brand = await brands.register(GUILD, "Oat Co", contacts(1), [], by=MOD)
    with pytest.raises(InvalidInput, match=r"brand\.role_too_powerful"):
        await brands.set_role(GUILD, brand, RoleFacts(77, False, False, KICK_MEMBERS))
    with pytest.raises(InvalidInput, match=r"brand\.role_unusable"):
        await brands.set_role(GUILD, brand, RoleFacts(GUILD, True, False, 0))
    assert (await brands.resolve(GUILD, "Oat Co")).role_id is None
    removed = (await brands.transition(GUILD, brand, "remove", by=MOD)).after
    with pytest.raises(InvalidInput, match=r"brand\.unknown"):
        await brands.set_role(GUILD, removed, RoleFacts(77, False, False, 0))
    assert await brands.visible(GUILD, moderator()) == []
    assert await brands.choices(GUILD, "", moderator()) == []


async def test_brand_managers_see_only_their_approved_brands(brands: BrandService, partners: PartnerService):
    oat = await brands.register(GUILD, "Oat Co", contacts(1), [], by=MOD)
    rye = await brands.register(GUILD, "Rye Ltd", contacts(2), [], by=MOD)
    oat = (await brands.transition(GUILD, oat, "approve", by=MOD)).after
    manager = await partners.standing(GUILD, 1, moderator=False)
    assert [b.id for b in await brands.visible(GUILD, manager)] == [oat.id]
    brands.check_access(oat, manager)
    with pytest.raises(Forbidden, match=r"error\.not_your_brand"):
        brands.check_access(rye, manager)
    with pytest.raises(Forbidden):
        await brands.by_id(GUILD, rye.id, manager)
    assert (await brands.by_id(GUILD, rye.id, moderator())).id == rye.id
    assert (await brands.for_partners(GUILD, None, manager)).id == oat.id  # their only brand
    with pytest.raises(InvalidInput, match=r"brand\.which"):
        await brands.for_partners(GUILD, None, moderator())
    assert [b.name for b in await brands.choices(GUILD, " RYE", moderator())] == ["Rye Ltd"]
    # named by a manager who may not see it, another brand is as unknown as one that does not exist
    for typed in ("Rye Ltd", f"#{rye.id}", "No Such Co"):
        with pytest.raises(InvalidInput, match=r"brand\.unknown") as unknown:
            await brands.resolve_visible(GUILD, typed, manager)
        assert unknown.value.params == {"name": typed}
    assert (await brands.resolve_visible(GUILD, "Rye Ltd", moderator())).id == rye.id


async def test_removed_brands_are_unknown_to_the_partner_view(brands: BrandService):
    brand = await brands.register(GUILD, "Oat Co", contacts(1), [], by=MOD)
    removed = (await brands.transition(GUILD, brand, "remove", by=MOD)).after
    with pytest.raises(InvalidInput, match=r"brand\.unknown") as by_id:
        await brands.by_id(GUILD, brand.id, moderator())
    assert by_id.value.params == {"name": f"#{brand.id}"}
    with pytest.raises(InvalidInput, match=r"brand\.unknown") as named:
        await brands.for_partners(GUILD, removed, moderator())
    assert named.value.params == {"name": "Oat Co"}


async def seed_scores(store: Store, members: dict[int, float], *, scope: str = "channel:10") -> None:
    ordered = sorted(members.items(), key=lambda kv: -kv[1])
    rows = [
        (m, rank, score, 3, 2, json.dumps({"parts": []})) for rank, (m, score) in enumerate(ordered, start=1)
    ]
    await store.replace_trust_scores(GUILD, {scope: rows, "all": rows}, T0)


async def test_partner_view_lists_opted_in_members_only_in_trust_order(
    brands: BrandService, partners: PartnerService, store: Store
):
    await seed_scores(store, {21: 0.9, 22: 0.8, 23: 0.7, 24: 0.6, 25: 0.5})
    for member in (22, 23, 24, 25):
        await partners.accept(GUILD, member, 0)
    page = await brands.partners_page(GUILD, ["channel:10"], 0, per_page=2)
    assert [e.member_id for e in page.listings] == [22, 23]  # 21 is trusted but never opted in
    assert (page.page, page.pages, page.total) == (0, 2, 4)
    last = await brands.partners_page(GUILD, ["channel:10"], 7, per_page=2)  # past the end: last page
    assert (last.page, [e.member_id for e in last.listings]) == (1, [24, 25])
    await partners.leave(GUILD, 22)
    assert [e.member_id for e in (await brands.partners_page(GUILD, ["all"], 0, per_page=2)).listings] == [
        23,
        24,
    ]


async def test_partner_view_ends_the_partnership_of_members_who_left(
    brands: BrandService, partners: PartnerService, store: Store
):
    await seed_scores(store, {21: 0.9, 22: 0.8, 23: 0.7})
    for member in (21, 22, 23):
        await partners.accept(GUILD, member, 0)
    asked: list[list[int]] = []
    departed = {21}

    async def gone(member_ids: list[int]) -> list[int]:
        asked.append(member_ids)
        return [m for m in member_ids if m in departed]

    page = await brands.partners_page(GUILD, ["all"], 0, per_page=2, gone=gone)
    assert [e.member_id for e in page.listings] == [22, 23]
    assert asked == [[21, 22], [23]]  # read again after the departure; nobody is asked about twice
    assert await store.active_partner_ids(GUILD) == [22, 23]
    assert [e.action for e in await store.consent_history(GUILD, 21)] == ["accepted", "left_server"]


async def test_a_page_never_lists_members_found_gone_however_many_left(
    brands: BrandService, partners: PartnerService, store: Store
):
    scores = {m: 1.0 - m / 100 for m in range(1, 21)}
    await seed_scores(store, scores)
    for member in scores:
        await partners.accept(GUILD, member, 0)
    departed = set(range(1, 7))

    async def gone(member_ids: list[int]) -> list[int]:
        return [m for m in member_ids if m in departed]

    # the six best partners left: the page is read again until it holds members still here
    page = await brands.partners_page(GUILD, ["all"], 0, per_page=2, gone=gone)
    assert [e.member_id for e in page.listings] == [7, 8]
    assert (page.total, page.pages) == (14, 7)
    assert set(await store.active_partner_ids(GUILD)) == set(range(7, 21))
    # more departures than the page is read for: those found gone are left out, never shown
    departed = set(range(7, 19))
    page = await brands.partners_page(GUILD, ["all"], 0, per_page=2, gone=gone)
    assert not {e.member_id for e in page.listings} & departed
    assert page.total == len(await store.active_partner_ids(GUILD))
    page = await brands.partners_page(GUILD, ["all"], 0, per_page=2, gone=gone)
    assert [e.member_id for e in page.listings] == [19, 20]
    assert await store.active_partner_ids(GUILD) == [19, 20]


async def test_brand_managers_rank_partners_in_the_brands_topics_only(
    brands: BrandService, partners: PartnerService
):
    oat = await brands.register(GUILD, "Oat Co", contacts(1), [10, 11], by=MOD)
    oat = (await brands.transition(GUILD, oat, "approve", by=MOD)).after
    manager = await partners.standing(GUILD, 1, moderator=False)
    for scope in ("topics", "channel:10", "category:11"):
        brands.check_scope(oat, scope, manager)
        brands.check_scope(oat, scope, moderator())
    for scope in ("all", "channel:12", "category:12", "channel:", "channel:x10"):
        with pytest.raises(Forbidden, match=r"brand\.topic_not_yours"):
            brands.check_scope(oat, scope, manager)
    brands.check_scope(oat, "all", moderator())
    brands.check_scope(oat, "channel:12", moderator())


async def test_the_moderator_role_can_never_be_a_brand_role(
    brands: BrandService, communities: CommunityService
):
    """Microvoice makes moderators of whoever holds its moderator role, whatever the role's Discord
    permissions: given to a brand's contacts, it would let them approve their own activations."""
    await communities.update(GUILD, {"mod_role_id": 55}, by=MOD)
    brand = await brands.register(GUILD, "Oat Co", contacts(1), [], by=MOD)
    with pytest.raises(InvalidInput, match=r"brand\.role_is_moderator"):
        await brands.set_role(GUILD, brand, RoleFacts(55, False, False, 0))
    # chosen before it became the moderator role: withheld when the brand is approved
    chosen = await brands.set_role(GUILD, brand, RoleFacts(66, False, False, 0))
    await communities.update(GUILD, {"mod_role_id": 66}, by=MOD)
    approved = await brands.transition(
        GUILD, chosen.after, "approve", by=MOD, role=RoleFacts(66, False, False, 0)
    )
    assert (approved.add, approved.withheld) == ((), "brand.role_is_moderator")


async def test_a_role_another_approved_brand_gives_its_contact_is_kept(brands: BrandService):
    """Members 1 and 2 manage Oat Co, member 1 also Soy Co, and both brands give role 77: suspending Oat
    Co takes the role from member 2 only (member 1 still manages Soy Co)."""
    oat = await brands.register(GUILD, "Oat Co", contacts(1, 2), [], by=MOD)
    soy = await brands.register(GUILD, "Soy Co", contacts(1), [], by=MOD)
    for brand in (oat, soy):
        chosen = await brands.set_role(GUILD, brand, RoleFacts(77, False, False, 0))
        await brands.transition(GUILD, chosen.after, "approve", by=MOD, role=RoleFacts(77, False, False, 0))
    suspended = await brands.transition(GUILD, await brands.resolve(GUILD, "Oat Co"), "suspend", by=MOD)
    assert suspended.remove == ((2, 77),)
    removed = await brands.transition(GUILD, await brands.resolve(GUILD, "Soy Co"), "remove", by=MOD)
    assert removed.remove == ((1, 77),)  # Oat Co is suspended: nothing gives it to member 1 any more


# -- contacts changed by moderators, and contacts found gone ---------------------------------------


async def test_a_contact_added_to_an_approved_brand_gets_its_role_and_one_removed_loses_it(
    brands: BrandService, store: Store
):
    role = RoleFacts(77, False, False, 0)
    oat = await brands.register(GUILD, "Oat Co", contacts(1), [], by=MOD)
    chosen = await brands.set_role(GUILD, oat, role)
    approved = await brands.transition(GUILD, chosen.after, "approve", by=MOD, role=role)
    added = await brands.add_contact(GUILD, approved.after, ContactFacts(2, False), by=MOD, role=role)
    assert added.changed and added.after.contacts == (1, 2)
    assert (added.add, added.remove) == (((2, 77),), ())
    assert await store.managed_brand_ids(GUILD, 2) == [oat.id]
    assert 2 in await store.ranking_exclusions(GUILD)
    removed = await brands.remove_contact(GUILD, added.after, 2, by=MOD)
    assert removed.changed and removed.after.contacts == (1,)
    assert (removed.add, removed.remove) == ((), ((2, 77),))
    assert await store.managed_brand_ids(GUILD, 2) == []
    assert 2 not in await store.ranking_exclusions(GUILD)


async def test_a_contact_added_to_a_brand_that_is_not_approved_gets_no_role_yet(brands: BrandService):
    oat = await brands.register(GUILD, "Oat Co", contacts(1), [], by=MOD)
    chosen = await brands.set_role(GUILD, oat, RoleFacts(77, False, False, 0))
    added = await brands.add_contact(GUILD, chosen.after, ContactFacts(2, False), by=MOD)
    assert added.changed and (added.add, added.remove) == ((), ())
    removed = await brands.remove_contact(GUILD, added.after, 1, by=MOD)  # pending: 2 is left
    assert removed.changed and (removed.add, removed.remove) == ((), ())


async def test_a_removed_contact_keeps_the_role_another_approved_brand_gives_them(brands: BrandService):
    role = RoleFacts(77, False, False, 0)
    for name, members in (("Oat Co", (1, 2)), ("Soy Co", (2,))):
        brand = await brands.register(GUILD, name, contacts(*members), [], by=MOD)
        chosen = await brands.set_role(GUILD, brand, role)
        await brands.transition(GUILD, chosen.after, "approve", by=MOD, role=role)
    removed = await brands.remove_contact(GUILD, await brands.resolve(GUILD, "Oat Co"), 2, by=MOD)
    assert removed.changed and removed.remove == ()  # still a contact of Soy Co, which gives it too


async def test_a_role_that_became_powerful_is_withheld_from_an_added_contact(brands: BrandService):
    oat = await brands.register(GUILD, "Oat Co", contacts(1), [], by=MOD)
    chosen = await brands.set_role(GUILD, oat, RoleFacts(77, False, False, 0))
    approved = await brands.transition(GUILD, chosen.after, "approve", by=MOD)
    now = RoleFacts(77, False, False, KICK_MEMBERS)
    added = await brands.add_contact(GUILD, approved.after, ContactFacts(2, False), by=MOD, role=now)
    assert added.changed and added.add == () and added.withheld == "brand.role_too_powerful"


async def test_contact_changes_a_moderator_would_not_expect_are_refused_and_change_nothing(
    brands: BrandService, store: Store
):
    oat = await brands.register(GUILD, "Oat Co", contacts(1, 2), [], by=MOD)
    refusals = [
        (ContactFacts(3, is_bot=True), "brand.add_contact_bot"),
        (ContactFacts(3, False, in_server=False), "brand.add_contact_not_member"),
        (ContactFacts(2, False), "brand.add_contact_already"),
    ]
    for contact, key in refusals:
        with pytest.raises(InvalidInput) as refused:
            await brands.add_contact(GUILD, oat, contact, by=MOD)
        assert refused.value.key == key
    full = (await brands.add_contact(GUILD, oat, ContactFacts(3, False), by=MOD)).after
    with pytest.raises(InvalidInput) as refused:
        await brands.add_contact(GUILD, full, ContactFacts(4, False), by=MOD)
    assert refused.value.key == "brand.add_contact_full" and refused.value.params["max"] == 3
    with pytest.raises(InvalidInput) as refused:
        await brands.remove_contact(GUILD, full, 4, by=MOD)
    assert refused.value.key == "brand.remove_contact_unknown"
    # the last contact of an approved brand stays (suspended, the brand may be left without one)
    solo = await brands.register(GUILD, "Soy Co", contacts(5), [], by=MOD)
    approved = (await brands.transition(GUILD, solo, "approve", by=MOD)).after
    with pytest.raises(InvalidInput) as refused:
        await brands.remove_contact(GUILD, approved, 5, by=MOD)
    assert refused.value.key == "brand.remove_contact_last"
    assert await store.managed_brand_ids(GUILD, 5) == [solo.id]
    suspended = (await brands.transition(GUILD, approved, "suspend", by=MOD)).after
    assert (await brands.remove_contact(GUILD, suspended, 5, by=MOD)).after.contacts == ()
    # a removed brand is unknown
    gone = (await brands.transition(GUILD, full, "remove", by=MOD)).after
    with pytest.raises(InvalidInput) as refused:
        await brands.add_contact(GUILD, gone, ContactFacts(4, False), by=MOD)
    assert refused.value.key == "brand.unknown"
    assert (await store.get_brand(GUILD, oat.id)).contacts == (1, 2, 3)  # type: ignore[union-attr]


async def test_a_stale_view_of_the_brand_never_overfills_it_nor_empties_an_approved_one(
    brands: BrandService, store: Store
):
    """Two moderators acting at once each saw the brand before the other's change: the store's guard,
    not the view they acted on, decides."""
    oat = await brands.register(GUILD, "Oat Co", contacts(1, 2), [], by=MOD)
    assert (await brands.add_contact(GUILD, oat, ContactFacts(3, False), by=MOD)).changed
    late = await brands.add_contact(GUILD, oat, ContactFacts(4, False), by=MOD)  # saw two contacts
    assert not late.changed and (await store.get_brand(GUILD, oat.id)).contacts == (1, 2, 3)  # type: ignore[union-attr]
    solo = await brands.register(GUILD, "Soy Co", contacts(5, 6), [], by=MOD)
    approved = (await brands.transition(GUILD, solo, "approve", by=MOD)).after
    assert (await brands.remove_contact(GUILD, approved, 5, by=MOD)).changed
    late = await brands.remove_contact(GUILD, approved, 6, by=MOD)  # saw two contacts
    assert not late.changed and await store.managed_brand_ids(GUILD, 6) == [solo.id]


async def test_adding_a_contact_who_had_left_takes_them_off_the_left_list(brands: BrandService):
    oat = await brands.register(GUILD, "Oat Co", contacts(1, 2), [], by=MOD)
    assert await brands.contact_left(GUILD, 2) == [oat.id]
    left = await brands.resolve(GUILD, "Oat Co")
    assert left.contacts == (1,) and [m for m, _ in left.left] == [2]
    again = (await brands.add_contact(GUILD, left, ContactFacts(2, False), by=MOD)).after
    assert again.contacts == (1, 2) and again.left == ()


async def test_contacts_found_gone_are_treated_as_having_left(brands: BrandService, store: Store):
    oat = await brands.register(GUILD, "Oat Co", contacts(1, 2, 3), [], by=MOD)
    soy = await brands.register(GUILD, "Soy Co", contacts(2), [], by=MOD)
    asked: list[list[int]] = []

    async def gone(member_ids: list[int]) -> list[int]:
        asked.append(member_ids)
        return [m for m in member_ids if m in (2, 3)]

    after = await brands.recheck_contacts(GUILD, oat, gone, skip=3)
    assert asked == [[1, 2]] and after.contacts == (1, 3) and [m for m, _ in after.left] == [2]
    assert (await store.get_brand(GUILD, soy.id)).contacts == ()  # type: ignore[union-attr]  # left the server
    assert await brands.recheck_contacts(GUILD, after, None) == after  # nothing to ask: nothing changes
