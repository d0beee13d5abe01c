"""The ``driftguard`` command: parse arguments, call the library, hand results to a reporter, map the
outcome to an exit code (0 clean, 1 drift, 2 input error, 3 internal error). Nothing else lives here."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

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


def _limits(args: argparse.Namespace) -> Any:
    """The reader limits with ``--limit NAME=VALUE`` applied (UsageError for an unknown name or bad value)."""
    from driftguard import api

    return api.reader_limits(_parse_limit_items(args.limit))


def _parse_limit_items(items: Sequence[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--limit expects NAME=VALUE, got '{item}'")
        out[name.strip()] = value.strip()
    return out


_MANIFEST_HELP = "manifest (default: driftguard.yaml here, else in the nearest parent folder that has one)"


def _style() -> Any:
    """Width and colour for text written to stdout (``reporters.style``: COLUMNS, NO_COLOR, FORCE_COLOR)."""
    from driftguard.reporters.style import Style

    return Style.for_stream(sys.stdout)


def _out(args: argparse.Namespace, render: Callable[[Any], str]) -> None:
    """Write a command's output: to ``--output FILE`` (plain text), else to stdout (fitted and coloured on a
    terminal). ``render(style)`` makes the text."""
    if getattr(args, "output", None):
        _write(args.output, render(None), "--output")
    else:
        _stdout(render(_style()))


def _stdout(text: str, fmt: str = "text") -> None:
    """Write output made from input to stdout. Inside GitHub Actions (``GITHUB_ACTIONS=true``) the runner reads
    every line of it for workflow commands (``::add-mask::``, ``::stop-commands::``), so anything but the
    ``github`` format (whose commands are the point, each escaped) is wrapped in the runner's stop-commands
    guard with a token the input cannot know."""
    if text and fmt != "github" and os.environ.get("GITHUB_ACTIONS") == "true":
        import secrets

        token = secrets.token_hex(16)
        end = "" if text.endswith("\n") else "\n"
        text = f"::stop-commands::{token}\n{text}{end}::{token}::\n"
    sys.stdout.write(text)


def cmd_extract(args: argparse.Namespace) -> int:
    from driftguard import api
    from driftguard.reporters import configs

    found = api.extract_many(args.paths, args.kind, _parse_sets(args.set), _limits(args), call=args.call,
                             line=args.line)
    if args.format == "text":
        _out(args, lambda style: configs.extract_text(found, style) if style else configs.extract_text(found))
    else:
        render = {"json": configs.extract_json, "yaml": configs.extract_yaml}[args.format]
        _out(args, lambda _style: render(found))
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from driftguard import api
    from driftguard.reporters import configs

    result = api.diff(args.training, args.deployed, _parse_sets(args.set), limits=_limits(args),
                      context=args.context or ())
    if args.format == "json":
        _out(args, lambda _style: configs.diff_json(result.to_dict()))
    else:
        _out(args, lambda style: configs.diff_text(result.training, result.deployed, result.findings,
                                                   *((style,) if style else ())))
    return EXIT_OK if result.ok else EXIT_DRIFT


def _parse_formats(items: Sequence[str] | None) -> list[tuple[str, str | None]]:
    """``--format NAME`` (stdout) or ``NAME=PATH`` (a file), repeatable; default text on stdout."""
    from driftguard import reporters

    known = reporters.available()
    out: list[tuple[str, str | None]] = []
    for item in items or ["text"]:
        name, sep, path = item.partition("=")
        if name not in known:
            raise UsageError(f"--format: unknown format '{name}'; one of: {', '.join(known)}")
        if sep and not path:
            raise UsageError(f"--format {name}=PATH: the path is empty")
        out.append((name, path if sep else None))
    return out


def _write(path: str, text: str, what: str) -> None:
    """``text`` to a fresh file at ``path`` (``api.write_output``: never through a symlink, never appended to
    a file that was there)."""
    from driftguard import api

    api.write_output(path, text, what)


def _append_summary(path: str, text: str) -> None:
    """Append to the runner's job summary file (the runner made it; it is not in the checked tree)."""
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise UsageError(f"GITHUB_STEP_SUMMARY: cannot write {path}: {exc.strerror or exc}") from None


