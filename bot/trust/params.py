"""Parameters and value types of the trust ranking: what goes in and what comes out.

`TrustParams` holds the tunable knobs (argued for in docs/trust.md), `Edges` the daily engagement
aggregates, `Posts` what members posted, `MemberFacts` what the store knows about members, and
`Ranked` one listed member of one scope. Guarantees: every value is checked when it is built (a
bad parameter raises ValueError naming it; columns are one-dimensional numpy arrays of equal length
and fixed dtypes), and all of them are immutable, so a computation can share them between threads.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy is loaded by the first ranking, not when the bot starts
    import numpy as np

#: Engagement kinds as stored in `engagement_daily.kind`; `Edges.kind` holds indexes into this tuple.
KINDS: tuple[str, ...] = ("reply", "reaction", "thread_reply", "comment", "mention")

#: How much one engagement of each kind is worth before decay and saturation. A reply (or a Reddit
#: comment reply) costs effort and answers a specific message of that person, so it is the unit. A
#: message in a thread only credits whoever opened the thread, whoever it actually addresses: busy
#: threads credit their opener for everyone's chatter, and in help forums the opener is usually the
#: one asking. Half a reply. A reaction is one click: real but cheap, and the currency of
#: reaction-for-reaction trading. A mention names someone as relevant but is unsolicited by them
#: and trivially mass-produced.
KIND_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"reply": 1.0, "comment": 1.0, "thread_reply": 0.5, "reaction": 0.3, "mention": 0.5}
)


#: Why engagement a member received counts less (`Ranked.why["coordinated_reason"]`): accounts that
#: were quiet for a long time and became active together around them ("woke"); accounts whose
#: engagement goes mostly to them alone ("one"); a group whose members mostly engage each other
#: ("group"); accounts too new to vouch for anyone, far beyond the share usual in the community
#: ("new"); accounts the rest of the community gives no standing, far beyond the share usual in the
#: community ("unengaged"); engagement that came on a single day, far beyond the share usual in the
#: community ("day"); engagers who all first engaged the member within one week, far beyond the share
#: usual in the community ("burst"); engagers for whom the member is the one they engage most, far
#: beyond the share usual in the community ("top"); engagers who all first engaged the member within
#: a few weeks, far beyond what the member's own activity then and the usual member would give
#: ("weeks"); engagers who engage each other far more than the usual well-placed member's ("closed");
#: posts that each drew a crowd far beyond what the community's established voices' posts draw
#: ("crowd"); engagers most of whom engage no one else here ("lone"); engagement the member left
#: unanswered while keeping to a group ("apart").
REASONS: tuple[str, ...] = (
    "woke",
    "one",
    "group",
    "new",
    "unengaged",
    "day",
    "burst",
    "top",
    "weeks",
    "closed",
    "crowd",
    "lone",
    "apart",
    "drawn",
)
#: An explanation says where a member's engagement came from when at least this share of it came
#: from coordinated accounts (`Ranked.why["coordinated"]`).
COORDINATION_SHOWN = 0.25


@dataclass(frozen=True)
class TrustParams:
    """Tunable knobs; the defaults are argued for in docs/trust.md."""

    #: Engagement loses half its weight every `half_life_days`: trust reflects the recent months, and
    #: a member cannot live forever off one popular period.
    half_life_days: float = 30.0
    #: Rows older than this are ignored entirely (at 6 half-lives they weigh < 2%); it also bounds who
    #: counts as a "distinct peer" to people who engaged recently.
    window_days: float = 180.0
    #: Probability of following an engagement edge rather than returning to the seeds.
    damping: float = 0.85
    #: Power iteration stops when the L1 change of the trust vector drops below `tol` ...
    tol: float = 1e-9
    #: ... or after `max_iter` steps (the error then is at most damping**max_iter, ~1e-7).
    max_iter: int = 100
    #: Per-pair saturation scale: pair weight = 1 - exp(-x / saturation), x = decayed, kind-weighted
    #: count. 1 reaction -> 0.26, 1 reply -> 0.63, 3 replies or 10 reactions -> 0.95, 50 reactions ->
    #: 1.0: a peer's vote is bounded, and the first engagements carry nearly all of it.
    saturation: float = 1.0
    #: Fraction of A->B removed when B engaged A at least as much (reply-backs, trading, rings). The
    #: removed part is not renormalized away; it leaks back to the seeds. Must be in [0, 1).
    reciprocity_damping: float = 0.6
    #: Seeds (who receives teleport trust) need this much tenure in the community ...
    seed_min_tenure_days: float = 30.0
    #: ... and to have engaged with at least this many distinct members in the window.
    seed_min_peers: int = 3
    #: Where a platform shows no join date (Reddit), a member first seen within this many days of the
    #: start of the records that could show them (`MemberFacts.records_from_day`) was most likely
    #: there before: their arrival is unknown, not recent, and they count as present long enough (a
    #: member active once a week shows up in the first week). Members first seen later were seen
    #: arriving. 0 turns it off (tenure then starts at the first sighting, and nobody vouches until
    #: the records are `seed_min_tenure_days` old).
    censored_arrival_days: float = 7.0
    #: Where a platform shows no join date (Reddit), an account first seen this many days or more
    #: after the history's oldest activity may have been there, silent, since it began: the test for
    #: accounts that woke up together counts its silence from then (a subreddit's dormant boosters
    #: otherwise look like newcomers, and newcomers are never quiet). 0: silence counts from the
    #: first sighting.
    unseen_silence_days: float = 30.0
    #: The test for accounts that woke up together looks at accounts silent for at least this share
    #: of the periods they could have been active in (since they arrived, or since the history
    #: began) before their first activity: bought aged accounts that copy a member's ways for the
    #: last ten weeks of a four-month history were silent for two fifths of it.
    woke_quiet_share: float = 0.4
    #: Teleport weight of a moderator-pinned seed relative to an ordinary established seed.
    pinned_seed_weight: float = 1.0
    #: Earned seeds: an established member's teleport weight is the share of the periods (weeks; days
    #: in a young community) since they arrived in which they were active, times the share in which
    #: others engaged with them, times min(1, distinct engagers / `seed_full_engagers`). Tenure and
    #: account age only make a member eligible; the community's engagement over time earns the
    #: weight, which never exceeds one (a few seeds cannot outweigh many).
    earned_seeds: bool = True
    seed_full_engagers: int = 5
    #: Coordination evidence: accounts whose engagement goes mostly to one member, or mostly to
    #: partners who engage them back and mostly engage each other, and accounts that were quiet for a
    #: long time and became active together around the same member, are discounted (see
    #: docs/trust.md). False turns all of it off.
    coordination: bool = True
    #: Engagement from accounts devoted to one member (accounts whose engagement goes almost only to
    #: them: "one" in the coordination evidence) is taken off that member's listing value this many
    #: times: once with the other coordinated engagement (where engagers are counted, with
    #: `coordinated_once`), and once more from what remains. An
    #: account devoted to one member is no independent recognition, and it is evidence about the
    #: member it serves: alts are run, and boosters arranged, by or for the member they engage,
    #: while a genuine voice's engagers engage others too. 1 treats it like other coordinated
    #: engagement.
    devoted_weight: float = 2.0
    #: Breadth (`breadth`) counts each engager as far as its engagement shows no coordination
    #: (`keep`), so what coordinated accounts give a member is left out of the member's value there;
    #: it is not taken off a second time by its share of what the member received. Pod members and
    #: boosters engage genuine voices too, for cover, and an expert who lost that share twice fell
    #: behind ordinary members (docs/trust.md, "Coordinated engagement left out once"). Accounts
    #: that woke up together around a member are still taken off by their share (breadth counts
    #: them by their standing), and devoted accounts `devoted_weight` - 1 more times. False: the
    #: listing value is also multiplied by 1 - the coordinated share.
    coordinated_once: bool = True
    #: What a member's posts draw (volume-neutrality) counts each engager's share of its own
    #: engagement before saturation (reciprocity damping kept): posts that each draw as much keep the
    #: same draw at any volume. False: the share of its saturated votes, as the trust passes on.
    unsaturated_draw: bool = True
    #: A member's own insular-group discount applies only as far as the engagement they received is
    #: exchange (engagement met by as much back); their votes and seed weight keep the whole of it.
    #: False: the whole discount on their listing value too.
    group_discount_by_exchange: bool = True
    #: The insular-group test also measures how much of an account's engagement goes round a closed
    #: circle of its main recipients, who give theirs to each other (no engagement back needed):
    #: the larger of the two counts. A young community's pods, or a subreddit's (replies only, no
    #: reactions), answer each other too unevenly for the exchange test. False: exchange alone.
    circle_test: bool = True
    #: The insular-group test also measures, per account engaging at least eight members, the share
    #: of pairs among the members it engages (about twelve of them, chosen by a hash of their member
    #: id) who engaged each other, either way: an account belongs to a group from the first of these
    #: shares (0) to the second (1). A large like-for-like ring's accounts engage only its members,
    #: who all engage each other, too weakly each for the exchange or circle test (dozens of
    #: partners, a reaction or two with each); the members an account engages across a community
    #: mostly do not know each other (a creators' server of 4,000: 0.13 to 0.67 from the 10th to the
    #: 99th percentile, a ring's outside accounts 0.98 to 1). Not where the usual account's share is
    #: half or more (a small community where everyone engages everyone). (): off.
    target_circle: tuple[float, ...] = (0.9, 1.0)
    #: The insular-group and circle tests measure an account beyond the usual member's share: the
    #: median of every account that engages anyone. Where fewer than one in ten of those are engaged
    #: by `min_peers_listed` members (a server where nearly everyone only reacts), that median is a
    #: member who reacts and is never engaged back, and the few who post and answer each other, the
    #: community's core, look like a pod apart; with this, the usual member there is the tenth from
    #: the bottom of the engaged ones. False: the median always.
    group_usual_engaged: bool = True
    #: Engagement that comes from accounts too new to vouch (present, on an account as old, for less
    #: than `seed_min_tenure_days`) counts toward nobody's breadth or draw. Where it is most of what a
    #: member receives, far beyond the share usual among the scope's members, it is evidence too:
    #: alt accounts and mass-made accounts pour engagement into the member they serve. The listing
    #: value is multiplied by 1 - the excess (the share beyond the usual one, as a share of the
    #: rest). False: new accounts' engagement only counts for nothing.
    new_accounts: bool = True
    #: An account whose engagement goes mostly to the members the insular-group test found (each
    #: weighted by how strongly) is part of that group as far as that share goes, from a quarter of
    #: its engagement (0) to three quarters (1): a group's quieter members receive little and so
    #: exchange little, however much they give it. False: the insular-group test alone.
    group_by_engagement: bool = True
    #: Engagement from accounts that the rest of the community gives no standing (their trust, less
    #: what the member they engage passed to them, short of a seed's baseline: in breadth they count
    #: for that little already) is evidence too where it is far more of what a member receives than
    #: is usual: aged accounts kept or bought to engage one member are present for years but engaged
    #: by nobody, and spreading some of their engagement over others hides them from the test for
    #: accounts devoted to one member, not from this one. The listing value is multiplied by 1 - the
    #: discount, from a quarter of the share beyond the usual one (0) to three quarters (1). False:
    #: such accounts only count for little in breadth.
    unengaged_accounts: bool = True
    #: ... unless the usual member of the scope receives at least this share of their engagement
    #: from such accounts (a young community, where hardly anyone has standing yet): then nothing
    #: is taken. In a channel the share is usually larger than community-wide (standing there is
    #: what members earned in that channel), so a bound of one half switched the test off in many
    #: channels of large communities.
    unengaged_usual_max: float = 0.75
    #: Engagement that came on a single day is evidence too where it is far more of what a member
    #: received (community-wide, decayed as the ranking weighs it) than is usual: one post that a
    #: crowd answers (a giveaway run outside the bot, "reply to enter", a post that went viral, a
    #: brigade, a click farm's delivery) is not standing the community built over time. The
    #: listing value is multiplied by 1 - the discount, from a quarter of the share beyond the usual
    #: one (0) to three quarters (1). Where the usual member received half of their engagement or
    #: more on one day (a community a few days old), nothing is taken. False: off.
    single_day: bool = True
    #: Members whose engagers mostly arrived at once are evidence too: per member, the share of their
    #: distinct engagers whose first engagement with them in the window (of any kind, reactions
    #: included: an arrival's day moves by a day at most) falls in their busiest week, where it is
    #: far beyond the usual member's share (members with `min_peers_listed` engagers): a crowd of
    #: real members brought in to react, or brought in over a few days, arrives together; a voice's
    #: engagers arrive over months. Weeks that start in the history's first 30 days are not looked
    #: at (every relationship older than the window is "new" there), nor the days of a member's own
    #: first week here (members meet a newcomer then); nor is anything taken where the usual
    #: member's busiest week holds half of their engagers or more. The listing value is
    #: multiplied by 1 - the discount, from a quarter of the share beyond the usual one (0) to three
    #: quarters (1). False: off.
    new_engager_burst: bool = True
    #: The same over windows of these many whole weeks, counted back from today (() : off):
    #: engagers bought a few at a time over weeks arrive within those weeks, where a voice's arrive
    #: over months. A window is measured against the share of the engagers it would hold anyway:
    #: evenly arriving ones over the member's days here (less their first week), or the member's
    #: own share of activity (posts, engagement given) in it, whichever is larger; what is beyond
    #: that, as a share of the rest (of half the engagers at least), discounts the listing value on
    #: the same scale where it is far beyond the usual member's (the largest window's discount is
    #: taken, or the week's where that is larger).
    arrival_weeks: tuple[int, ...] = (3, 6)
    #: The weeks' discount is taken this many times over: the listing value is multiplied by
    #: (1 - the discount) ** this. What a member's own activity in the window excuses is large over
    #: weeks, so what is beyond it is a smaller part of the engagers than the part that came bought:
    #: a discount of a half that leaves half the value leaves an eighth. 1: taken once.
    arrival_weeks_power: float = 3.0
    #: For the arrival tests (`new_engager_burst`, `arrival_weeks`), a member whose activity before
    #: a silence of this many days or more is at most a twentieth of all of it arrived when they came
    #: back: a reaction or two months before is no presence, and members meet a newcomer in their
    #: first week whenever it comes. 0: a member arrived when first seen or when they joined.
    returned_silence_days: int = 28
    #: Engagement bought from many accounts that each give a little, and engage a few others for
    #: cover, is still their largest: per member, the share of their distinct engagers (counting
    #: those that engage at least three members) for whom the member is the one they engage most
    #: (ties shared), where it is far beyond the usual member's share (members with
    #: `min_peers_listed` engagers). The listing value is multiplied by 1 - the discount, on the
    #: same scale. False: off.
    top_recipient: bool = False
    #: Members whose posts each draw a crowd far beyond what the community's established voices'
    #: posts draw: per member, the distinct (engager, day) pairs they received per post (both
    #: decayed), against the median of the scope's established voices and its twenty best-valued
    #: members; the listing value is multiplied by 1 - the discount, from the first of these
    #: multiples (0) to the second (1), except for pinned members (the moderators vouch for the
    #: crowd). Engagement bait ("react to vote", "react to enter") draws most of the community to
    #: each of a few posts; a voice's posts each draw their part of it. (): off.
    crowd_per_post: tuple[float, ...] = (4.0, 6.0)
    #: Members written to only on the days their posts drew a crowd: per member, the share of the
    #: distinct members who wrote to them (replies, thread posts, comments) whose every such
    #: engagement fell on a day and in a channel where the member drew at least
    #: `crowd_day_engagers` writers, `crowd_day_ratio` times the community's usual writers per post
    #: or more, and not all on the largest such day (a crowd that came once is `single_day`'s;
    #: `bot.trust.crowds`). The listing value is multiplied by 1 - the discount, from the first of
    #: these shares (0) to the second (1), except for pinned members. "Reply to enter" giveaways and
    #: calls to answer a post for a prize bring many members to write once, on those days only; the
    #: members who write to a voice come back on other days. Without `Posts`, or (): off.
    crowd_days: tuple[float, ...] = (0.2, 0.4)
    crowd_day_engagers: int = 8
    crowd_day_ratio: float = 3.0
    #: A member with no activity of their own in this many days (no post, reply, reaction or
    #: comment; counted back from the community's latest activity, so records that stopped for a while
    #: do not empty every listing) is not listed in any scope, as a
    #: member who left is not (`MemberFacts.left_day`): a voice must be around to be one, and Reddit
    #: does not say who left a subreddit, so this is how a departure shows there. What they gave
    #: while here still counts for whom they engaged. Pinned members are listed all the same. Only
    #: where posts count (`Posts` given, `appeal` > 0): without them a member's own activity is not
    #: known. 0: off.
    idle_days: float = 28.0
    #: The yardsticks a listing measures with (its established voices: the confidence bar, the voices'
    #: yardstick for the draw, the draw floor's exemption, what a voice's post draws for the crowd
    #: test) are taken among the members who can be listed, not among those who left or went idle
    #: (`idle_days`): a star gone quiet five weeks ago otherwise sets a bar that cuts a help
    #: subreddit's listing to four members while regulars answering every week stay out (docs/trust.md,
    #: "Yardsticks among the members still here"). False: measured with them.
    bars_among_present: bool = True
    #: Members most of whose distinct engagers engage no one else in the community: per member, the
    #: share of their distinct engagers (community-wide) who engaged only them, beyond the usual
    #: member's share (the median member with `min_peers_listed` engagers) as a share of the rest;
    #: the listing value is multiplied by 1 - the discount, from the first of these shares (0) to the
    #: second (1), except for pinned members. Accounts that come from elsewhere to one member's
    #: threads and take part in nothing else here (a brigade from another subreddit, a following
    #: brought along) are no peers' endorsement; a voice's engagers, askers who came once included,
    #: mostly take part elsewhere too (the benchmarks' genuine voices: 0.38 at most, 0.46 for a post
    #: that reached r/all). (): off.
    lone_engagers: tuple[float, ...] = (0.5, 0.8)
    #: Members who keep to a group and leave the rest unanswered: per member, their insular-group
    #: score (their own engagement is exchange within a group whose members exchange with each
    #: other) times the share of what they received that came from members they never engaged in
    #: turn; the listing value is multiplied by 1 - the discount, from the first of these products
    #: (0) to the second (1), except for pinned members. Accounts that trade engagement among
    #: themselves and never answer the members their posts draw (a repost ring, a clique that
    #: broadcasts) take the community's attention without taking part in it; a voice answers many of
    #: the members who engage them, or belongs to no group (the benchmarks' genuine voices in
    #: listings' top 20s: 0.32 at most, 98% of them under 0.13). (): off.
    apart_group: tuple[float, ...] = (0.3, 0.5)
    #: Members whose engagers engage each other far more than the usual well-placed member's do:
    #: per member (of the 200 best-valued of a scope), each engager counts by the share of the
    #: member's other engagers it engaged or was engaged by, weighted by what it gave the member
    #: (about 24 engagers looked at per member); against the median of those members (0.05 at
    #: least), the listing value is multiplied by 1 - the discount, from the first of these multiples
    #: of the median (0) to the second (1). A ring of members who trade some of their engagement
    #: and spread the rest like anyone's engage each other; a voice's audience mostly does not.
    #: (): off.
    closed_engagers: tuple[float, ...] = (2.0, 3.0)
    #: The listing value is multiplied by the number of distinct engagers present for a while and
    #: uncoordinated (each counted as far as it vouches and is kept) to this power: breadth weighs
    #: engagers by their trust, and among members of alike standing the one more members seek out
    #: ranks higher. 0 turns it off.
    peers_exponent: float = 0.75
    #: Where engagers are counted (breadth, a post's draw in the listing, in the draw floor and in a
    #: seed's weight, distinct peers), an account that engages more distinct members than this share
    #: of the scope's engaging accounts do counts as that many members' worth (a quantile of the
    #: engagers' distinct targets) spread over everyone it engages: engagement given to nearly
    #: everyone is no choice of anyone. 0 turns it off.
    wide_engagers: float = 0.8
    #: Nobody is listed with fewer distinct (non-excluded) engagers in the scope.
    min_peers_listed: int = 5
    #: Confidence bar: the listing states confidence, so it may hold fewer members than asked for.
    #: The scope's established voices are the eligible members whose listing value is at least half
    #: the top one; a member is listed only with a listing value of at least `listed_min_value` times
    #: their median value and at least `listed_min_peers` times their median number of distinct
    #: engagers. The best-placed member is always listed (a young community still lists someone).
    #: 0 turns either part off.
    listed_min_value: float = 0.2
    listed_min_peers: float = 0.3
    #: In the whole community, the confidence bar does not shorten the listing below this many
    #: members: where it would, the best-valued members below the bar fill it up to this depth, if
    #: they meet every other condition (distinct engagers, the draw floor), what they received
    #: shows no coordinated pattern the explanation would name (`COORDINATION_SHOWN`) and their
    #: posts draw at least half of an average post. A small community's voices are engaged by a
    #: dozen members where its star is engaged by sixty, and the bar listed four or five of them.
    #: Topic listings keep the bar as it is. 0: off.
    listed_min_depth: int = 10
    #: The established voices of the confidence bar are the members at least half as valued as the
    #: top one, and at least this share of the eligible members, best first: one member far ahead of
    #: everyone else (a community's star) does not set the bar alone. 0: the first part alone.
    established_share: float = 0.05
    #: Nobody is listed whose posts draw less than this share of an average post (what the
    #: volume-neutrality factor measures, whatever its exponent `appeal`): engagement collected by
    #: volume is not a voice. 0 turns it off.
    listed_min_draw: float = 0.3
    #: In the whole community, the draw floor spares a member whose listing value, their low draw
    #: counted, still reaches the median of its established voices (see `established_share`), and
    #: who engaged `draw_floor_engaged_back` of their engagers in turn: a helper who answers every
    #: question draws a thank-you now and then per answer, from most of the community; a spammer
    #: whose posts many members answer once over months answers none of them. Not in a channel or
    #: category, whose few established voices are no yardstick. False: the floor applies to everyone.
    draw_floor_below_voices: bool = True
    #: In the whole community, the draw floor is `draw_floor_reached` of itself for a member whom at
    #: least this share of the members who take part engage (engaged someone or were engaged;
    #: engagers counted as far as they are present for a while and uncoordinated, as in breadth): a
    #: regular in conversation all day draws a little per message, from a large part of the
    #: community, which exposure alone does not bring. A fifth since the voices' posts are the
    #: yardstick (`voices_yardstick`; a half before). None: the floor is the same for everyone.
    draw_floor_reach: float | None = 0.2
    #: The share of the draw floor that a member most of the community engages is held to (see
    #: `draw_floor_reach`).
    draw_floor_reached: float = 0.5
    #: ... if they engaged at least this share of their engagers in turn: over months a spammer's
    #: posts reach most members too, and the spammer answers none of them. The members
    #: `draw_floor_below_voices` spares must have engaged as many in turn.
    draw_floor_engaged_back: float = 0.25
    #: In the whole community, a member the confidence bar lists and only the draw floor leaves
    #: out may still fill a short listing (`listed_min_depth`), ordered by value, where
    #: they have the bar's breadth in established engagers, engaged `draw_floor_engaged_back` of
    #: them in turn, show no pattern the explanation names, and their posts draw at least what the
    #: floor's exemption asks (two thirds of the floor): in a small community, a regular who posts
    #: all day and whom a third of the members answer draws a little under the floor, while
    #: members with a handful of engagers filled the places. False: the floor keeps them out.
    fill_below_floor: bool = True
    #: The draw floor applies, in every scope, to what a member's posts draw in the whole community
    #: as well as in the scope: in a channel, a couple of engagers who engage little else there can
    #: make a spammer's posts look sought out. False: the scope's draw alone.
    community_draw_floor: bool = True
    #: In a channel or category, nobody is listed at least this share of whose engagement there came
    #: from accounts acting for them: accounts that woke up together ("woke"), accounts engaging
    #: mostly them ("one"), a group engaging mostly each other ("group") or accounts too new to
    #: vouch ("new"), whatever the discounts leave, and twice the share usual among the community's
    #: members who take part. A topic's few members can make such a member its best-placed, whom the
    #: confidence bar always lists; a small community where everyone engages everyone is one group.
    #: The patterns that ordinary small channels show too (a single day's engagement, engagers
    #: without standing, engagers who engage each other more than usual) bar nobody. None: off.
    topic_max_coordinated: float | None = 0.5
    #: The same bar in the whole community's listing: where the community's own history is thin (its
    #: first days), its best-placed members can be a pod's or a ring's, as a topic's can. In a
    #: community with weeks of history nobody so engaged comes near its listing (see docs/trust.md,
    #: "Accounts acting for a member, in the whole community"). False: topics only.
    community_max_coordinated: bool = True
    #: Listing value from breadth: the established, uncoordinated members who engage someone, each
    #: counted by its vote and by its own trust up to a seed's baseline (see docs/trust.md), rather
    #: than the trust received. False ranks by received trust, as before.
    breadth: bool = True
    #: Listing value = received trust x (1 - exp(-effective_peers / diversity_scale)): trust arriving
    #: through one or two peers is discounted, trust spread over many peers is not.
    diversity_scale: float = 3.0
    #: How many channels `Ranked.top_topics` keeps.
    max_topics: int = 3
    #: Volume-neutrality (only when `Posts` are given): listing value x min(1, (y / y_scope) ** appeal)
    #: where y is the engagement a member received per post and y_scope the scope's average. Someone
    #: whose posts draw less than an average post is discounted in proportion (appeal = 1), so posting
    #: ten times as much to collect incidental replies does not multiply one's standing. 0 disables.
    appeal: float = 1.0
    #: ... and only below this share of an average post: the factor is min(1, (y / (knee x y_scope))
    #: ** appeal). A member whose posts draw most of what an average post draws collects nothing by
    #: volume; between such members, how many distinct peers engage them decides, not which of their
    #: posts happened to draw a little more (docs/trust.md, "The draw counted from 0.7 of an average
    #: post"). The draw floors (`listed_min_draw`) still measure the draw itself. 1: every post below
    #: an average one is discounted.
    appeal_knee: float = 0.7
    #: In the whole community, where the established voices' posts (see `established_share`) draw
    #: less than an average post, the median of their draw is the average post instead, for members
    #: whose engagement shows no pattern the explanation names (`COORDINATION_SHOWN`): in a
    #: community of genuine posters, members whose few posts each draw much raise the average, and
    #: an expert whose many answers are each thanked once falls under the draw floor against it.
    #: Volume collectors bring the average below the voices' draw, and then nothing changes (docs/
    #: trust.md, "The voices' posts as the yardstick"). False: the average post alone.
    voices_yardstick: bool = True
    #: "Trend vs the previous period" compares with the ranking as it stood this many days earlier.
    trend_period_days: int = 7
    #: Weight per engagement kind (see KIND_WEIGHTS); unknown kinds weigh nothing.
    kind_weights: Mapping[str, float] = field(default_factory=lambda: dict(KIND_WEIGHTS))

    def __post_init__(self) -> None:
        checks = (
            (self.half_life_days > 0, "half_life_days must be > 0"),
            (self.window_days > 0, "window_days must be > 0"),
            (0 < self.damping < 1, "damping must be in (0, 1)"),
            (self.tol > 0, "tol must be > 0"),
            (self.max_iter >= 1, "max_iter must be >= 1"),
            (self.saturation > 0, "saturation must be > 0"),
            (0 <= self.reciprocity_damping < 1, "reciprocity_damping must be in [0, 1)"),
            (self.seed_min_tenure_days >= 0, "seed_min_tenure_days must be >= 0"),
            (self.censored_arrival_days >= 0, "censored_arrival_days must be >= 0"),
            (self.unseen_silence_days >= 0, "unseen_silence_days must be >= 0"),
            (self.idle_days >= 0, "idle_days must be >= 0"),
            (
                all(weeks >= 2 for weeks in self.arrival_weeks),
                "arrival_weeks must be windows of 2 weeks or more",
            ),
            (self.arrival_weeks_power >= 1, "arrival_weeks_power must be >= 1"),
            (
                not self.closed_engagers
                or (
                    len(self.closed_engagers) == 2 and 1 <= self.closed_engagers[0] < self.closed_engagers[1]
                ),
                "closed_engagers must be () or (from, to) with 1 <= from < to",
            ),
            (
                not self.target_circle
                or (len(self.target_circle) == 2 and 0 <= self.target_circle[0] < self.target_circle[1] <= 1),
                "target_circle must be () or (from, to) with 0 <= from < to <= 1",
            ),
            (self.returned_silence_days >= 0, "returned_silence_days must be >= 0"),
            (self.seed_min_peers >= 0, "seed_min_peers must be >= 0"),
            (self.pinned_seed_weight > 0, "pinned_seed_weight must be > 0"),
            (self.seed_full_engagers >= 1, "seed_full_engagers must be >= 1"),
            (self.min_peers_listed >= 1, "min_peers_listed must be >= 1"),
            (self.listed_min_depth >= 0, "listed_min_depth must be >= 0"),
            (self.diversity_scale > 0, "diversity_scale must be > 0"),
            (0 <= self.listed_min_value <= 1, "listed_min_value must be in [0, 1]"),
            (0 <= self.listed_min_peers <= 1, "listed_min_peers must be in [0, 1]"),
            (0 <= self.established_share <= 1, "established_share must be in [0, 1]"),
            (0 <= self.unengaged_usual_max <= 1, "unengaged_usual_max must be in [0, 1]"),
            (0 <= self.peers_exponent <= 1, "peers_exponent must be in [0, 1]"),
            (0 <= self.wide_engagers <= 1, "wide_engagers must be in [0, 1]"),
            (0 <= self.listed_min_draw <= 1, "listed_min_draw must be in [0, 1]"),
            (
                self.draw_floor_reach is None or 0 < self.draw_floor_reach <= 1,
                "draw_floor_reach must be in (0, 1] or None",
            ),
            (0 <= self.draw_floor_reached <= 1, "draw_floor_reached must be in [0, 1]"),
            (
                self.topic_max_coordinated is None or 0 < self.topic_max_coordinated <= 1,
                "topic_max_coordinated must be in (0, 1] or None",
            ),
            (0 <= self.draw_floor_engaged_back <= 1, "draw_floor_engaged_back must be in [0, 1]"),
            (0 < self.woke_quiet_share <= 1, "woke_quiet_share must be in (0, 1]"),
            (self.max_topics >= 0, "max_topics must be >= 0"),
            (self.appeal >= 0, "appeal must be >= 0"),
            (0 < self.appeal_knee <= 1, "appeal_knee must be in (0, 1]"),
            (self.devoted_weight >= 1, "devoted_weight must be >= 1"),
            (self.trend_period_days >= 1, "trend_period_days must be >= 1"),
            (
                not self.crowd_days
                or (len(self.crowd_days) == 2 and 0 <= self.crowd_days[0] < self.crowd_days[1]),
                "crowd_days must be () or (from, to) with 0 <= from < to",
            ),
            (self.crowd_day_engagers >= 1, "crowd_day_engagers must be >= 1"),
            (self.crowd_day_ratio > 0, "crowd_day_ratio must be > 0"),
        )
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        weights = dict(self.kind_weights)
        unknown = set(weights) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown engagement kinds: {sorted(unknown)}")
        if any(not math.isfinite(w) or w < 0 for w in weights.values()):
            raise ValueError("kind weights must be finite and >= 0")
        object.__setattr__(self, "kind_weights", MappingProxyType(weights))

    @property
    def first_contacts(self) -> bool:
        """Whether a ranking needs each pair's first day (`new_engager_burst`, `arrival_weeks`)."""
        return self.new_engager_burst or bool(self.arrival_weeks)

    def kind_weight_vector(self) -> np.ndarray:
        """Weights indexed by kind code, plus a trailing 0 for out-of-range codes."""
        import numpy as np

        return np.array([float(self.kind_weights.get(k, 0.0)) for k in KINDS] + [0.0])


