"""Red-team the trust ranking with a subreddit model.

`python -m bench.trust_fifth [--sizes 300,2000] [--seeds 1,2] [--attacks all|name,...]
[--strengths 1,2,3] [--why]`
"""

from __future__ import annotations

import argparse

from bench.trust_fifth.attacks import ATTACKS
from bench.trust_fifth.runner import run


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.trust_fifth", description=__doc__)
    parser.add_argument("--sizes", type=_ints, default=[300, 2000])
    parser.add_argument("--seeds", type=_ints, default=[1, 2])
    parser.add_argument(
        "--attacks", default="all", help="all, or a comma-separated list of " + ", ".join(ATTACKS)
    )
    parser.add_argument("--strengths", type=_ints, default=[1, 2, 3])
    parser.add_argument("--why", action="store_true", help="explain manipulators in Microvoice's top 20")
    args = parser.parse_args(argv)
    names = (
        list(ATTACKS) if args.attacks == "all" else [a.strip() for a in args.attacks.split(",") if a.strip()]
    )
    unknown = [a for a in names if a not in ATTACKS]
    if unknown:
        parser.error(f"unknown attacks: {', '.join(unknown)}")
    if any(s not in (1, 2, 3) for s in args.strengths):
        parser.error("strengths are 1, 2 or 3")
    run(args.sizes, args.seeds, names, args.strengths, why=args.why)


if __name__ == "__main__":
    main()
