"""Why a member is ranked where they are: explanation parts, their stored form, their rendering.

The ranking produces an explanation as structured parts, `(message key, params)` pairs in display
order (`stored_why` decides them, `why_parts` and `explain_parts` hand them out). The wording of
every part, and how parts are joined into a sentence, lives only in the locale catalogs
(`trust.why.*` in bot/locales/{en,ar,he}.toml) and is rendered through `bot.i18n` (`render_parts`,
`render_why`, `explain`).

The stored ranking keeps the parts, not the text, as `{"parts": [[key, params], ...]}` with a
topic's channel as `channel_id` (`stored_why`), so one stored ranking reads in every language and a
channel renamed later shows its current name. Guarantees: `stored_why` is exactly
`json.dumps({"parts": why_parts(...)}, separators=(",", ":"))`, the format rows have always been
stored in, and `render_why` reads every row ever stored in that format.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from bot import i18n
from bot.trust.params import COORDINATION_SHOWN, REASONS, Ranked

#: One part of an explanation: a catalog key and the parameters its text needs.
Part = tuple[str, dict[str, Any]]

PEERS = "trust.why.peers"  # {peers, trusted}
TOPIC = "trust.why.topic"  # {channel_id, share} (stored) or {channel, share} (shown)
TREND_UP = "trust.why.trend_up"  # {pct}
TREND_DOWN = "trust.why.trend_down"  # {pct}
TREND_FLAT = "trust.why.trend_flat"
NEW = "trust.why.new"
PINNED = "trust.why.pinned"
#: Much of the engagement came from coordinated accounts, by the largest pattern: {pct}
COORDINATED = {reason: f"trust.why.coordinated_{reason}" for reason in REASONS}
#: Catalog entries that join the parts' texts into one sentence.
SEPARATOR = "trust.why.separator"
SENTENCE = "trust.why.sentence"


def stored_why(
    peers: int,
    trusted: int,
    topic: tuple[int, float] | None,
    trend: float | None,
    had_previous: bool,
    pinned: bool,
    coordinated: tuple[float, int | str] | None = None,
) -> str:
    """The explanation of one listed member as stored: `{"parts": [[key, params], ...]}`, compact.

    Parts in display order: distinct and trusted peers; the top topic (channel id and share of
    received engagement); when at least COORDINATION_SHOWN of their engagement came from
    coordinated accounts (`coordinated`: that share and the largest pattern, an index in REASONS or
    its name), that share with the pattern; the trend against the previous period, or "new" when
    there was a previous ranking without them; whether moderators pinned them. This is the one
    place that decides what an explanation says (`why_parts` reads it back); it builds the JSON text
    directly because a recompute stores tens of thousands of these."""
    parts = f'["{PEERS}",{{"peers":{peers},"trusted":{trusted}}}]'
    if topic is not None:
        channel, share = topic
        parts += f',["{TOPIC}",{{"channel_id":{int(channel)},"share":{round(share * 100)}}}]'
    if coordinated is not None and coordinated[0] >= COORDINATION_SHOWN:
        share, reason = coordinated
        key = COORDINATED[reason if isinstance(reason, str) else REASONS[int(reason)]]
        parts += f',["{key}",{{"pct":{round(share * 100)}}}]'
    if trend is not None:
        pct = round(abs(trend) * 100)
        if pct == 0:
            parts += f',["{TREND_FLAT}",{{}}]'
        else:
            parts += f',["{TREND_UP if trend > 0 else TREND_DOWN}",{{"pct":{pct}}}]'
    elif had_previous:
        parts += f',["{NEW}",{{}}]'
    if pinned:
        parts += f',["{PINNED}",{{}}]'
    return f'{{"parts":[{parts}]}}'


def why_parts(
    peers: int,
    trusted: int,
    topic: tuple[int, float] | None,
    trend: float | None,
    had_previous: bool,
    pinned: bool,
    coordinated: tuple[float, int | str] | None = None,
) -> list[Part]:
    """The explanation of one listed member as (key, params) parts (see `stored_why`), a topic's
    channel as `channel_id`."""
    stored = json.loads(stored_why(peers, trusted, topic, trend, had_previous, pinned, coordinated))
    return [(key, params) for key, params in stored["parts"]]


def _channel_label(channel_id: int) -> str:
    return f"#{channel_id}"


def _shown(parts: Iterable[Part], channel_name: Callable[[int], str]) -> list[Part]:
    """Parts with a topic's `channel_id` replaced by the displayable `channel`."""
    shown: list[Part] = []
    for key, params in parts:
        if "channel_id" in params:
            params = dict(params)
            params["channel"] = channel_name(int(params.pop("channel_id")))
        shown.append((key, params))
    return shown


def explain_parts(
    r: Ranked, *, channel_name: Callable[[int], str] | None = None, raw_channels: bool = False
) -> list[Part]:
    """The explanation of a ranked entry as (message key, params) pairs, in display order. A topic
    carries a displayable `channel` (`channel_name(id)`, default "#<id>"), or with `raw_channels`
    the `channel_id` (for storing)."""
    parts = why_parts(
        r.distinct_peers,
        r.trusted_peers,
        r.top_topics[0] if r.top_topics else None,
        r.trend,
        bool(r.why.get("had_previous")),
        bool(r.why.get("pinned")),
        (float(r.why.get("coordinated", 0.0)), str(r.why.get("coordinated_reason", REASONS[0]))),
    )
    return parts if raw_channels else _shown(parts, channel_name or _channel_label)


def render_parts(
    parts: Iterable[Part], lang: str, channel_name: Callable[[int], str] = _channel_label
) -> str:
    """One localized sentence from explanation parts ("" for none); a stored `channel_id` is shown
    with `channel_name`."""
    texts = [i18n.t(lang, key, **params) for key, params in _shown(parts, channel_name)]
    if not texts:
        return ""
    return i18n.t(lang, SENTENCE, parts=i18n.t(lang, SEPARATOR).join(texts))


def render_why(why: dict[str, Any], lang: str, channel_name: Callable[[int], str]) -> str:
    """The localized explanation of a stored entry (its `why` record, see `stored_why`)."""
    return render_parts(((key, params) for key, params in why.get("parts", [])), lang, channel_name)


def explain(r: Ranked, *, lang: str = "en", channel_name: Callable[[int], str] | None = None) -> str:
    """Plain-language explanation of a ranked entry in `lang`, e.g. "Engaged with by 42 distinct
    members, 17 of them trusted themselves; most active in #cooking (60%); up 12% vs the previous
    period." """
    return render_parts(explain_parts(r, raw_channels=True), lang, channel_name or _channel_label)
