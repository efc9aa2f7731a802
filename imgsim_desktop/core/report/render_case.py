# SPDX-License-Identifier: Apache-2.0
"""The CASE/UCO export: the report as a JSON-LD graph in the Cyber-investigation Analysis
Standard Expression (CASE 1.x, over the Unified Cyber Ontology).

What the graph holds:

- each file (the query and every match, once per path) as a ``uco-observable:File`` with a
  ``FileFacet`` (name, path, extension, size, modification time) and a ``ContentDataFacet``
  (size, MIME type, and the SHA-256, SHA-1 and MD5 of the bytes read at export time as
  ``uco-types:Hash`` nodes); files in a known-file hash set carry a ``known: NAME`` tag;
- imgsim as a ``uco-tool:Tool`` (name, version), and the query's settings as the
  ``uco-configuration:Configuration`` of a ``uco-tool:ConfiguredTool`` over it: model, embedder,
  scene head, k, scenes, coverage, rotations, hash sets ..., with the model weights as a
  ``uco-observable:ContentData`` carrying their SHA-256;
- the query as a ``case-investigation:InvestigativeAction``: the configured tool is its
  instrument, the query file its object, the examiner (a ``uco-identity:Identity``) its
  performer, and the matches and relationships its results;
- each match as a ``uco-observable:ObservableRelationship`` from the matched file to the query
  file, of kind ``Visually_Similar_To``, whose ``imgsim:VisualSimilarityFacet`` (declared in the
  graph as a subclass of ``uco-core:Facet``) carries the score, rank, scene and integrity; the
  examiner's mark is a tag and the note the description;
- all of it gathered in a ``case-investigation:Investigation`` named after the case number.

Identifiers are UUIDs derived from the report (case, creation time, query hash), so the same
report data always gives the same graph.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from PIL import Image

from imgsim_desktop.core.report.evidence import FileEvidence
from imgsim_desktop.core.report.model import MatchEntry, ReportData

CONTEXT = {
    "case-investigation": "https://ontology.caseontology.org/case/investigation/",
    "imgsim": "urn:imgsim:",
    "kb": "urn:uuid:",
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
    "uco-configuration": "https://ontology.unifiedcyberontology.org/uco/configuration/",
    "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
    "uco-identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
    "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
    "uco-tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
    "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
RELATIONSHIP_KIND = "Visually_Similar_To"
SIMILARITY_FACET = "imgsim:VisualSimilarityFacet"


def _ref(node_id: str) -> dict[str, str]:
    return {"@id": node_id}


def _typed(value: object, datatype: str) -> dict[str, str]:
    return {"@type": datatype, "@value": str(value)}


def _text(value: object) -> str:
    """A configuration value as text (JSON for numbers, booleans and lists)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


class _Graph:
    """Nodes with identifiers derived from one seed."""

    def __init__(self, seed: str) -> None:
        self._namespace = uuid.uuid5(uuid.NAMESPACE_URL, seed)
        self.nodes: list[dict[str, Any]] = []

    def id(self, name: str) -> str:
        return f"kb:{uuid.uuid5(self._namespace, name)}"

    def add(self, node: dict[str, Any]) -> str:
        self.nodes.append(node)
        return str(node["@id"])

    def hashes(self, owner: str, digests: dict[str, str | None]) -> list[dict[str, str]]:
        refs = []
        for method, value in digests.items():
            if value:
                refs.append(
                    _ref(
                        self.add(
                            {
                                "@id": self.id(f"{owner}/hash/{method}"),
                                "@type": "uco-types:Hash",
                                "uco-types:hashMethod": method,
                                "uco-types:hashValue": _typed(value, "xsd:hexBinary"),
                            }
                        )
                    )
                )
        return refs


