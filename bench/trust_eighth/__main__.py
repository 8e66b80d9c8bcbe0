"""`python -m bench.trust_eighth [--sizes 400,4000] [--seeds 1,2] [--attacks all|a,b] [--strengths 1,2,3]
[--why]`: rank the keyboard server's organic communities and every attack on them, and print the
tables (`bench.trust_metrics.red_team`)."""

from __future__ import annotations

import sys

from bench.trust_eighth.runner import MODEL
from bench.trust_metrics import red_team_command


def main(argv: list[str] | None = None) -> None:
    red_team_command(MODEL, "python -m bench.trust_eighth", __doc__, [400, 4000], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
