"""Red-team the trust ranking with a subreddit model.

`python -m bench.trust_fifth [--sizes 300,2000] [--seeds 1,2] [--attacks all|name,...]
[--strengths 1,2,3] [--why]`
"""

from __future__ import annotations

from bench.trust_fifth.attacks import ATTACKS
from bench.trust_fifth.runner import MODEL
from bench.trust_metrics import command_line, red_team


def main(argv: list[str] | None = None) -> None:
    _, parse = command_line("python -m bench.trust_fifth", __doc__, ATTACKS, [300, 2000], argv)
    args = parse()
    red_team(MODEL, args.sizes, args.seeds, args.attack_names, args.strengths, why=args.why)


if __name__ == "__main__":
    main()