def _file_node(graph: _Graph, e: FileEvidence, known: str | None) -> str:
    file_id = graph.id(f"file/{e.path}")
    name = Path(e.path).name
    file_facet: dict[str, Any] = {
        "@id": graph.id(f"file/{e.path}/file-facet"),
        "@type": "uco-observable:FileFacet",
        "uco-observable:fileName": name,
        "uco-observable:filePath": e.path,
    }
    if Path(name).suffix:
        file_facet["uco-observable:extension"] = Path(name).suffix[1:]
    if e.size is not None:
        file_facet["uco-observable:sizeInBytes"] = _typed(e.size, "xsd:integer")
    if e.modified_utc:
        file_facet["uco-observable:modifiedTime"] = _typed(e.modified_utc, "xsd:dateTime")
    facets = [file_facet]
    if e.sha256:
        content: dict[str, Any] = {
            "@id": graph.id(f"file/{e.path}/content-facet"),
            "@type": "uco-observable:ContentDataFacet",
            "uco-observable:sizeInBytes": _typed(e.size, "xsd:integer"),
            "uco-observable:hash": graph.hashes(
                file_id, {"SHA256": e.sha256, "SHA1": e.sha1, "MD5": e.md5}
            ),
        }
        mime = Image.MIME.get(e.image_format or "")
        if mime:
            content["uco-observable:mimeType"] = mime
        facets.append(content)
    for facet in facets:
        graph.add(facet)
    node: dict[str, Any] = {
        "@id": file_id,
        "@type": "uco-observable:File",
        "uco-core:hasFacet": [_ref(f["@id"]) for f in facets],
    }
    if known:
        node["uco-core:tag"] = [f"known: {name}" for name in known.split(", ")]
    if e.error:
        node["uco-core:description"] = e.error
    return graph.add(node)


def _tool_nodes(graph: _Graph, report: ReportData) -> str:
    """imgsim, the query's configuration of it (with the model weights); the configured tool."""
    tool = graph.add(
        {
            "@id": graph.id("tool"),
            "@type": "uco-tool:Tool",
            "uco-core:name": "imgsim",
            "uco-tool:version": report.tool_version,
            "uco-tool:toolType": "image similarity search",
        }
    )
    weights = graph.add(
        {
            "@id": graph.id("model-weights"),
            "@type": "uco-observable:ContentData",
            "uco-core:name": f"{report.model} weights",
            "uco-core:hasFacet": [_ref(graph.id("model-weights/content-facet"))],
        }
    )
    graph.add(
        {
            "@id": graph.id("model-weights/content-facet"),
            "@type": "uco-observable:ContentDataFacet",
            "uco-observable:hash": graph.hashes(weights, {"SHA256": report.weights_sha256}),
        }
    )
    settings: dict[str, Any] = {
        "model": report.model,
        "embedder": report.embedder,
        "scene_head": report.scene_head,
        **report.settings,
        "scenes_searched": report.scenes_searched,
        "vectors_searched": report.vectors_searched,
        "vectors_total": report.vectors_total,
        "hash_sets": [s["name"] for s in report.hash_sets],
        "selection": report.selection,
    }
    entries: list[dict[str, Any]] = []
    for name, value in settings.items():
        entries.append(
            {
                "@id": graph.id(f"configuration/{name}"),
                "@type": "uco-configuration:ConfigurationEntry",
                "uco-configuration:itemName": name,
                "uco-configuration:itemValue": _text(value),
            }
        )
    entries.append(
        {
            "@id": graph.id("configuration/model_weights"),
            "@type": "uco-configuration:ConfigurationEntry",
            "uco-configuration:itemName": "model_weights",
            "uco-configuration:itemObject": _ref(weights),
        }
    )
    for entry in entries:
        graph.add(entry)
    configuration = graph.add(
        {
            "@id": graph.id("configuration"),
            "@type": "uco-configuration:Configuration",
            "uco-configuration:configurationEntry": [_ref(e["@id"]) for e in entries],
        }
    )
    return graph.add(
        {
            "@id": graph.id("configured-tool"),
            "@type": "uco-tool:ConfiguredTool",
            "uco-core:name": "imgsim",
            "uco-tool:version": report.tool_version,
            "uco-configuration:isConfigurationOf": _ref(tool),
            "uco-configuration:usesConfiguration": _ref(configuration),
        }
    )


