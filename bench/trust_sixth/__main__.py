"""Red-team the trust ranking with a hobby marketplace Discord server model.

`python -m bench.trust_sixth [--sizes 300,3000] [--seeds 1,2] [--attacks all|name,...]
[--strengths 1,2,3] [--why]`
"""

from __future__ import annotations

from bench.trust_metrics import red_team_command
from bench.trust_sixth.runner import MODEL


def main(argv: list[str] | None = None) -> None:
    red_team_command(MODEL, "python -m bench.trust_sixth", __doc__, [300, 3000], argv)


if __name__ == "__main__":
    main()