def _check_formats(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    """``check``'s, ``report``'s and ``parity``'s outputs: ``--format`` items, with ``-o FILE`` for what would go
    to stdout."""
    formats = _parse_formats(args.format)
    if getattr(args, "output", None):  # -o FILE: what would go to stdout goes to FILE
        formats = [(name, args.output if path is None else path) for name, path in formats]
    return formats


def _outputs(args: argparse.Namespace) -> list[tuple[str | None, str]]:
    """The files this command writes that a later step may take for its result, as ``(format, path)``; format
    None for a file that is only removed (a snapshot). Read from the raw options, unvalidated, so a run that
    fails on its own options still replaces them."""
    if args.command in ("check", "report", "parity"):
        items = [item.partition("=") for item in args.format or ["text"]]
        out: list[tuple[str | None, str]] = [(name, path) for name, sep, path in items if name and sep and path]
        if getattr(args, "output", None):
            out += [(name, args.output) for name, sep, _ in items if not sep]
        return out
    if args.command in ("extract", "diff") and args.output:
        return [(args.format, args.output)]
    if args.command == "snapshot":
        return [(None, args.output)]
    return []


def _leave_failed(outputs: Sequence[tuple[str | None, str]], code: int, message: str) -> None:
    """Put the failure report (``reporters.failed``) at every output of a run that failed, so no file from
    before (or committed by the pull request) is taken for its result. A path that cannot be written was
    reported already and its stale file removed when the run started."""
    from driftguard import api
    from driftguard.reporters.failed import render_error

    for fmt, path in outputs:
        if fmt is None:
            continue
        try:
            api.write_output(path, render_error(fmt, code, message), f"--format {fmt}")
        except DriftguardError:
            continue


def cmd_check(args: argparse.Namespace) -> int:
    from driftguard import api

    formats = _check_formats(args)
    today = _today(args)
    parity = None
    bar = None
    if args.parity:
        bar = _progress_bar()
        parity = api.parity_request(device=args.device, progress=bar, plots=args.plots, **_executor_args(args))
    elif args.plots:
        raise UsageError("--plots draws failing parity outputs: it needs --parity")
    elif args.executor != "local":
        raise UsageError("--executor runs the parity stage: it needs --parity")
    shard = None
    if args.shard is not None:
        shard = api.parse_shard(args.shard)
    try:
        report = api.check(args.config, model=args.model, strict=args.strict, today=today, root=args.root,
                           limit_overrides=_parse_limit_items(args.limit), parity=parity, base=args.base,
                           shard=shard, jobs=args.jobs, changed_only=args.changed_only,
                           require_committed_approvals=args.require_committed_approvals,
                           files=args.files or None,
                           require_base_approvals=args.require_base_approvals)
    finally:
        if parity is not None and bar is not None:
            bar.close()
    return _emit(report, formats, args.no_step_summary, args.quiet)


def cmd_report(args: argparse.Namespace) -> int:
    from driftguard import api

    formats = _check_formats(args)
    report = api.merge_reports(args.reports, commit=args.commit)
    return _emit(report, formats, args.no_step_summary, args.quiet)


def _emit(report: Any, formats: list[tuple[str, str | None]], no_step_summary: bool, quiet: bool = False) -> int:
    """Render ``report`` in every format (files first, then the job summary, then stdout); the exit code.
    ``quiet``: text without the details lines and the approve hint."""
    from driftguard import reporters
    from driftguard.reporters.style import PLAIN

    # Text written to the terminal fits it and is coloured; text written to a file is plain.
    rendered = [(path, reporters.render_check(name, report, (_style() if path is None else PLAIN).quieted(quiet)),
                 name) for name, path in formats]
    for path, text, name in rendered:
        if path is not None:
            _write(path, text, f"--format {name}")
    # GitHub Actions: the markdown report becomes the job summary (read here, never in the library).
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary and not no_step_summary:
        _append_summary(summary, reporters.render_check("markdown", report))
    for path, text, name in rendered:
        if path is None:
            _stdout(text, name)
    return EXIT_OK if report.ok else EXIT_DRIFT


def cmd_parity(args: argparse.Namespace) -> int:
    from driftguard import api

    formats = _check_formats(args)  # before the run: a bad --format costs no model run
    today = _today(args)
    bar = _progress_bar()
    try:
        report = api.check_parity(args.config, model=args.model, golden=args.golden, device=args.device,
                                  attribution=False if args.no_attribution else None, strict=args.strict,
                                  today=today, root=args.root, progress=bar, plots=args.plots,
                                  base=args.base, **_executor_args(args))
    finally:
        if bar is not None:
            bar.close()
    return _emit(report, formats, args.no_step_summary, args.quiet)


def cmd_golden_record(args: argparse.Namespace) -> int:
    from driftguard import api

    bar = _progress_bar()
    try:
        written = api.golden_record(args.config, model=args.model, golden=args.golden, device=args.device,
                                    progress=bar)
    finally:
        if bar is not None:
            bar.close()
    for path in written:
        sys.stdout.write(f"wrote {_shown(str(path))}\n")
    return EXIT_OK


def progress_wanted(stream: Any, environ: Mapping[str, str]) -> bool:
    """A progress bar only on a terminal, and never under CI (``CI`` set to anything but empty, 0 or false)."""
    isatty = getattr(stream, "isatty", None)
    under_ci = environ.get("CI", "").strip().lower() not in ("", "0", "false")
    return bool(isatty and isatty()) and not under_ci


def _progress_bar() -> Any:
    """The parity progress bar on stderr, or None where it is not wanted (``progress_wanted``)."""
    if not progress_wanted(sys.stderr, os.environ):
        return None
    from driftguard import api

    bar = api.progress_bar(sys.stderr)
    bar.note("loading the manifest, the runners and the models...")
    return bar


def _executor_args(args: argparse.Namespace) -> dict[str, Any]:
    """--executor, --workers, --shard-size, and RAY_ADDRESS for --executor ray (read here: only cli reads the
    environment)."""
    address = os.environ.get("RAY_ADDRESS", "").strip() if args.executor == "ray" else ""
    return {"executor": args.executor, "workers": args.workers, "shard_size": args.shard_size,
            "ray_address": address or None}


def _add_executor(p: argparse.ArgumentParser, what: str) -> None:
    from driftguard.api import EXECUTORS

    p.add_argument("--executor", choices=EXECUTORS, default="local",
                   help=f"{what}where the runs go: this process (local), N threads, or a Ray cluster "
                        "(RAY_ADDRESS, else a local instance); one unit per model x golden shard, same report")
    p.add_argument("--workers", type=_positive, metavar="N",
                   help="threads for --executor threads, CPUs of the local Ray instance (default: one per CPU)")
    p.add_argument("--shard-size", type=_positive, metavar="N",
                   help="golden samples per work unit, rounded up to whole batches (default: fill the workers)")


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"a whole number of at least 1, got '{text}'")
    return n