def _relationship(graph: _Graph, m: MatchEntry, source: str, target: str) -> str:
    facet = graph.add(
        {
            "@id": graph.id(f"match/{m.rank}/similarity-facet"),
            "@type": SIMILARITY_FACET,
            "imgsim:similarityScore": _typed(f"{m.score:.6f}", "xsd:decimal"),
            "imgsim:rank": _typed(m.rank, "xsd:positiveInteger"),
            "imgsim:nearCopy": m.near_copy,
            **(
                {"imgsim:pdqDistance": _typed(m.pdq_distance, "xsd:nonNegativeInteger")}
                if m.pdq_distance is not None
                else {}
            ),
            "imgsim:scene": m.scene,
            "imgsim:integrity": m.integrity,
        }
    )
    node: dict[str, Any] = {
        "@id": graph.id(f"match/{m.rank}"),
        "@type": "uco-observable:ObservableRelationship",
        "uco-core:source": _ref(source),
        "uco-core:target": _ref(target),
        "uco-core:kindOfRelationship": RELATIONSHIP_KIND,
        "uco-core:isDirectional": True,
        "uco-core:hasFacet": [_ref(facet)],
    }
    if m.mark:
        node["uco-core:tag"] = [f"imgsim mark: {m.mark}"]
    if m.note:
        node["uco-core:description"] = m.note
    return graph.add(node)


def _query_time(report: ReportData) -> str | None:
    """When the query ran, from its audit log line."""
    for line in reversed(report.audit_lines):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("event") == "query" and entry.get("query_sha256") == (
            report.query_sha256_at_query
        ):
            return entry.get("ts")
    return None


def _declarations() -> list[dict[str, Any]]:
    """imgsim's own terms: a facet class under uco-core:Facet."""
    return [
        {
            "@id": SIMILARITY_FACET,
            "@type": "owl:Class",
            "rdfs:subClassOf": _ref("uco-core:Facet"),
            "rdfs:label": "VisualSimilarityFacet",
            "rdfs:comment": "How similar the source file of a relationship looks to its target "
            "(imgsim): ranking score (cosine similarity plus the PDQ near-copy bonus), rank "
            "among the query's results, whether it is a near copy and its PDQ distance, scene "
            "class, integrity of the file at export time.",
        }
    ]


def render_case(report: ReportData) -> bytes:
    """The report as a CASE/UCO JSON-LD document (UTF-8)."""
    graph = _Graph(
        f"imgsim-report:{report.case_folder}:{report.created_utc}:{report.query_sha256_at_query}"
    )
    files: dict[str, str] = {}
    query_file = files[report.query.path] = _file_node(graph, report.query, report.query_known)
    for m in report.matches:
        if m.evidence.path not in files:
            files[m.evidence.path] = _file_node(graph, m.evidence, m.known)
    relationships = [
        _relationship(graph, m, files[m.evidence.path], query_file) for m in report.matches
    ]
    instrument = _tool_nodes(graph, report)
    action: dict[str, Any] = {
        "@id": graph.id("query"),
        "@type": "case-investigation:InvestigativeAction",
        "uco-core:name": "imgsim visual similarity query",
        "uco-core:description": f"{report.selection} of a query image over the case folder "
        f"{report.case_folder}; {len(report.matches)} reported of {report.results_total}",
        "uco-action:instrument": _ref(instrument),
        "uco-action:object": [_ref(query_file)],
        "uco-action:result": [_ref(r) for r in relationships]
        + [_ref(f) for f in dict.fromkeys(files[m.evidence.path] for m in report.matches)],
    }
    started = _query_time(report)
    if started:
        action["uco-action:startTime"] = _typed(started, "xsd:dateTime")
    if report.examiner:
        action["uco-action:performer"] = _ref(
            graph.add(
                {
                    "@id": graph.id("examiner"),
                    "@type": "uco-identity:Identity",
                    "uco-core:name": report.examiner,
                }
            )
        )
    graph.add(action)
    investigation: dict[str, Any] = {
        "@id": graph.id("investigation"),
        "@type": "case-investigation:Investigation",
        "uco-core:name": report.case_number or report.case_folder,
        "uco-core:description": f"case folder {report.case_folder}"
        + (f"; notes: {report.notes}" if report.notes else ""),
        "uco-core:object": [_ref(graph.id("query")), *(_ref(f) for f in files.values())],
        "uco-core:objectCreatedTime": _typed(report.created_utc, "xsd:dateTime"),
    }
    graph.add(investigation)
    doc = {"@context": CONTEXT, "@graph": _declarations() + graph.nodes}
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
