# SPDX-License-Identifier: Apache-2.0
"""The ``imgsim`` command: index, query and list a case headless, over the core API.

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
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
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
