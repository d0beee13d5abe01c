"""``python -m driftguard.capture -o FILE script.py ARGS...``: run a Python script as ``__main__`` (as ``python
script.py ARGS...`` would: ``sys.argv`` is the script and its arguments, its folder first on ``sys.path``) under
``driftguard.capture(FILE)``, and exit with the script's status. The script is run, it is the user's own
program; driftguard only records what its engines used. Exit 2 with one line when there is nothing to capture
or the file cannot be written (the script's own errors are its traceback and status, as without capture)."""

from __future__ import annotations

import argparse
import runpy
import sys
from collections.abc import Sequence
from pathlib import Path

from driftguard.capture import capture
from driftguard.errors import DriftguardError


def main(argv: Sequence[str] | None = None) -> int:
    """Run the script under capture; its exit status (0 when it returns), 2 for driftguard's own errors."""
    parser = argparse.ArgumentParser(
        prog="python -m driftguard.capture",
        description="Run a Python script and record the generation and preprocessing settings its engines used "
                    "(transformers generate() and tokenizer calls) as a driftguard snapshot file.")
    parser.add_argument("-o", "--output", required=True, help="the snapshot file to write (*.snapshot.json)")
    parser.add_argument("script", help="the Python script to run as __main__")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments, as given")
    ns = parser.parse_args(argv)
    script = Path(ns.script)
    if not script.is_file():
        parser.error(f"no such script: {script}")
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    sys.argv = [str(script), *ns.args]
    sys.path.insert(0, str(script.resolve().parent))
    try:
        with capture(ns.output):
            runpy.run_path(str(script), run_name="__main__")
    except SystemExit as done:
        return _status(done.code)
    except DriftguardError as exc:
        print(f"driftguard.capture: {exc}", file=sys.stderr)
        return 2
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
    return 0


def _status(code: object) -> int:
    """``sys.exit``'s argument as an exit status, as the interpreter maps it (None 0, an int itself, anything
    else printed and 1)."""
    if code is None or isinstance(code, int):
        return code or 0
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
