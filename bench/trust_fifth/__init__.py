"""A fifth community model that red-teams the trust ranking: a subreddit.

`model` builds an organic niche hobby-and-help subreddit as the Reddit adapter records it (comments
only, flairs as topics, no join dates, drive-by crowds from r/all) together with its genuine voices;
`attacks` adds Reddit-shaped manipulations to it; `runner` ranks every community with Microvoice,
message count and PageRank. Run it with `python -m bench.trust_fifth`.
"""
