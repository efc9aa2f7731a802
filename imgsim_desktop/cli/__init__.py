# SPDX-License-Identifier: Apache-2.0
"""The ``imgsim`` command: index, query, list, report and audit a case headless, over the core API.

Exit status: 0 success, 1 failure (one line on stderr, no traceback for expected errors),
2 usage error. Progress bars (tqdm) go to stderr, only when stderr is a terminal.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from imgsim_desktop import __version__
from imgsim_desktop.core import ImgsimError, ProgressEvent, open_case
from imgsim_desktop.core.errors import AuditLogError, ReportError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class _ProgressBars:
    """One tqdm bar per stage of long work, drawn only on a terminal."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._bar: Any = None
        self._stage = ""

    def __call__(self, event: ProgressEvent) -> None:
        if not self._enabled or event.stage != "embed":
            return
        if self._bar is None or event.stage != self._stage:
            from tqdm import tqdm

            self.close()
            self._stage = event.stage
            self._bar = tqdm(total=event.total, desc="embedding", unit="img", file=sys.stderr)
        self._bar.update(event.done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _emit(obj: dict) -> None:
    text = json.dumps(obj, ensure_ascii=False)
    # a folder name that is not valid UTF-8 carries lone surrogates: print them escaped
    sys.stdout.write(text.encode("utf-8", "backslashreplace").decode("utf-8") + "\n")
    sys.stdout.flush()


def cmd_index(args: argparse.Namespace) -> int:
    bars = _ProgressBars(sys.stderr.isatty())
    with open_case(args.case) as case:
        try:
            summary = case.index(progress=bars)
        finally:
            bars.close()
    if args.json:
        _emit(summary.to_json())
    else:
        print(
            f"{summary.case}: {summary.indexed} indexed, {summary.unchanged} unchanged, "
            f"{summary.removed} removed, {len(summary.failed)} failed in {summary.seconds:.1f}s"
        )
        for scene, count in summary.scenes.items():
            print(f"  {scene:14s} {count}")
        for failure in summary.failed:
            print(f"  failed: {failure['path']}: {failure['error']}")
    return EXIT_OK


def cmd_query(args: argparse.Namespace) -> int:
    if args.k < 1:
        raise _UsageError("-k must be at least 1")
    with open_case(args.case) as case:
        for image in args.images:
            result = case.query(image, k=args.k, all_scenes=args.all_scenes)
            if args.json:
                _emit(result.to_json())
                continue
            print(f"query {result.query_path}  sha256 {result.query_sha256}")
            print(
                f"  scene {result.scene} ({result.scene_confidence:.2f}); "
                f"searched {', '.join(result.scenes_searched)}"
            )
            for r in result.results:
                print(f"  {r.rank:4d}  {r.score:.4f}  {r.scene:13s} {r.path}")
    return EXIT_OK


def cmd_files(args: argparse.Namespace) -> int:
    with open_case(args.case) as case:
        for record in case.files():
            row = {
                "path": record.path,
                "sha256": record.sha256,
                "size": record.size,
                "scene": record.scene,
                "scene_confidence": None
                if record.scene_confidence is None
                else round(record.scene_confidence, 4),
                "status": record.status,
                "error": record.error,
            }
            if args.json:
                _emit(row)
            else:
                print(
                    f"{record.status:9s} {record.scene or '-':13s} "
                    f"{record.sha256 or '-':64s} {record.path}"
                    + (f"  ({record.error})" if record.error else "")
                )
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from imgsim_desktop.core.report import (
        ReportOptions,
        check_export,
        export_report,
        format_for_path,
    )

    if args.k < 1:
        raise _UsageError("-k must be at least 1")
    try:
        format_for_path(args.output)
    except ReportError as exc:
        raise _UsageError(str(exc)) from exc
    options = ReportOptions(
        examiner=args.examiner,
        case_number=args.case_number,
        notes=args.notes,
        marked_only=args.marked_only,
    )
    with open_case(args.case) as case:
        check_export(case, args.output, args.force)  # refuse before any slow work
        result = case.query(args.image, k=args.k, all_scenes=args.all_scenes)
        written = export_report(case, result, options, args.output, force=args.force)
    print(
        f"report written: {written.path} ({written.format}, {written.matches} matches)\n"
        f"sha256 {written.sha256}  (in {written.sidecar})"
    )
    if options.marked_only and not written.matches:
        print(
            f"imgsim: warning: no match among the top {args.k} is marked 'include'; "
            "the report lists none",
            file=sys.stderr,
        )
    if written.changed:
        print(
            f"imgsim: warning: {written.changed} reported file(s) changed since indexing "
            "or could not be read; the report flags them",
            file=sys.stderr,
        )
    return EXIT_OK


def cmd_audit(args: argparse.Namespace) -> int:
    with open_case(args.case, log_open=False) as case:
        if not case.audit.exists:
            raise AuditLogError(f"no audit log for case {case.root} (imgsim never opened it)")
        for entry in case.audit.entries():
            if args.json:
                sys.stdout.write(entry.raw + "\n")
                continue
            data = entry.data
            details = ", ".join(
                f"{k}={_brief(v)}"
                for k, v in data.items()
                if k not in ("ts", "user", "event", "case", "prev")
            )
            print(f"{data.get('ts', '?')}  {data.get('user', '?'):10s} {entry.event:15s} {details}")
        problems = case.audit.verify()
    if problems:
        raise AuditLogError(f"audit log integrity: {problems[0]} ({len(problems)} problem(s))")
    return EXIT_OK


def _brief(value: object) -> str:
    if isinstance(value, list) and len(value) > 3:
        return f"[{len(value)} items]"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="imgsim",
        description="Offline image similarity search over a case folder. "
        "The case folder is only read; everything imgsim makes lives in its data folder "
        "(IMGSIM_HOME overrides it).",
    )
    parser.add_argument("--version", action="version", version=f"imgsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("index", help="index new and changed images of a case folder")
    p.add_argument("case", metavar="CASE_DIR")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(run=cmd_index)

    p = sub.add_parser("query", help="rank the case's images by similarity to each query image")
    p.add_argument("case", metavar="CASE_DIR")
    p.add_argument("images", metavar="IMAGE", nargs="+")
    p.add_argument("-k", type=int, default=20, help="number of results per query (default 20)")
    p.add_argument("--all-scenes", action="store_true", help="search every scene's index")
    p.add_argument("--json", action="store_true", help="one JSON object per line per query")
    p.set_defaults(run=cmd_query)

    p = sub.add_parser("files", help="list the case's catalogue")
    p.add_argument("case", metavar="CASE_DIR")
    p.add_argument("--json", action="store_true", help="one JSON object per line per file")
    p.set_defaults(run=cmd_files)

    p = sub.add_parser(
        "report",
        help="query and write an evidence report (.html, .pdf, .csv or .json by OUT's extension)",
    )
    p.add_argument("case", metavar="CASE_DIR")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument(
        "-o", "--output", metavar="OUT", required=True, help="report file (not in the case)"
    )
    p.add_argument("-k", type=int, default=20, help="number of matches (default 20)")
    p.add_argument("--examiner", default="", metavar="NAME", help="examiner's name")
    p.add_argument("--case-number", default="", metavar="ID", help="case or exhibit number")
    p.add_argument("--notes", default="", metavar="TEXT", help="notes printed in the report")
    p.add_argument("--marked-only", action="store_true", help="only the matches marked 'include'")
    p.add_argument("--all-scenes", action="store_true", help="search every scene's index")
    p.add_argument("--force", action="store_true", help="replace an existing report")
    p.set_defaults(run=cmd_report)

    p = sub.add_parser("audit", help="print the case's audit log and check its hash chain")
    p.add_argument("case", metavar="CASE_DIR")
    p.add_argument("--json", action="store_true", help="the log's JSON lines as stored")
    p.set_defaults(run=cmd_audit)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        run: Callable[[argparse.Namespace], int] = args.run
        return run(args)
    except _UsageError as exc:
        print(f"imgsim: usage error: {exc}", file=sys.stderr)
        print(parser.format_usage().rstrip(), file=sys.stderr)
        return EXIT_USAGE
    except ImgsimError as exc:
        print(f"imgsim: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("imgsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_FAILURE


if __name__ == "__main__":
    raise SystemExit(main())
