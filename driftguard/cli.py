"""The ``driftguard`` command: parse arguments, call the library, hand results to a reporter, map the
outcome to an exit code (0 clean, 1 drift, 2 input error, 3 internal error). Nothing else lives here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from driftguard.errors import DriftguardError, UsageError

EXIT_OK, EXIT_DRIFT, EXIT_INPUT, EXIT_BUG = 0, 1, 2, 3


def _parse_sets(items: Sequence[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--set expects NAME=VALUE, got '{item}'")
        out[name.strip()] = value
    return out


def cmd_extract(args: argparse.Namespace) -> int:
    from driftguard import api
    from driftguard.reporters import configs

    found = api.extract_many(args.paths, args.kind, _parse_sets(args.set))
    render = {"text": configs.extract_text, "json": configs.extract_json, "yaml": configs.extract_yaml}
    sys.stdout.write(render[args.format](found))
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from driftguard import api
    from driftguard.reporters import configs

    result = api.diff(args.training, args.deployed, _parse_sets(args.set))
    if args.format == "json":
        sys.stdout.write(configs.diff_json(result.to_dict()))
    else:
        sys.stdout.write(configs.diff_text(result.training, result.deployed, result.findings))
    return EXIT_OK if result.ok else EXIT_DRIFT


def cmd_explain(args: argparse.Namespace) -> int:
    from driftguard.rules import engine

    sys.stdout.write(engine.explain(args.code) if args.code else engine.describe_rules())
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="driftguard",
        description="Catch silent drift between how a model was trained and how it is served.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("extract", help="print an artifact's effective configuration")
    p.add_argument("paths", nargs="+", metavar="PATH", help="artifact file or folder; KIND:PATH forces a kind")
    p.add_argument("--kind", help="force the extractor for every PATH")
    p.add_argument("--format", choices=("text", "json", "yaml"), default="text")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="fill a template placeholder")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("diff", help="compare a training-side artifact with a deployment-side one")
    p.add_argument("training", metavar="A", help="training side (KIND:PATH allowed)")
    p.add_argument("deployed", metavar="B", help="deployment side (KIND:PATH allowed)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="fill a template placeholder")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("explain", help="print a rule's documentation (no CODE: list the rules)")
    p.add_argument("code", nargs="?", metavar="CODE", help="rule code, e.g. DG101")
    p.set_defaults(func=cmd_explain)
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (tests call this directly)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_INPUT
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except DriftguardError as exc:
        sys.stdout.flush()
        sys.stderr.write(f"driftguard: error: {_one_line(str(exc))}\n")
        return EXIT_INPUT
    except KeyboardInterrupt:
        sys.stderr.write("driftguard: interrupted\n")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        sys.stderr.write(
            f"driftguard: internal error (this is a bug, please report it): {type(exc).__name__}: "
            f"{_one_line(str(exc))}\n"
        )
        return EXIT_BUG


def _one_line(text: str) -> str:
    return " ".join(text.split())


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())