def _add_report_outputs(p: argparse.ArgumentParser, format_help: str) -> None:
    """The output options of every command that prints a check report (check, parity, report): --format, -o,
    --no-step-summary and -q, read by ``_check_formats`` and ``_emit``."""
    p.add_argument("--format", action="append", metavar="NAME[=PATH]", help=format_help)
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write what would go to stdout to FILE instead (--format NAME=PATH for several files)")
    p.add_argument("--no-step-summary", action="store_true",
                   help="do not append the markdown report to $GITHUB_STEP_SUMMARY (appended when it is set)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="text: the table and the verdict only, without the details under it and the approve hint")


def _add_parity_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("parity", help="run the model as trained and as deployed on golden inputs, compare outputs")
    p.add_argument("--config", default=MANIFEST, metavar="FILE", help=_MANIFEST_HELP)
    p.add_argument("--model", metavar="NAME", help="only this model")
    p.add_argument("--golden", metavar="PATH", help="golden inputs instead of the manifest's (.npz, .jsonl, folder)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    _add_report_outputs(p, "text (default), json, markdown, sarif, github, junit; repeatable; NAME=PATH writes "
                            "that format to a file, as check takes it")
    p.add_argument("--no-attribution", action="store_true", help="do not rerun failing models to rank causes")
    _add_executor(p, "")
    p.add_argument("--plots", metavar="DIR", help="write one picture per failing output (error histogram, "
                                                  "per-sample cosine) into DIR; needs the [plots] extra")
    p.add_argument("--strict", action="store_true", help="warnings and stale approvals fail too")
    p.add_argument("--today", metavar="YYYY-MM-DD",
                   help="judge approvals as of this date (default: $DRIFTGUARD_TODAY, else today)")
    p.add_argument("--root", metavar="DIR", help="folder every artifact and approval must lie in")
    p.add_argument("--base", metavar="REF",
                   help="the trusted git revision (a pull request's base): recordings the change added or edited "
                        "since REF are not used, the reference runs instead")
    p.set_defaults(func=cmd_parity)

    p = sub.add_parser("golden", help="golden inputs: record the reference outputs beside them")
    golden_sub = p.add_subparsers(dest="golden_command", metavar="ACTION", required=True)
    r = golden_sub.add_parser("record", help="run the reference once and store its outputs as "
                                             "<stem>.<model>.reference.npz")
    r.add_argument("--config", default=MANIFEST, metavar="FILE", help=_MANIFEST_HELP)
    r.add_argument("--model", metavar="NAME", help="only this model")
    r.add_argument("--golden", metavar="PATH", help="golden inputs instead of the manifest's")
    r.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    r.set_defaults(func=cmd_golden_record)


def cmd_schema(args: argparse.Namespace) -> int:
    from driftguard import api

    sys.stdout.write(api.schema(args.name))
    return EXIT_OK


def _date(text: str, option: str = "--expires") -> date:
    from driftguard import clock

    try:
        return clock.parse(text)
    except ValueError:
        raise UsageError(f"{option} expects YYYY-MM-DD, got '{text}'") from None


def _today(args: argparse.Namespace) -> date | None:
    """The day approvals are judged on: ``--today``, else ``$DRIFTGUARD_TODAY``, else None (the library's
    ``clock.today()``, the system date). The variable moves a whole run, subprocesses included, to another day:
    a test suite or a documented example pinned to the day its dated approvals were written for."""
    if args.today:
        return _date(args.today, "--today")
    pinned = os.environ.get("DRIFTGUARD_TODAY", "")
    return _date(pinned, "DRIFTGUARD_TODAY") if pinned.strip() else None


def cmd_approve(args: argparse.Namespace) -> int:
    from driftguard import api

    target = api.approve(args.config, args.model, args.key, args.reason, _date(args.expires),
                         approved_by=_approver(args),
                         approval_id=args.id, evidence=args.evidence, today=_today(args))
    sys.stdout.write(f"wrote {_shown(str(target))}\n")
    return EXIT_OK


def cmd_baseline(args: argparse.Namespace) -> int:
    from driftguard import api

    done = api.baseline(args.config, args.reason, _date(args.expires), approved_by=_approver(args), model=args.model,
                        name=args.name, evidence=args.evidence, strict=args.strict, today=_today(args))
    where = _shown(str(done.path))
    if not done.added:
        sys.stdout.write(f"nothing to baseline: no finding fails the check now ({where} left as it is)\n")
        return EXIT_OK
    n = len(done.added)
    sys.stdout.write(f"approved {n} failing finding{'s' if n != 1 else ''} in {where}, until {args.expires}; "
                     "review and commit it\n")
    return EXIT_OK


def _approver(args: argparse.Namespace) -> str:
    """``--by``, else ``$USER``, else ``$LOGNAME``; UsageError when none names anyone."""
    by = args.by or os.environ.get("USER") or os.environ.get("LOGNAME") or None
    if by is None or not by.strip():
        raise UsageError("--by: an approval must name who approved it; pass --by NAME ($USER and $LOGNAME "
                         "are unset)")
    return by


def cmd_init(args: argparse.Namespace) -> int:
    from pathlib import Path

    target = Path(args.dir) / "driftguard.yaml"
    if target.exists() and not (args.force or args.stdout):
        raise UsageError(f"{target} exists (use --force to overwrite)")
    from driftguard import api

    text, found = api.init_manifest(args.dir, args.model)
    for f in found:
        if f.skipped is not None:
            sys.stderr.write(f"driftguard: init: skipped {_shown(f.path)}: {_shown(f.skipped)}\n")
        elif f.choices:
            sys.stderr.write(f"driftguard: init: {_shown(f.path)}: kind {f.kind} is a guess (one of "
                             f"{', '.join(f.choices)}); check it\n")
    if args.stdout:
        _stdout(text)
    else:
        _write(str(target), text, "init")
        sys.stdout.write(f"wrote {_shown(str(target))}\n")
    return EXIT_OK


def _parse_headers(items: Sequence[str] | None) -> dict[str, str]:
    """``--header "Name: value"``, repeatable (curl's spelling)."""
    out: dict[str, str] = {}
    for item in items or ():
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"--header expects 'Name: value', got '{item}'")
        out[name.strip()] = value.strip()
    return out


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError(f"expects seconds, more than 0 and at most 600, got '{text}'")
    return value


