"""`python -m bench.trust_ninth [--sizes 300,3000] [--seeds 1,2] [--attacks all|a,b] [--strengths 1,2,3]
[--why]`: rank the home-lab subreddit's organic communities and every attack on them, and print the
tables (`bench.trust_metrics.red_team`)."""

from __future__ import annotations

import sys

from bench.trust_metrics import red_team_command
from bench.trust_ninth.runner import MODEL


def main(argv: list[str] | None = None) -> None:
    red_team_command(MODEL, "python -m bench.trust_ninth", __doc__, [300, 3000], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
