"""A seventh community model that red-teams the trust ranking: a creator-collective Discord server.

`model` builds an organic server of small content creators and their audiences as the Discord bot
records it (replies, reactions, forum thread posts and mentions; join, account creation and leave
days known; a stream-notification bot) together with its genuine voices; `attacks` adds the
manipulations such a server sees (sub4sub rings, bought engagement, alts, ping spam, feedback pods,
imported fan bases, collab farming, sleepers, giveaway bait, staged help, raids); `runner` ranks
every community with Microvoice, message count and PageRank. Run it with
`python -m bench.trust_seventh`. Built without reading the other models' attacks or the ranking's
internals.
"""