def cmd_snapshot(args: argparse.Namespace) -> int:
    from driftguard import api

    target = api.snapshot(args.url, args.output, server=args.server, model=args.model,
                          headers=_parse_headers(args.header), timeout=args.timeout, limits=_limits(args))
    sys.stdout.write(f"wrote {_shown(str(target))}\n")
    return EXIT_OK


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) > 1024:
        raise argparse.ArgumentTypeError(f"expects a number of processes (0: one per CPU), got '{text}'")
    return int(text)


def _add_limit(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", action="append", metavar="NAME=VALUE",
                   help="raise a reader limit, e.g. --limit pickle_bytes=256M (see README, 'Limits')")


def _add_gate_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("check", help="gate: compare every model's sides, judge the drift against approvals")
    p.add_argument("files", nargs="*", metavar="FILE",
                   help="check only the models these files can affect: a file one of their artifacts is or lies "
                        "in, an approval naming them (the manifest: every model; a file no model reads: none). "
                        "The pre-commit hook passes the staged files")
    p.add_argument("--config", default=MANIFEST, metavar="FILE", help=_MANIFEST_HELP)
    p.add_argument("--model", metavar="NAME", help="check only this model")
    _add_report_outputs(p, "text (default), json, markdown, sarif, github, junit; repeatable; NAME=PATH writes "
                            "that format to a file: --format text --format sarif=driftguard.sarif --format github")
    p.add_argument("--strict", action="store_true", help="warnings and stale approvals fail too")
    p.add_argument("--base", metavar="REF",
                   help="judge the change against git revision REF: drift already there at REF is reported as "
                        "existing and does not fail; drift REF had and the change removed is listed as resolved")
    p.add_argument("--changed-only", action="store_true",
                   help="with --base: check only the models whose artifacts, approvals or manifest entry changed")
    p.add_argument("--require-committed-approvals", action="store_true",
                   help="ignore approvals whose file is not committed as it is in HEAD (written by the CI job "
                        "itself, not reviewed); the report names the commit and author that last changed each "
                        "approval")
    p.add_argument("--require-base-approvals", action="store_true",
                   help="with --base: count only the approvals already on the base revision as they are; those the "
                        "change adds or edits are ignored (the change's author cannot approve their own drift)")
    p.add_argument("--shard", metavar="I/N",
                   help="check only shard I of N of the models (a split by model name, the same in every CI job; "
                        "`driftguard report` merges the shards' JSON reports)")
    p.add_argument("--jobs", type=_jobs, default=0, metavar="N",
                   help="processes checking models in parallel (default 0: one per CPU when there are many models)")
    p.add_argument("--today", metavar="YYYY-MM-DD",
                   help="judge approvals as of this date (default: $DRIFTGUARD_TODAY, else today)")
    p.add_argument("--root", metavar="DIR",
                   help="folder every artifact and approval must lie in (default: the manifest's folder)")
    p.add_argument("--parity", action="store_true",
                   help="run the parity stage too, for models with a parity: section (one report, one exit code)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="device for --parity")
    p.add_argument("--plots", metavar="DIR", help="with --parity: one picture per failing output into DIR")
    _add_executor(p, "with --parity: ")
    _add_limit(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("report", help="render JSON reports of check in any format; the JSON reports of "
                                      "check --shard 1/N .. N/N are merged into one")
    p.add_argument("reports", nargs="+", metavar="REPORT.json", help="check --format json output")
    _add_report_outputs(p, "as for check: text (default), json, markdown, sarif, github, junit; NAME=PATH to a file")
    p.add_argument("--commit", metavar="SHA",
                   help="every report must be bound to this commit (the one the shard jobs checked out, e.g. "
                        "${{ github.sha }}): a report of another run is refused")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("schema", help="print a published JSON Schema")
    p.add_argument("name", choices=("manifest", "approvals", "report"))
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("approve", help="write an approval pinned to the current drift of a key")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("key", metavar="KEY", help="canonical key, as check names it")
    p.add_argument("--reason", required=True, help="why the difference is acceptable")
    p.add_argument("--expires", required=True, metavar="YYYY-MM-DD", help="last day the approval holds")
    p.add_argument("--by", metavar="NAME",
                   help="approver (default: $USER, else $LOGNAME; required when neither is set)")
    p.add_argument("--id", metavar="ID", help="approval id and file name (default: MODEL-KEY)")
    p.add_argument("--evidence", metavar="LINK", help="ticket, report or link backing the decision")
    p.add_argument("--config", default=MANIFEST, metavar="FILE", help=_MANIFEST_HELP)
    p.add_argument("--today", metavar="YYYY-MM-DD",
                   help="the approved_on day, also the day expiry and horizon are judged on (default: "
                        "$DRIFTGUARD_TODAY, else today)")
    p.set_defaults(func=cmd_approve)

    p = sub.add_parser("baseline", help="adopt the gate where drift exists: approve every failing finding in one "
                                        "file (approvals/baseline.yaml), each pinned to its values")
    p.add_argument("--reason", required=True, help="why the existing drift is accepted for now")
    p.add_argument("--expires", required=True, metavar="YYYY-MM-DD", help="last day the approvals hold")
    p.add_argument("--by", metavar="NAME",
                   help="approver (default: $USER, else $LOGNAME; required when neither is set)")
    p.add_argument("--model", metavar="NAME", help="only this model's findings")
    p.add_argument("--name", default="baseline", metavar="NAME",
                   help="the file, approvals/NAME.yaml (default: baseline); run again, new drift is added to it")
    p.add_argument("--evidence", metavar="LINK", help="ticket, report or link backing the decision")
    p.add_argument("--strict", action="store_true", help="failing warnings too, as check --strict fails on them")
    p.add_argument("--config", default=MANIFEST, metavar="FILE", help=_MANIFEST_HELP)
    p.add_argument("--today", metavar="YYYY-MM-DD",
                   help="the approved_on day, also the day the check is judged on (default: $DRIFTGUARD_TODAY, "
                        "else today)")
    p.set_defaults(func=cmd_baseline)

    p = sub.add_parser("init", help="discover artifacts under DIR and write a commented driftguard.yaml")
    p.add_argument("dir", nargs="?", default=".", metavar="DIR")
    p.add_argument("--model", metavar="NAME", help="model name (default: the folder's name)")
    p.add_argument("--stdout", action="store_true", help="print the manifest instead of writing it")
    p.add_argument("--force", action="store_true", help="overwrite an existing driftguard.yaml")
    p.set_defaults(func=cmd_init)


def cmd_explain(args: argparse.Namespace) -> int:
    from driftguard import api

    sys.stdout.write(api.explain(args.code))
    return EXIT_OK


def _kinds_epilog() -> str:
    """The kinds ``KIND:PATH``, ``--kind`` and the manifest's ``kind:`` take, one a line (for ``extract --help``)."""
    from driftguard import api

    lines = ["kinds (KIND:PATH, --kind, or kind: in the manifest):"]
    for kind, description in api.kinds():
        lines.append(f"  {kind:<14} {description}")
    return "\n".join(lines)


def build_parser(kinds_help: bool = True) -> argparse.ArgumentParser:
    """The argument parser; ``kinds_help=False`` leaves the kinds out of ``extract --help`` (listing them imports
    every extractor module, which only the help needs)."""
    from driftguard import __version__

    parser = argparse.ArgumentParser(
        prog="driftguard",
        description="Catch silent drift between how a model was trained and how it is served.",
    )
    parser.add_argument("--version", action="version",
                        version=f"driftguard {__version__} (distribution driftguard-ml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("extract", help="print an artifact's effective configuration",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog=_kinds_epilog() if kinds_help else None)
    p.add_argument("paths", nargs="+", metavar="PATH", help="artifact file or folder; KIND:PATH forces a kind")
    p.add_argument("--kind", help="force the extractor for every PATH")
    p.add_argument("--format", choices=("text", "json", "yaml"), default="text")
    p.add_argument("-o", "--output", metavar="FILE", help="write the output to FILE instead of stdout")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="fill a template placeholder")
    p.add_argument("--call", metavar="NAME", help="python kind: the call whose values are meant where call sites "
                                                  "disagree (SamplingParams, vllm.SamplingParams), as call: in the "
                                                  "manifest")
    p.add_argument("--line", metavar="N", type=int, help="python kind: a line of the call whose values are meant, "
                                                         "as line: in the manifest")
    _add_limit(p)
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("diff", help="compare a training-side artifact with a deployment-side one")
    p.add_argument("training", metavar="A", help="training side (KIND:PATH allowed)")
    p.add_argument("deployed", metavar="B", help="deployment side (KIND:PATH allowed)")
    p.add_argument("--context", action="append", metavar="PATH",
                   help="an artifact B's serving engine reads (KIND:PATH allowed; repeatable), e.g. "
                        "--context hf-model:MODEL_DIR for the generation_config.json `vllm serve` applies")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("-o", "--output", metavar="FILE", help="write the output to FILE instead of stdout")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="fill a template placeholder")
    _add_limit(p)
    p.set_defaults(func=cmd_diff)
    _add_gate_commands(sub)
    _add_parity_commands(sub)

    p = sub.add_parser("snapshot", help="read a running server's effective config into a snapshot file")
    p.add_argument("url", metavar="URL", help="the server's base URL, e.g. http://localhost:8000 (http or https)")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="the snapshot file to write (name it *.snapshot.json so the kind is seen)")
    p.add_argument("--server", choices=("triton", "tgi", "vllm", "llama-cpp", "sglang"),
                   help="which server runs there (default: recognised from its answers)")
    p.add_argument("--model", metavar="NAME", help="the model whose config is read (Triton: required)")
    p.add_argument("--header", action="append", metavar="'NAME: VALUE'",
                   help="a header sent with every request, e.g. an API key (repeatable); none is sent otherwise")
    p.add_argument("--timeout", type=_seconds, default=10.0, metavar="SECONDS",
                   help="seconds to connect and for each read (default 10)")
    _add_limit(p)
    p.set_defaults(func=cmd_snapshot)

    p = sub.add_parser("explain", help="print a rule's documentation (no CODE: list the rules)")
    p.add_argument("code", nargs="?", metavar="CODE", help="rule code, e.g. DG101")
    p.set_defaults(func=cmd_explain)
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (tests call this directly)."""
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(kinds_help="extract" in words and ("-h" in words or "--help" in words))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_INPUT
    func: Callable[[argparse.Namespace], int] = args.func
    outputs: list[tuple[str | None, str]] = []
    try:
        outputs = _outputs(args)
        for _, path in outputs:  # a run that dies before writing leaves nothing to be taken for its result
            _remove_output(path)
        if getattr(args, "config", None) == MANIFEST:
            args.config = find_manifest()
            if not os.path.exists(args.config):
                raise UsageError(f"no {MANIFEST} here or in any parent folder; pass --config FILE, or write one "
                                 "with `driftguard init`")
        return func(args)
    except DriftguardError as exc:
        sys.stdout.flush()
        sys.stderr.write(f"driftguard: error: {_one_line(_error_text(exc))}\n")
        _leave_failed(outputs, EXIT_INPUT, _error_text(exc))
        return EXIT_INPUT
    except KeyboardInterrupt:
        sys.stderr.write("driftguard: interrupted\n")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        log = _crash_log(exc, argv)
        where = f"; details in {_shown(log)}" if log else ""
        sys.stderr.write(
            f"driftguard: internal error (this is a bug, please report it{where}): {type(exc).__name__}: "
            f"{_one_line(str(exc))}\n"
        )
        _leave_failed(outputs, EXIT_BUG, f"internal error: {type(exc).__name__}: {exc}")
        return EXIT_BUG


def _error_text(exc: DriftguardError) -> str:
    """The error as the user fixes it: a missing extra under pre-commit (which sets ``PRE_COMMIT=1`` for its
    hooks) names the hook's ``additional_dependencies``, not ``pip install``."""
    from driftguard.errors import MissingExtraError

    if isinstance(exc, MissingExtraError) and os.environ.get("PRE_COMMIT", "").strip() not in ("", "0"):
        return exc.for_pre_commit()
    return str(exc)


