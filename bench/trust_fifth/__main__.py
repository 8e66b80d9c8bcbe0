"""Red-team the trust ranking with a subreddit model.

`python -m bench.trust_fifth [--sizes 300,2000] [--seeds 1,2] [--attacks all|name,...]
[--strengths 1,2,3] [--why]`
"""

from __future__ import annotations

from bench.trust_fifth.runner import MODEL
from bench.trust_metrics import red_team_command


def main(argv: list[str] | None = None) -> None:
    red_team_command(MODEL, "python -m bench.trust_fifth", __doc__, [300, 2000], argv)


if __name__ == "__main__":
    main()
