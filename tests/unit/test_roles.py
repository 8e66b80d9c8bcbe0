"""The permission matrix covers every application command the cogs define, and each is checked.

Built from the cog modules themselves (no bot, no Discord): a command added to a cog without a row in
`bot.roles.MATRIX`, or with a check naming another row, fails here before it can ship unchecked.
"""

from __future__ import annotations

from bot.roles import EVERYONE, MATRIX, OWN_BRAND_ONLY, TAKER_ONLY, Role, cell, matrix_markdown
from tests.unit.cog_commands import cog_commands


def test_every_command_has_a_matrix_row_and_every_row_a_command():
    names = list(cog_commands())
    assert set(names) == set(MATRIX), set(names) ^ set(MATRIX)
    assert {
        "activation create qa",
        "activation create giveaway",
        "activation create takeover",
        "activation approve",
        "activation reject",
        "activation cancel",
        "activation list",
        "activation show",
        "activation reroll",
        "activation codes",
        "activation redemptions",
        "qa answer",
        "takeover post",
    } <= set(names)


def test_every_restricted_command_is_checked_server_side_with_its_own_row():
    for name, defined in cog_commands().items():
        command = defined.command
        rows = [getattr(check, "matrix_row", None) for check in command.checks]
        assert all(row in (None, name) for row in rows), (name, rows)  # no copy-pasted check
        if MATRIX[name] != EVERYONE:
            assert command.checks, f"/{name} is restricted in the matrix but has no server-side check"


def test_limited_cells():
    assert cell("activation cancel", Role.BRAND_MANAGER) == "own brands"
    assert cell("activation cancel", Role.MODERATOR) == "yes"
    assert cell("activation approve", Role.BRAND_MANAGER) == "—"
    assert cell("qa answer", Role.MODERATOR) == "—"
    assert cell("takeover post", Role.PARTNER) == cell("takeover post", Role.BRAND_MANAGER) == "the taker"
    assert set(MATRIX) >= OWN_BRAND_ONLY | TAKER_ONLY
    for command in OWN_BRAND_ONLY:
        assert Role.BRAND_MANAGER in MATRIX[command]
    assert matrix_markdown().count("\n") == len(MATRIX) + 1
