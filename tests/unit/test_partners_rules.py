"""Pure rules of partners, brands, privacy and roles; and docs/permissions.md kept in step."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import i18n
from bot.errors import InvalidInput
from bot.partners import (
    ContactFacts,
    Partner,
    Terms,
    check_contacts,
    clean_name,
    clean_terms,
    default_terms,
    has_mention,
    lookup_key,
    name_key,
    needs_consent,
    next_status,
)
from bot.privacy import (
    build_export,
    is_empty_apart_from_tombstone,
    new_pseudonym,
    redact_row,
    retention_cutoff,
)
from bot.roles import MATRIX, Role, Standing, allowed, matrix_markdown, refusal_key

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
FAMILY = "\U0001f469\u200d\U0001f469\u200d\U0001f467"  # the joiners make it one emoji


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Oat   Milk\tCo ", "Oat Milk Co"),
        ("\u202eevil\u202c Brand", "evil Brand"),
        ("שוקולד טוב", "שוקולד טוב"),
        ("Cafe\u0301", "Café"),
        (f"Oat {FAMILY} Co\x00", f"Oat {FAMILY} Co"),
    ],
)
def test_brand_names_are_normalised(raw: str, clean: str):
    assert clean_name(raw) == clean


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("", "brand.bad_name_empty"),
        ("\u200b \u2066", "brand.bad_name_empty"),
        ("x" * 101, "brand.bad_name_long"),
        ("Free @everyone", "brand.bad_name_mention"),
        ("hi @HERE", "brand.bad_name_mention"),
        ("@\u200beveryone", "brand.bad_name_mention"),
        ("<@123456789012345678>", "brand.bad_name_mention"),
        ("<@&123456789012345678> fans", "brand.bad_name_mention"),
        ("<#123456789012345678>", "brand.bad_name_mention"),
    ],
)
def test_bad_brand_names_are_refused(raw: str, key: str):
    with pytest.raises(InvalidInput) as exc:
        clean_name(raw)
    assert exc.value.key == key


def test_a_name_of_exactly_100_characters_is_fine_and_emails_are_not_mentions():
    assert clean_name("y" * 100) == "y" * 100
    assert not has_mention("contact@everyonebrand.example")  # no word boundary after 'everyone'
    assert has_mention("ping @everyone!")


def test_contacts_must_be_human_distinct_and_few():
    assert check_contacts([ContactFacts(2, False), ContactFacts(1, False), ContactFacts(2, False)]) == (2, 1)
    with pytest.raises(InvalidInput, match=r"brand\.contact_is_bot"):
        check_contacts([ContactFacts(1, False), ContactFacts(9, True)])
    with pytest.raises(InvalidInput, match=r"brand\.contact_not_member"):
        check_contacts([ContactFacts(1, False, in_server=False)])
    with pytest.raises(InvalidInput, match=r"brand\.no_contacts"):
        check_contacts([])
    with pytest.raises(InvalidInput, match=r"brand\.too_many_contacts"):
        check_contacts([ContactFacts(i, False) for i in range(4)])


def test_brand_lifecycle_transitions():
    assert next_status("approve", "pending") == "approved"
    assert next_status("approve", "suspended") == "approved"
    assert next_status("suspend", "approved") == "suspended"
    assert next_status("remove", "suspended") == "removed"
    for action, current in [("approve", "approved"), ("suspend", "removed"), ("remove", "removed")]:
        with pytest.raises(InvalidInput, match=rf"brand\.cannot_{action}"):
            next_status(action, current)
    assert lookup_key("#12") == 12 and lookup_key(" Oat  MILK ") == "oat milk"
    assert lookup_key(" 7 ") == "7"  # an id only if no brand is named "7" (BrandService.resolve)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Émile", "émile"),
        ("Straße", "STRASSE"),
        ("Acme", "\u0391cme"),  # Greek capital Alpha
        ("Acme", "\uff21\uff43\uff4d\uff45"),  # full width
        ("Acme", "Acme\u200e"),  # left-to-right mark
        ("Acme", "A\u00adc\u200bme"),  # soft hyphen, zero-width space
        ("Cafe\u0301", "CAFÉ"),
        ("Сок", "Cok"),  # Cyrillic Es and O
        ("Oat  Milk", "oat milk"),
        ("\u2764\ufe0f Oats", "\u2764 oats"),  # an emoji's presentation selector
    ],
)
def test_names_that_look_the_same_have_the_same_key(one: str, other: str):
    assert name_key(one) == name_key(other)


@pytest.mark.parametrize(("one", "other"), [("Emile", "Émile"), ("Oat Co", "Oat Co 2"), ("שוקולד", "שוקולט")])
def test_names_that_look_different_have_different_keys(one: str, other: str):
    assert name_key(one) != name_key(other)



def test_terms_are_cleaned_and_validated():
    assert (
        clean_terms("  Line one is long enough.   \n\u200bLine two.  ")
        == "Line one is long enough.\nLine two."
    )
    for raw, key in [
        ("short", "partner.bad_terms_short"),
        ("x" * 4001, "partner.bad_terms_long"),
        ("Everyone is welcome, @everyone come along", "partner.bad_terms_mention"),
        ("Ask <@&123456789012345678> for help with the program", "partner.bad_terms_mention"),
    ]:
        with pytest.raises(InvalidInput) as exc:
            clean_terms(raw)
        assert exc.value.key == key


def test_default_terms_exist_in_every_language_without_mentions():
    for lang in i18n.LANGUAGES:
        terms = default_terms(lang)
        assert terms.version == 0 and clean_terms(terms.body) == terms.body
    assert default_terms("he").body != default_terms("en").body != default_terms("ar").body


def test_consent_is_needed_for_newcomers_leavers_and_newer_terms():
    current = Terms(2, "body", "2026-01-01")
    active = Partner(1, 2, 2, "2026-01-02", None)
    assert not needs_consent(active, current)
    assert needs_consent(None, current)
    assert needs_consent(Partner(1, 2, 2, "2026-01-02", "2026-02-01"), current)
    assert needs_consent(Partner(1, 2, 1, "2026-01-02", None), current)


def test_export_redacts_other_people_and_stringifies_ids():
    row = {"id": 5, "actor_id": 111, "target_id": 222, "community_id": 9, "kind": "reply", "n": 3}
    assert redact_row(row, 222) == {
        "id": "5",
        "actor_id": None,
        "target_id": "222",
        "community_id": "9",
        "kind": "reply",
        "n": 3,
    }
    doc = build_export(9, 222, {"events": [row], "trust_scores": []}, NOW)
    assert list(doc["tables"]) == ["events"] and doc["member_id"] == "222"
    assert not is_empty_apart_from_tombstone(doc)
    tomb = build_export(9, 222, {"consent_log": [{"member_id": 222, "action": "erased"}]}, NOW)
    assert is_empty_apart_from_tombstone(tomb)


def test_pseudonyms_are_negative_and_fresh_and_retention_cutoff():
    seen = {new_pseudonym() for _ in range(100)}
    assert len(seen) == 100 and all(p < 0 for p in seen)
    assert retention_cutoff(NOW, 30) == datetime(2026, 4, 1, 12, tzinfo=UTC)
    with pytest.raises(ValueError):
        retention_cutoff(NOW, 0)


def test_roles_and_refusals():
    member = Standing(moderator=False, managed_brands=(), partner=False)
    manager = Standing(moderator=False, managed_brands=(3,), partner=True)
    assert member.roles == {Role.MEMBER}
    assert manager.roles == {Role.MEMBER, Role.BRAND_MANAGER, Role.PARTNER}
    assert allowed("brand partners", manager.roles) and not allowed("brand partners", member.roles)
    assert allowed("partner leave", manager.roles) and not allowed("partner leave", member.roles)
    assert refusal_key("brand approve") == "error.moderator_only"
    assert refusal_key("partner leave") == "error.partner_only"
    assert refusal_key("brand partners") == "error.brand_or_moderator_only"
    for command in MATRIX:
        assert i18n.t("en", refusal_key(command))


def test_docs_permission_matrix_matches_the_code():
    for doc in (ROOT / "docs" / "permissions.md", ROOT / "README.md"):
        assert matrix_markdown() in doc.read_text(encoding="utf-8"), doc
