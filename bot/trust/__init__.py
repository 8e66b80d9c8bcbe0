"""Trusted micro-voices: who receives genuine engagement from many distinct, trusted peers.

The ranking is a seeded, personalized PageRank ("TrustRank") over daily engagement metadata (who
engaged with whom, where, when, how; never content); docs/trust.md explains every step and
parameter. One module per concern, each importing only the ones above it:

- `params`   parameters and value types (TrustParams, Edges, Posts, MemberFacts, Ranked)
- `ids`      dense member ids (a vectorized hash table)
- `solver`   a scope's engagement graph, the seeds, the power iteration
- `prepare`  daily rows to weighted pairs, shared by all scopes of one ranking
- `listing`  a solved scope's members in order, with the numbers behind their place
- `evidence` earned seeds and coordination evidence, once per ranking on the community-wide graph
- `compute`  the ranking from scratch (`compute_scope`, `compute_all`), and whose standing rests
             on one member (`dependents`)
- `explain`  explanations as catalog keys + parameters, their stored form and rendering
- `graph`    the in-memory engagement graph of a community (`CommunityEdges`)
- `live`     rankings updated in place between recomputes (`LiveTrust`)
- `service`  the Voices service: recompute from the store, read pages back (`Voices`)

Everything but `service` is pure numpy/scipy (`compute` and `service` reuse their scratch memory
through `bot.allocator`); nothing here imports the store or a platform at run time. Other modules
import from `bot.trust` itself, not from the submodules; the package loads a submodule when one of
its names is first used, and `service` loads the numeric ones with the first recompute, so the bot
starts without numpy and scipy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.lazy import lazy_names

# Imported at once: numpy-free, and `explain` must be the function, not its module.
from bot.trust.explain import Part, explain, explain_parts, render_parts, render_why, stored_why, why_parts
from bot.trust.params import KIND_WEIGHTS, KINDS, Edges, MemberFacts, Posts, Ranked, TrustParams

if TYPE_CHECKING:
    from bot.trust.compute import compute_all, compute_scope, dependents
    from bot.trust.graph import CommunityEdges, fold_threads
    from bot.trust.listing import Listing
    from bot.trust.live import LiveTrust, Ranking, run_ranking
    from bot.trust.service import (
        STORE_LIMIT,
        Entry,
        Page,
        RecomputeResult,
        Voices,
        build_scopes,
        day_number,
        stored_rows,
    )

#: Where the other names live. The package imports a submodule when one of its names is first used,
#: so that the bot starts without numpy and scipy (the numeric modules load with the first recompute).
_HOMES = {
    "compute": ("compute_all", "compute_scope", "dependents"),
    "graph": ("CommunityEdges", "fold_threads"),
    "listing": ("Listing",),
    "live": ("LiveTrust", "Ranking", "run_ranking"),
    "service": (
        "STORE_LIMIT",
        "Entry",
        "Page",
        "RecomputeResult",
        "Voices",
        "build_scopes",
        "day_number",
        "stored_rows",
    ),
}
__getattr__, __dir__ = lazy_names(__name__, _HOMES, globals())


__all__ = [
    "KINDS",
    "KIND_WEIGHTS",
    "STORE_LIMIT",
    "CommunityEdges",
    "Edges",
    "Entry",
    "Listing",
    "LiveTrust",
    "MemberFacts",
    "Page",
    "Part",
    "Posts",
    "Ranked",
    "Ranking",
    "RecomputeResult",
    "TrustParams",
    "Voices",
    "build_scopes",
    "compute_all",
    "compute_scope",
    "day_number",
    "dependents",
    "explain",
    "explain_parts",
    "fold_threads",
    "render_parts",
    "render_why",
    "run_ranking",
    "stored_rows",
    "stored_why",
    "why_parts",
]
