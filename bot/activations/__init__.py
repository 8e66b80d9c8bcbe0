"""Brand activations: Q&A, giveaways and takeovers, proposed by brand managers, approved by moderators,
run on a schedule and always disclosed. Platform-free: what they need from Discord or Reddit goes
through `bot.platform.Platform`.

    model.py        the state machine, schedule validation, the saturation guard (pure)
    disclosure.py   the disclosure tag, and `Publisher`: the only way an activation posts anything
    service.py      the engine: create, approve, reject, cancel, jobs, start-up catch-up, the kind registry
    intents.py      side effects as durable intents: recorded, retried with backoff, caught up, reported
    giveaways.py    entries, eligibility, the commit-reveal draw, rerolls, claims, unique codes
    draw.py         giveaway rules and the provably fair draw (pure)
    codes.py        code pools and redemption reports (pure)
    qa.py           Q&A / AMA: questions, votes, answers, the summary
    takeovers.py    channel takeovers: taker eligibility, the restore plan (data), disclosed posts

The model's names are importable from the package itself (``from bot.activations import Activation``).
"""

from bot.activations.model import (
    ANSWER_MAX,
    CONNECTIONS,
    KINDS,
    MAX_DURATION,
    MAX_LEAD,
    MIN_DURATION,
    PAST_TOLERANCE,
    REASON_MAX,
    SPONSORED,
    TERMINAL,
    TEXT_MAX,
    TITLE_MAX,
    TRANSITIONS,
    WEEK,
    Activation,
    ActivationError,
    Saturated,
    State,
    can_transition,
    check_saturation,
    check_transition,
    fits,
    format_time,
    next_free_slot,
    parse_when,
    validate_kind,
    validate_schedule,
    validate_text,
)

__all__ = [
    "ANSWER_MAX",
    "CONNECTIONS",
    "KINDS",
    "MAX_DURATION",
    "MAX_LEAD",
    "MIN_DURATION",
    "PAST_TOLERANCE",
    "REASON_MAX",
    "SPONSORED",
    "TERMINAL",
    "TEXT_MAX",
    "TITLE_MAX",
    "TRANSITIONS",
    "WEEK",
    "Activation",
    "ActivationError",
    "Saturated",
    "State",
    "can_transition",
    "check_saturation",
    "check_transition",
    "fits",
    "format_time",
    "next_free_slot",
    "parse_when",
    "validate_kind",
    "validate_schedule",
    "validate_text",
]