#: The manifest's default name; ``check`` and friends look for it in the working folder, then its parents.
MANIFEST = "driftguard.yaml"


def find_manifest(start: str | None = None) -> str:
    """``driftguard.yaml`` in ``start`` (default: the working folder) or the nearest parent folder that has one,
    as git finds ``.git``; the plain name when none has (the error then names it)."""
    from pathlib import Path

    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / MANIFEST
        if candidate.is_file():
            return MANIFEST if folder == here else os.path.relpath(candidate)  # reports stay relative
    return MANIFEST


def _crash_log(exc: BaseException, argv: Sequence[str] | None) -> str | None:
    """Write the traceback, the command line and the versions to a log for the bug report (as pre-commit does):
    ``$DRIFTGUARD_LOG`` if set, else ``driftguard-crash.log`` in the user's cache folder. None when unwritable."""
    import platform
    import traceback
    from pathlib import Path

    from driftguard import __version__

    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    path = Path(os.environ.get("DRIFTGUARD_LOG") or Path(base) / "driftguard" / "driftguard-crash.log")
    text = (f"driftguard {__version__}, Python {platform.python_version()} on {platform.platform()}\n"
            f"command: driftguard {' '.join(argv if argv is not None else sys.argv[1:])}\n\n"
            + "".join(traceback.format_exception(exc)))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError:
        return None
    return str(path)


def _remove_output(path: str) -> None:
    from driftguard import api

    api.remove_output(path)


def _shown(text: str) -> str:
    """A path or name from the input, escaped for the terminal."""
    from driftguard.reporters.escape import for_terminal

    return for_terminal(text)


def _one_line(text: str) -> str:
    """An error message as one line for stderr. Messages name files and quote their content (a refused pickle
    global, a bad value), so controls are shown escaped (``\\n``, ``\\x1b``) like in every report."""
    from driftguard.reporters.escape import message_for_terminal

    return message_for_terminal(text.strip())


def main() -> None:
    """Console-script entry point."""
    # pydantic looks for its own plug-ins by scanning every installed distribution (~40 ms of a ~0.5 s
    # check); the CLI uses none. A user who relies on one can still set the variable themselves.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    # A check builds many small objects and few cycles: with the default thresholds the collector walks the
    # manifest's tens of thousands of entries again and again (a manifest of 5,000 models loaded in 0.84 s, in
    # 0.49 s with these; checking 500 of its models 1.53 s -> 1.25 s). The same setting mypy uses.
    gc.set_threshold(200_000, 30, 30)
    sys.exit(run())
