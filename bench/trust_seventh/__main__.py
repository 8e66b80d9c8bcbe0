"""Red-team the trust ranking with a creator-collective Discord server model.

`python -m bench.trust_seventh [--sizes 400,4000] [--seeds 1,2] [--attacks all|name,...]
[--strengths 1,2,3] [--why]`
"""

from __future__ import annotations

from bench.trust_metrics import red_team_command
from bench.trust_seventh.runner import MODEL


def main(argv: list[str] | None = None) -> None:
    red_team_command(MODEL, "python -m bench.trust_seventh", __doc__, [400, 4000], argv)


if __name__ == "__main__":
    main()
