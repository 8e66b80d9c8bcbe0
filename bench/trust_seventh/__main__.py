"""Red-team the trust ranking with a creator-collective Discord server model.

`python -m bench.trust_seventh [--sizes 400,4000] [--seeds 1,2] [--attacks all|name,...]
[--strengths 1,2,3] [--why]`
"""

from __future__ import annotations

from bench.trust_metrics import command_line, red_team
from bench.trust_seventh.attacks import ATTACKS
from bench.trust_seventh.runner import MODEL


def main(argv: list[str] | None = None) -> None:
    _, parse = command_line("python -m bench.trust_seventh", __doc__, ATTACKS, [400, 4000], argv)
    args = parse()
    red_team(MODEL, args.sizes, args.seeds, args.attack_names, args.strengths, why=args.why)


if __name__ == "__main__":
    main()
