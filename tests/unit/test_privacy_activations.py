"""Erasure and export of activation data: the pure parts (bot/privacy/rules.py, bot/giveaway.py)."""

from __future__ import annotations

import json

from bot.activations import draw as giveaway
from bot.privacy import ACTIVATION_ENTRIES, MEMBER_COLUMNS, pseudonymise_ids, redact_row

SEED = "8f3b5c0e2a7d4f6190b1c3e5d7f9a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f5"
ENTRANTS = list(range(1, 11))


def test_activation_entries_name_member_columns_and_existing_actions():
    for table, column, how in ACTIVATION_ENTRIES:
        assert column in MEMBER_COLUMNS, (table, column)
        assert how in ("delete", "pseudonymise"), (table, how)
    assert all(table != "giveaway_winners" for table, _, _ in ACTIVATION_ENTRIES)


def test_pseudonymise_ids_keeps_every_position():
    text = json.dumps([3, 1_000_000_000_000_000_123, 7])
    out = pseudonymise_ids(text, 1_000_000_000_000_000_123, -42)
    assert json.loads(out) == [3, -42, 7]
    assert pseudonymise_ids(json.dumps([]), 5, -1) == "[]"


def test_a_reroll_after_an_erasure_draws_what_the_published_list_gives():
    """The stored pool keeps the erased entrant's place; drawing it in stored order equals the draw a
    verifier computes from the published (canonical) list."""
    first, second = giveaway.draw_rounds(SEED, ENTRANTS, [3, 1])
    assert (first, second) == ([8, 6, 10], [4])
    erased = 4  # drawn in the reroll
    stored = [-99 if e == erased else e for e in ENTRANTS]
    pool = [e for e in stored if e not in first]
    assert giveaway.draw_in_order(SEED, pool, 1, round_no=1) == [-99]
    # the plain draw would sort the pseudonym first and pick someone else
    assert giveaway.draw(SEED, pool, 1, round_no=1) != [-99]
    assert giveaway.draw_in_order(SEED, giveaway.canonical_entrants(ENTRANTS), 3) == first


def test_export_redacts_other_members_in_draw_records_and_configs():
    row = {
        "activation_id": 9,
        "winners": json.dumps([5, 2]),
        "replaced": "[]",
        "entrants": json.dumps([2, 5, 8]),
        "drawn_by": 77,
        "config": json.dumps({"taker_id": 8}),
    }
    out = redact_row(row, 5)
    assert out["winners"] == ["5", None] and out["entrants"] == [None, "5", None] and out["replaced"] == []
    assert out["drawn_by"] is None and json.loads(out["config"]) == {"taker_id": None}
    assert json.loads(redact_row(row, 8)["config"]) == {"taker_id": 8}
    assert redact_row({"claimed_by": 5}, 5) == {"claimed_by": "5"}  # ids as strings (> 2**53)


def test_a_question_is_exported_with_its_words_to_its_author_only():
    """The moderator who hid a question and the brand manager who answered it find the row in their
    export (what they did), without the asker's words or the post showing them."""
    row = {
        "id": 3, "activation_id": 1, "community_id": 100, "author_id": 7, "body": "I live at 5 Elm St",
        "message_id": 900, "hidden_by": 8, "answered_by": 9, "answer_message_id": 901,
    }  # fmt: skip
    author = redact_row(row, 7, "qa_questions")
    assert author["body"] == "I live at 5 Elm St" and author["message_id"] == "900"
    assert author["hidden_by"] is None and author["answered_by"] is None
    for handler in (8, 9):
        out = redact_row(row, handler, "qa_questions")
        assert out["body"] is None and out["message_id"] is None and out["author_id"] is None
    assert redact_row(row, 9, "qa_questions")["answer_message_id"] == "901"  # the answer is theirs
