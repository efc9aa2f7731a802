# SPDX-License-Identifier: Apache-2.0
"""``imgsim index``, ``query``, ``files`` and ``audit``: one case at a time, over the core API."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from itertools import islice

from imgsim_desktop.cli.cluster_options import add_cluster_arguments, cluster_options
from imgsim_desktop.cli.common import (
    EXIT_OK,
    ProgressBars,
    UsageError,
    add_near_copy_argument,
    brief,
    emit,
    warn,
)
from imgsim_desktop.cli.composite_options import add_composite_arguments, query_specs
from imgsim_desktop.cli.model_check import LoadCheckedEmbedder
from imgsim_desktop.core import open_case
from imgsim_desktop.core.errors import AuditLogError, ImgsimError, NotIndexedError
from imgsim_desktop.core.pipeline.known import known_for_records
from imgsim_desktop.core.pipeline.results import QueryResult
from imgsim_desktop.core.pipeline.richer.composite import QuerySpec
from imgsim_desktop.core.store.records import FileRecord

#: Files looked up in the hash sets at a time by ``imgsim files``.
FILES_BATCH = 5000


def cmd_index(args: argparse.Namespace) -> int:
    bars = ProgressBars(sys.stderr.isatty())
    cluster = cluster_options(args)
    # In this process, a model that cannot load is one error, not a failure of every image.
    embedder = None if cluster is not None else LoadCheckedEmbedder()
    with open_case(args.case, embedder=embedder) as case:
        try:
            summary = case.index(
                progress=bars,
                allow_removal=args.allow_removal,
                new_case=args.new_case,
                cluster=cluster,
            )
        finally:
            bars.close()
    if embedder is not None and embedder.load_error is not None:
        raise embedder.load_error
    if args.json:
        emit(summary.to_json())
    else:
        print(
            f"{summary.case}: {summary.indexed} indexed, {summary.unchanged} unchanged, "
            f"{summary.removed} removed, {summary.missing} missing, "
            f"{len(summary.failed)} failed in {summary.seconds:.1f}s"
        )
        for scene, count in summary.scenes.items():
            print(f"  {scene:14s} {count}")
        for failure in summary.failed:
            print(f"  failed: {failure['path']}: {failure['error']}")
    return EXIT_OK


def print_result(result: QueryResult, as_json: bool) -> None:
    if result.vectors_pending:
        warn(
            f"{result.vectors_pending} image(s) of the case are still to be re-embedded "
            "with the current model and were not searched (run: imgsim index)"
        )
    if as_json:
        emit(result.to_json())
        return
    print(f"query {result.query_path}  sha256 {result.query_sha256}")
    for example in result.examples[1:] if result.examples else []:
        print(f"  {example['role']:8s} {example['path']}")
    if result.settings.region:
        print(f"  region {','.join(map(str, result.settings.region))}")
    print(
        f"  scene {result.scene} ({result.scene_confidence:.2f}); "
        f"searched {', '.join(result.scenes_searched)}"
    )
    for r in result.results:
        known = f"  (known: {r.known})" if r.known else ""
        copy = f"  near copy (PDQ {r.pdq_distance})" if r.near_copy else ""
        print(f"  {r.rank:4d}  {r.score:.4f}  {r.scene:13s} {r.path}{copy}{known}")


def cmd_query(args: argparse.Namespace) -> int:
    if args.k < 1:
        raise UsageError("-k must be at least 1")
    specs = query_specs(args)
    if args.save and len(specs) != 1:
        raise UsageError("--save needs one query: one IMAGE, or several with --combine")
    options = {
        "k": args.k,
        "all_scenes": args.all_scenes,
        "hide_known": args.hide_known,
        "near_copy_threshold": args.near_copy_threshold,
    }
    with open_case(args.case) as case:
        for image, spec in zip(args.images, specs, strict=False):  # one spec with --combine
            if spec is None:  # a plain image: the query path as it always was
                result = case.query(image, **options)
            else:
                result = case.query_spec(spec, **options, saved_search=args.save)
            print_result(result, args.json)
        if args.save:
            spec = specs[0] or QuerySpec((args.images[0],))
            case.save_search(args.save, images=spec, options=options)
    return EXIT_OK


def _batches(records: Iterator[FileRecord]) -> Iterator[tuple[FileRecord, str | None]]:
    """Each record with the hash sets that know it, looked up a batch at a time."""
    while batch := list(islice(records, FILES_BATCH)):
        known = known_for_records(batch)
        for record in batch:
            yield record, known.get(record.id)


def cmd_files(args: argparse.Namespace) -> int:
    with open_case(args.case) as case:
        for record, known in _batches(case.files()):
            row = {
                "path": record.path,
                "sha256": record.sha256,
                "size": record.size,
                "scene": record.scene,
                "scene_confidence": None
                if record.scene_confidence is None
                else round(record.scene_confidence, 4),
                "status": record.shown_status,
                "error": record.error,
                "known": known,
            }
            if args.json:
                emit(row)
            else:
                print(
                    f"{record.shown_status:9s} {record.scene or '-':13s} "
                    f"{record.sha256 or '-':64s} {record.path}"
                    + (f"  ({record.error})" if record.error else "")
                    + (f"  (known: {known})" if known else "")
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
                f"{k}={brief(v)}"
                for k, v in data.items()
                if k not in ("ts", "user", "event", "case", "prev")
            )
            print(f"{data.get('ts', '?')}  {data.get('user', '?'):10s} {entry.event:15s} {details}")
        problems = case.audit.verify()
    if problems:
        raise AuditLogError(f"audit log integrity: {problems[0]} ({len(problems)} problem(s))")
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    with open_case(args.case, log_open=False) as case:
        if not case.is_indexed:
            raise NotIndexedError(f"case {case.root} has not been indexed yet (run: imgsim index)")
        problems = case.verify()
    for part, found in problems.items():
        if args.json:
            emit({"part": part, "ok": not found, "problems": found})
        else:
            print(f"{part}: " + ("ok" if not found else "; ".join(found)))
    if any(problems.values()):
        raise ImgsimError("the case's data is damaged (see above)")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add the one-case commands to the ``imgsim`` parser."""
    p = sub.add_parser("index", help="index new and changed images of a case folder")
    p.add_argument("case", metavar="CASE_DIR")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.add_argument(
        "--allow-removal",
        action="store_true",
        help="forget the files that are gone even when the folder looks unmounted",
    )
    p.add_argument(
        "--new-case",
        action="store_true",
        help="index as a new case even if the folder holds a known case's moved evidence",
    )
    add_cluster_arguments(p)
    p.set_defaults(run=cmd_index)

    p = sub.add_parser("query", help="rank the case's images by similarity to each query image")
    p.add_argument("case", metavar="CASE_DIR")
    p.add_argument("images", metavar="IMAGE", nargs="+")
    p.add_argument("-k", type=int, default=20, help="number of results per query (default 20)")
    p.add_argument("--all-scenes", action="store_true", help="search every scene's index")
    p.add_argument("--json", action="store_true", help="one JSON object per line per query")
    p.add_argument(
        "--hide-known",
        action="store_true",
        help="leave out the files a known-file hash set holds (see: imgsim hashset)",
    )
    add_near_copy_argument(p)
    add_composite_arguments(p)
    p.set_defaults(run=cmd_query)

    p = sub.add_parser("files", help="list the case's catalogue")
    p.add_argument("case", metavar="CASE_DIR")
    p.add_argument("--json", action="store_true", help="one JSON object per line per file")
    p.set_defaults(run=cmd_files)

    p = sub.add_parser(
        "verify", help="check the catalogue, every index file (full SHA-256) and the audit log"
    )
    p.add_argument("case", metavar="CASE_DIR")
    p.add_argument("--json", action="store_true", help="one JSON object per line per part")
    p.set_defaults(run=cmd_verify)

    p = sub.add_parser("audit", help="print the case's audit log and check its hash chain")
    p.add_argument("case", metavar="CASE_DIR")
    p.add_argument("--json", action="store_true", help="the log's JSON lines as stored")
    p.set_defaults(run=cmd_audit)
