"""The ``hetensor`` command: ``hetensor info``, ``hetensor bench``, ``hetensor demo``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["main"]


def _print_dict(data: dict[str, Any], indent: str = "") -> None:
    width = max(len(k) for k in data)
    for key, value in data.items():
        if isinstance(value, dict):
            print(f"{indent}{key}:")
            _print_dict(value, indent + "  ")
        else:
            print(f"{indent}{key.ljust(width)}  {value}")


def _cmd_info(args: argparse.Namespace) -> int:
    import hetensor as ht

    if args.no_context:
        info = ht.info()
    else:
        kwargs = {"depth": args.depth, "bootstrapping": args.bootstrapping, "slots": args.slots}
        try:
            ctx = ht.Context.ckks(**kwargs)
        except ImportError as err:  # openfhe missing: still report the build
            info = ht.info()
            info["encrypted layer"] = str(err)
        except ht.errors.ResourceError as err:  # refused before allocating: say why
            info = ht.info()
            info["memory"] = ht.he.estimate_resources(**kwargs).describe()
            info["refused"] = str(err)
        else:
            info = ctx.info()
    if args.json:
        print(json.dumps(info, indent=2, default=str))
    else:
        _print_dict(info)
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from . import bench
    from ._info import build_info

    skipped = bench.load_cases()
    for mod, reason in skipped.items():
        print(f"skipped {mod}: {reason}", file=sys.stderr)
    if args.list:
        for c in bench.select():
            why = c.unavailable()
            mark = f"  [unavailable: {why}]" if why else ""
            print(f"{c.name:28s} vs {c.reference}: {c.summary}{mark}")
        return 0
    for c in bench.select(args.filter):
        why = c.unavailable()
        if why:
            print(f"skipped {c.name}: {why}", file=sys.stderr)
    rows = bench.run(
        args.filter, repeat=args.repeat, quick=args.quick, progress=sys.stderr.isatty()
    )
    if not rows:
        print(
            f"no benchmark case matches {args.filter!r} and can run here "
            "(see hetensor bench --list)",
            file=sys.stderr,
        )
        return 1
    print(bench.format_table(rows))
    if args.json:
        bench.write_json(args.json, rows, build_info())
        print(f"wrote {args.json}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demos import DEFAULT, DEMOS

    if args.name == "list":
        for name, demo in DEMOS.items():
            print(f"{name:14s} {demo.text}{demo.status()}")
        return 0
    name = args.name or DEFAULT
    why = DEMOS[name].unavailable()
    if why is not None:
        print(f"hetensor demo {name} {why}", file=sys.stderr)
        return 2
    return DEMOS[name].main(args.rest)


def build_parser() -> argparse.ArgumentParser:
    from .demos import DEMOS

    parser = argparse.ArgumentParser(
        prog="hetensor",
        description="hetensor: encrypted arrays (CKKS via OpenFHE) and native kernels",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("info", help="versions, build facts and a default context's parameters")
    p.add_argument("--depth", type=int, default=3, help="depth of the context shown (3)")
    p.add_argument("--slots", type=int, default=None)
    p.add_argument(
        "--bootstrapping",
        action="store_true",
        help="show a bootstrapping context (slow: keygen takes tens of seconds)",
    )
    p.add_argument("--no-context", action="store_true", help="skip making a context")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(fn=_cmd_info)

    p = sub.add_parser("bench", help="run benchmark cases; ratios against references")
    p.add_argument("--filter", default=None, help="substring or glob of case names")
    p.add_argument("--json", default=None, metavar="FILE", help="also write rows as JSON")
    p.add_argument("--repeat", type=int, default=20, help="timed repetitions per case (20)")
    p.add_argument("--quick", action="store_true", help="smaller problem sizes where cases allow")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    p.set_defaults(fn=_cmd_bench)

    p = sub.add_parser("demo", help="run a demo (default: ames)")
    p.add_argument("name", nargs="?", default=None, choices=[*DEMOS, "list"])
    p.add_argument("rest", nargs=argparse.REMAINDER, help="arguments for the demo")
    p.set_defaults(fn=_cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``hetensor`` console script."""
    args = build_parser().parse_args(argv)
    return int(args.fn(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
