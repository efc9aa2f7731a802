# SPDX-License-Identifier: Apache-2.0
"""VICS 2.0 and CASE/UCO exports, read back independently of the code that wrote them: plain
``json`` and ``hashlib`` for VICS, ``case_validate`` (case-utils) and rdflib for CASE/UCO."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from imgsim_desktop.core import open_case
from imgsim_desktop.core.report import ReportOptions, export_report, format_for_path
from imgsim_desktop.core.store.known.hashsets import import_hash_set
from tests.core.fakes import FakeEmbedder, fake_head

N_IMAGES = 13
K = 6
OPTIONS = ReportOptions(examiner="Zoë Examiner", case_number="C-42/7", notes="seized phone")
VICS_BOOLEANS = {
    "IsDistributed",
    "VictimIdentified",
    "OffenderIdentified",
    "IsPrecategorized",
    "IsSuspected",
    "Unallocated",
    "Deleted",
}


def _hashes(path: Path) -> dict[str, str]:
    data = path.read_bytes()
    return {a: hashlib.new(a, data).hexdigest() for a in ("md5", "sha1", "sha256")}


@pytest.fixture
def exported(fixture_case: Path, tmp_path: Path):
    """The fixture case queried (the query is a case file, so also the first match), with one
    match marked, one noted and two files in a hash set; exported as VICS and as CASE/UCO."""
    listing = tmp_path / "known.txt"
    listing.write_text(
        "".join(
            _hashes(fixture_case / n)["sha1"] + "\n" for n in ("scene0_b.png", "sub/scene3_b.png")
        )
    )
    import_hash_set(listing, "earlier-case")
    out = tmp_path / "out"
    out.mkdir()
    with open_case(fixture_case, embedder=FakeEmbedder(), head=fake_head()) as case:
        case.index()
        query = fixture_case / "scene0_a.jpg"
        result = case.query(query, k=K, all_scenes=True)
        second = result.results[1]
        case.set_mark(second.path, second.sha256, "include")
        case.set_note(second.path, second.sha256, "same = room, + lamp")
        export_report(case, result, OPTIONS, out / "r.vics.json")
        export_report(case, result, ReportOptions(vics_profile="UK"), out / "uk.vics.json")
        export_report(case, result, OPTIONS, out / "r.jsonld")
        yield fixture_case, query, result, out


def test_export_formats_by_extension() -> None:
    assert format_for_path("a/r.vics.json") == "vics"
    assert format_for_path("R.VICS.JSON") == "vics"
    assert format_for_path("r.json") == "json"
    assert format_for_path("r.jsonld") == "case"


def test_vics_export_read_back_with_plain_json(exported) -> None:
    case, query, result, out = exported
    raw = (out / "r.vics.json").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "VICS is UTF-8 without a byte-order mark"
    doc = json.loads(raw.decode("utf-8"))
    assert doc["@odata.context"] == (
        "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases"
    )
    uk = json.loads((out / "uk.vics.json").read_text(encoding="utf-8"))
    assert "/2.0.xml/UK/$metadata#Cases" in uk["@odata.context"]
    (vcase,) = doc["value"]
    assert vcase["CaseNumber"] == "C-42/7" and vcase["ContactName"] == "Zoë Examiner"
    assert vcase["SourceApplicationName"] == "imgsim"
    assert isinstance(vcase["SourceApplicationVersion"], str) and vcase["CaseID"]

    media = vcase["Media"]
    ids = [m["MediaID"] for m in media]
    assert all(type(i) is int for i in ids) and len(set(ids)) == len(ids)
    paths_seen: set[str] = set()
    for m in media:
        files = m["MediaFiles"]
        assert files, "every Media names its file"
        for f in files:
            path = Path(f["FilePath"])
            assert path.name == f["FileName"] and f["SourceID"] == str(case)
            digests = _hashes(path)
            assert m["MD5"].lower() == digests["md5"] and m["SHA1"].lower() == digests["sha1"]
            assert {"HashName": "SHA256", "HashValue": digests["sha256"].upper()} in m[
                "AlternativeHashes"
            ]
            assert m["MediaSize"] == path.stat().st_size
            paths_seen.add(str(path))
        assert m["MimeType"] in ("image/jpeg", "image/png")
        assert "Category" not in m, "no Category unless the examiner set one"
        for key, value in m.items():
            if key in VICS_BOOLEANS:
                assert type(value) is bool, f"{key} is {value!r}, not a JSON boolean"
            assert value not in ("true", "false", "True", "False"), f"{key} is a text boolean"
        for f in files:
            for key, value in f.items():
                if key in VICS_BOOLEANS:
                    assert type(value) is bool, f"{key} is {value!r}, not a JSON boolean"
    # the query and every match; the query is also the first match: one Media, one file
    assert paths_seen == {str(query)} | {r.absolute_path for r in result.results}
    assert len(media) == len(paths_seen) == K

    def meta(m: dict) -> dict[str, str]:
        return {e["PropertyName"]: e["PropertyValue"] for e in m.get("MediaMetadata", [])}

    by_path = {m["MediaFiles"][0]["FilePath"]: m for m in media}
    for r in result.results:
        found = meta(by_path[r.absolute_path])
        assert found["ImgSim.Rank"] == str(r.rank)
        assert float(found["ImgSim.Score"]) == pytest.approx(r.score, abs=1e-6)
        assert found["ImgSim.Query"] == result.query_sha256
    assert meta(by_path[str(query)])["ImgSim.Role"] == "query, match"
    second = by_path[result.results[1].absolute_path]
    assert second["Comments"] == "same = room, + lamp"
    assert second["Tags"] == "imgsim:include"
    known = {p for p, m in by_path.items() if meta(m).get("ImgSim.Known")}
    expected = {str(case / "scene0_b.png"), str(case / "sub/scene3_b.png")}
    assert known == expected & set(by_path)
    assert all(meta(by_path[p])["ImgSim.Known"] == "earlier-case" for p in known)


def test_case_uco_export_carries_files_tool_action_and_relationships(exported) -> None:
    rdflib = pytest.importorskip("rdflib", reason="rdflib comes with case-utils (test extra)")
    _case, query, result, out = exported
    graph = rdflib.Graph().parse(out / "r.jsonld", format="json-ld")
    obs = rdflib.Namespace("https://ontology.unifiedcyberontology.org/uco/observable/")
    core = rdflib.Namespace("https://ontology.unifiedcyberontology.org/uco/core/")
    types = rdflib.Namespace("https://ontology.unifiedcyberontology.org/uco/types/")
    tool = rdflib.Namespace("https://ontology.unifiedcyberontology.org/uco/tool/")
    inv = rdflib.Namespace("https://ontology.caseontology.org/case/investigation/")
    act = rdflib.Namespace("https://ontology.unifiedcyberontology.org/uco/action/")
    cfg = rdflib.Namespace("https://ontology.unifiedcyberontology.org/uco/configuration/")
    rdf = rdflib.RDF

    hashes = {
        (str(graph.value(h, types.hashMethod)), str(graph.value(h, types.hashValue)).lower())
        for h in graph.subjects(rdf.type, types.Hash)
    }
    for path in [query] + [Path(r.absolute_path) for r in result.results]:
        digests = _hashes(path)
        assert ("SHA256", digests["sha256"]) in hashes and ("MD5", digests["md5"]) in hashes
    files = set(graph.subjects(rdf.type, obs.File))
    assert len(files) == K  # the query is the first match: one File
    names = {str(graph.value(f, obs.fileName)) for f in graph.subjects(rdf.type, obs.FileFacet)}
    assert query.name in names

    (action,) = graph.subjects(rdf.type, inv.InvestigativeAction)
    query_file = graph.value(action, act.object)
    assert query_file in files
    assert {str(graph.value(h, types.hashValue)).lower() for f in graph.objects(query_file, core.hasFacet)
            for h in graph.objects(f, obs.hash)} >= {_hashes(query)["sha256"]}  # fmt: skip
    instrument = graph.value(action, act.instrument)
    assert (instrument, rdf.type, tool.ConfiguredTool) in graph
    assert str(graph.value(graph.value(instrument, cfg.isConfigurationOf), core.name)) == "imgsim"
    entries = {
        str(graph.value(e, cfg.itemName)): graph.value(e, cfg.itemValue)
        for e in graph.objects(
            graph.value(instrument, cfg.usesConfiguration), cfg.configurationEntry
        )
    }
    assert str(entries["k"]) == str(K) and str(entries["all_scenes"]) == "true"
    assert str(entries["model"]) == "fake" and str(entries["hide_known"]) == "false"
    weights = graph.value(
        next(e for e in graph.objects(graph.value(instrument, cfg.usesConfiguration),
             cfg.configurationEntry) if str(graph.value(e, cfg.itemName)) == "model_weights"),
        cfg.itemObject,
    )  # fmt: skip
    assert weights is not None and "0" * 64 in {
        str(graph.value(h, types.hashValue))
        for f in graph.objects(weights, core.hasFacet)
        for h in graph.objects(f, obs.hash)
    }
    performer = graph.value(action, act.performer)
    assert str(graph.value(performer, core.name)) == "Zoë Examiner"

    rels = list(graph.subjects(rdf.type, obs.ObservableRelationship))
    assert len(rels) == K
    assert {str(graph.value(r, core.kindOfRelationship)) for r in rels} == {"Visually_Similar_To"}
    assert all(graph.value(r, core.isDirectional).toPython() is True for r in rels)
    rank = rdflib.URIRef("urn:imgsim:rank")
    ranks = sorted(int(o) for r in rels for f in graph.objects(r, core.hasFacet)
                   for o in graph.objects(f, rank))  # fmt: skip
    assert ranks == list(range(1, K + 1))


def _case_validate() -> str:
    exe = Path(sys.executable).with_name("case_validate")
    found = str(exe) if exe.exists() else shutil.which("case_validate")
    if not found:
        pytest.skip("case_validate is not installed (pip install '.[test]' brings case-utils)")
    return found


def test_case_uco_export_passes_case_validate(exported) -> None:
    exe = _case_validate()
    _case, _query, _result, out = exported
    done = subprocess.run([exe, str(out / "r.jsonld")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Conforms: True" in done.stdout
