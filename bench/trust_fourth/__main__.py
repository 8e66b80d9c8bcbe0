"""Red-team the trust ranking with a fourth community model.

`python -m bench.trust_fourth [--sizes 300,1500] [--seeds 1,2] [--attacks all|name,...]
[--strengths 1,2,3] [--why] [--no-departures]`
"""

from __future__ import annotations

from bench.trust_fourth.attacks import ATTACKS
from bench.trust_fourth.runner import model
from bench.trust_metrics import command_line, red_team


def main(argv: list[str] | None = None) -> None:
    parser, parse = command_line("python -m bench.trust_fourth", __doc__, ATTACKS, [300, 1500], argv)
    parser.add_argument(
        "--no-departures",
        action="store_true",
        help="the member facts do not say who left (a bot without the Server Members intent)",
    )
    args = parse()
    red_team(
        model(departures=not args.no_departures),
        args.sizes,
        args.seeds,
        args.attack_names,
        args.strengths,
        why=args.why,
    )


if __name__ == "__main__":
    main()
