# SPDX-License-Identifier: Apache-2.0
"""``imgsim find`` (images by an object word) and ``imgsim searches`` (a case's saved searches)."""

from __future__ import annotations

import argparse

from imgsim_desktop.cli.common import EXIT_OK, UsageError, emit, warn
from imgsim_desktop.core import open_case
from imgsim_desktop.core.pipeline.results import QueryResult
from imgsim_desktop.core.pipeline.words.find import FindResult

#: Said with every word search, so no one takes it for a detector.
CLASSIFIER_NOTE = (
    "object words come from a 1000-class ImageNet classifier, not an object detector: "
    "small objects and things it has no class for are missed"
)


def print_find(result: FindResult, as_json: bool) -> None:
    if result.images_unlabelled:
        warn(
            f"{result.images_unlabelled} indexed image(s) carry no object labels and were not "
            "searched (indexed by an older version; they are labelled when re-embedded)"
        )
    if as_json:
        emit(result.to_json())
        return
    print(f"word {result.word!r}: labels {'; '.join(result.labels)}")
    if result.scenes:
        print(f"  scenes {', '.join(result.scenes)}")
    if result.seeds:
        kinds = "labels and scenes" if result.scene_agreement else "labels"
        print(
            f"  ordered also by likeness ({kinds}) to its surest images: {', '.join(result.seeds)}"
        )
    if result.scene_agreement:
        print(
            f"  their scenes agree {result.scene_agreement:.2f}, known for "
            f"{result.scene_known:.0%} of the images (the scene counts as much as both)"
        )
    rows = zip(result.results, result.matched, result.likeness, result.scene_likeness, strict=True)
    for record, matched, likeness, scene_likeness in rows:
        labels = ", ".join(f"{m['label']} {m['probability']:.2f}" for m in matched)
        known = f"  (known: {record.known})" if record.known else ""
        scene = ""
        if result.scene_agreement:
            scene = " scene –" if scene_likeness is None else f" scene {scene_likeness:.2f}"
        print(
            f"  {record.rank:4d}  {record.score:.4f}  like {likeness:.2f}{scene}  "
            f"{record.scene:13s} {record.path}  [{labels}]{known}"
        )
    print(f"  ({CLASSIFIER_NOTE})")


def cmd_find(args: argparse.Namespace) -> int:
    if args.k < 1:
        raise UsageError("-k must be at least 1")
    with open_case(args.case) as case:
        result = case.find(args.word, k=args.k, scenes=args.scenes or None)
        print_find(result, args.json)
        if args.save:
            case.save_search(args.save, word=args.word, scenes=args.scenes, options={"k": args.k})
    return EXIT_OK


def cmd_searches(args: argparse.Namespace) -> int:
    from imgsim_desktop.cli.case_commands import print_result

    with open_case(args.case, log_open=bool(args.run_name)) as case:
        if args.delete_name:
            case.searches.remove(args.delete_name)
            case.audit.append("search_removed", name=args.delete_name)
            return EXIT_OK
        if args.run_name:
            result = case.run_saved_search(args.run_name)
            if isinstance(result, QueryResult):
                print_result(result, args.json)
            else:
                print_find(result, args.json)
            return EXIT_OK
        for saved in case.searches.list():
            if args.json:
                emit(saved.to_json())
                continue
            query = saved.query
            what = (
                f"word {query['word']!r}"
                + (f" in {', '.join(query['scenes'])}" if query.get("scenes") else "")
                if saved.kind.value == "word"
                else " + ".join(query["images"])
                + (f" region {','.join(map(str, query['region']))}" if query.get("region") else "")
                + (f" combine {query['combine']}" if query.get("combine") else "")
                + "".join(f" not {n}" for n in query.get("negatives", []))
            )
            print(f"{saved.name:20s} {saved.saved_utc}  {what}")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``find`` and ``searches`` to the ``imgsim`` parser."""
    p = sub.add_parser(
        "find",
        help="rank the case's images by an object word (ImageNet labels; a classifier, not a "
        "detector)",
    )
    p.add_argument("case", metavar="CASE_DIR")
    p.add_argument(
        "word", metavar="WORD", help="e.g. gun, computer, bed, car, or an ImageNet label"
    )
    p.add_argument("-k", type=int, default=20, help="number of results (default 20)")
    p.add_argument(
        "--scene", dest="scenes", action="append", default=[], metavar="SCENE",
        help="only images of this scene (repeatable)",
    )  # fmt: skip
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.add_argument("--save", metavar="NAME", help="save this word search in the case as NAME")
    p.set_defaults(run=cmd_find)

    p = sub.add_parser("searches", help="list, run or delete a case's saved searches")
    p.add_argument("case", metavar="CASE_DIR")
    p.add_argument("--run", dest="run_name", metavar="NAME", help="run the saved search NAME again")
    p.add_argument(
        "--delete", dest="delete_name", metavar="NAME", help="forget the saved search NAME"
    )
    p.add_argument("--json", action="store_true", help="JSON lines")
    p.set_defaults(run=cmd_searches)