def _column(values: Any, dtype: type | np.dtype) -> np.ndarray:
    import numpy as np

    arr = np.asarray(values, dtype=dtype)
    if arr.ndim != 1:
        raise ValueError("columns must be one-dimensional")
    return arr


@dataclass(frozen=True)
class Edges:
    """Daily engagement aggregates as equal-length columns (one row per engagement_daily row).

    `kind` holds indexes into KINDS (use `Edges.from_rows` to convert kind names), `day` is days since
    1970-01-01 UTC, `n` the number of engagements that day (rows with n <= 0, e.g. fully retracted
    reactions, are ignored).
    """

    actor: np.ndarray
    target: np.ndarray
    channel: np.ndarray
    day: np.ndarray
    kind: np.ndarray
    n: np.ndarray

    def __post_init__(self) -> None:
        import numpy as np

        cols = {
            "actor": _column(self.actor, np.int64),
            "target": _column(self.target, np.int64),
            "channel": _column(self.channel, np.int64),
            "day": _column(self.day, np.int64),
            "kind": _column(self.kind, np.int64),
            "n": _column(self.n, np.float64),
        }
        if len({len(c) for c in cols.values()}) > 1:
            raise ValueError("Edges columns must have equal lengths")
        for name, col in cols.items():
            object.__setattr__(self, name, col)

    def __len__(self) -> int:
        return len(self.actor)

    @classmethod
    def empty(cls) -> Edges:
        import numpy as np

        z = np.zeros(0, np.int64)
        return cls(z, z, z, z, z, z.astype(np.float64))

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[int, int, int, int, str | int, int | float]]) -> Edges:
        """Build from `(channel_id, actor_id, target_id, day, kind, n)` rows, kind as a name or code.

        Unknown kind names map to -1 and carry no weight, like unknown codes. Rows of uniform types
        (what a database cursor returns) are parsed by numpy in one pass, a few times faster than
        transposing them in Python.
        """
        import numpy as np

        data = rows if isinstance(rows, list) else list(rows)
        if not data:
            return cls.empty()
        by_name = isinstance(data[0][4], str)
        layout = [("channel", "i8"), ("actor", "i8"), ("target", "i8"), ("day", "i8")]
        layout += [("kind", "U16" if by_name else "i8"), ("n", "f8")]
        try:
            table = np.array(data, dtype=layout)
        except (TypeError, ValueError, OverflowError):  # mixed kind types or odd values: slow path
            channel, actor, target, day, kind, n = zip(*data, strict=True)
            names = {name: code for code, name in enumerate(KINDS)}
            codes = [names.get(k, -1) if isinstance(k, str) else int(k) for k in kind]
            return cls(actor=actor, target=target, channel=channel, day=day, kind=codes, n=n)
        if by_name:
            codes = np.full(len(table), -1, np.int64)
            for code, name in enumerate(KINDS):
                codes[table["kind"] == name] = code
        else:
            codes = table["kind"]
        return cls(
            actor=table["actor"],
            target=table["target"],
            channel=table["channel"],
            day=table["day"],
            kind=codes,
            n=table["n"],
        )


@dataclass(frozen=True)
class Posts:
    """What members said, as counts per (member, channel, day): messages, replies, threads, Reddit
    comments and submissions (the store's `activity_daily` for those kinds), threads folded into
    their channel like the edges. `n` may be fractional (e.g. already decayed, with `day` = today).

    Used for volume-neutrality: how much engagement a member *received per post*, compared with the
    scope's average. See `TrustParams.appeal`.
    """

    member: np.ndarray
    channel: np.ndarray
    day: np.ndarray
    n: np.ndarray

    def __post_init__(self) -> None:
        import numpy as np

        cols = {
            "member": _column(self.member, np.int64),
            "channel": _column(self.channel, np.int64),
            "day": _column(self.day, np.int64),
            "n": _column(self.n, np.float64),
        }
        if len({len(c) for c in cols.values()}) > 1:
            raise ValueError("Posts columns must have equal lengths")
        for name, col in cols.items():
            object.__setattr__(self, name, col)

    def __len__(self) -> int:
        return len(self.member)


@dataclass(frozen=True)
class MemberFacts:
    """What the store knows about members. Days are days since 1970-01-01 UTC, NaN when unknown.

    `excluded` (brand contacts, moderator-excluded members) and bots are never ranked, and their
    engagement, in either direction, is removed from the graph: a bot or a brand account must not
    be able to confer trust, and engaging with one must not dilute a member's vote.
    `pinned` members are seeds whatever their tenure (moderators vouch for them).
    Members that appear in the edges but not here are treated as unknown (no tenure facts, not bots).
    `records_from_day` is, for members whose platform shows no join date (Reddit), the day from which
    the records could show them at all (when the bot began reading their community there); NaN
    where a join date is known or nothing is: a first sighting right at that day says only that the
    member was there before (`TrustParams.censored_arrival_days`).
    `left_day` is the day a member left the community (NaN while they are in it, or when the platform
    does not say): who left is not listed in any scope, as a trusted voice must be there to be one,
    but the engagement they gave while here still counts for whom they engaged.
    """

    member_id: np.ndarray = field(default_factory=lambda: _column((), int))
    joined_day: np.ndarray | None = None
    account_created_day: np.ndarray | None = None
    is_bot: np.ndarray | None = None
    first_seen_day: np.ndarray | None = None
    records_from_day: np.ndarray | None = None
    left_day: np.ndarray | None = None
    excluded: frozenset[int] = frozenset()
    pinned: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        import numpy as np

        ids = _column(self.member_id, np.int64)
        size = len(ids)

        def fill(values: Any, dtype: type, default: float | bool) -> np.ndarray:
            if values is None:
                return np.full(size, default, dtype=dtype)
            col = _column(values, dtype)
            if len(col) != size:
                raise ValueError("MemberFacts columns must have the length of member_id")
            return col

        object.__setattr__(self, "member_id", ids)
        object.__setattr__(self, "joined_day", fill(self.joined_day, np.float64, np.nan))
        object.__setattr__(self, "account_created_day", fill(self.account_created_day, np.float64, np.nan))
        object.__setattr__(self, "first_seen_day", fill(self.first_seen_day, np.float64, np.nan))
        object.__setattr__(self, "records_from_day", fill(self.records_from_day, np.float64, np.nan))
        object.__setattr__(self, "left_day", fill(self.left_day, np.float64, np.nan))
        object.__setattr__(self, "is_bot", fill(self.is_bot, np.bool_, False))
        object.__setattr__(self, "excluded", frozenset(int(x) for x in self.excluded))
        object.__setattr__(self, "pinned", frozenset(int(x) for x in self.pinned))
        if size > 1:
            ordered = np.sort(ids)
            if np.any(ordered[1:] == ordered[:-1]):
                raise ValueError("MemberFacts.member_id must be unique")


@dataclass(frozen=True)
class Ranked:
    """One listed member of one scope.

    `score` is the listing value normalized so the scope's top member has 1.0. `distinct_peers`
    counts distinct non-excluded members who engaged with them in the scope and window;
    `trusted_peers` how many of those are seeds or hold at least average trust themselves.
    `top_topics` are (channel_id, share of received engagement) pairs, largest first. `trend` is the
    relative change of `score` against the previous period (None when there is no previous score).
    `why` is a JSON-serializable record of the numbers behind the rank (see `explain_parts`).
    """

    member_id: int
    score: float
    rank: int
    distinct_peers: int
    trusted_peers: int
    top_topics: tuple[tuple[int, float], ...]
    trend: float | None
    why: dict[str, Any]
