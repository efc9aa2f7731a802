# SPDX-License-Identifier: Apache-2.0
"""What a result's numbers mean, in words an examiner can repeat (tiles, tooltips, detail pane).

A result carries two signals and one ranking score (``core/pipeline/ranking.py``):

- **similarity**: the cosine of the deep vectors (the query's best view against the image), 0 to
  1; a photo of the same place scores high without being a copy;
- **PDQ distance**: how many of the 256 bits of the two perceptual hashes differ (0 identical,
  unrelated photos about 96 and more); at or under the near-copy threshold (31 by default) the
  image is a **near copy** (re-saved, resized, turned, mirrored, recoloured);
- **score** = similarity + near-copy bonus (1 for a near copy, less for a PDQ distance between
  the threshold and 90, 0 beyond or when either hash is unusable), so every near copy ranks
  above every look-alike. The score is for ordering only; the similarity and the PDQ verdict are
  what to state.

Plain functions (no Qt), so they can be tested on their own.
"""

from __future__ import annotations

from imgsim_desktop.core.model.pdq import NEAR_COPY_DISTANCE
from imgsim_desktop.core.pipeline.results import ResultRecord

PDQ_BITS = 256


def bonus(record: ResultRecord) -> float:
    """The near-copy bonus the ranking added to the similarity."""
    return max(0.0, record.score - record.similarity)


def tile_caption(record: ResultRecord) -> str:
    """The tile's right-hand caption: the similarity, which means the same on every tile."""
    return f"sim {record.similarity:.3f}"


def score_text(record: ResultRecord) -> str:
    """``1.982 = similarity 0.982 + near-copy bonus 1.000``."""
    extra = bonus(record)
    if extra < 0.0005:
        return f"{record.score:.3f} = similarity {record.similarity:.3f} (no near-copy bonus)"
    return f"{record.score:.3f} = similarity {record.similarity:.3f} + near-copy bonus {extra:.3f}"


def similarity_text(record: ResultRecord) -> str:
    return f"{record.similarity:.3f} (deep-vector cosine; 1 = the same picture)"


def pdq_text(record: ResultRecord, threshold: int = NEAR_COPY_DISTANCE) -> str:
    """The PDQ distance and what it means."""
    if record.pdq_distance is None:
        return "not compared (too little detail to hash)"
    return f"{record.pdq_distance} of {PDQ_BITS} bits (near copy at ≤ {threshold})"


def verdict_text(record: ResultRecord, threshold: int = NEAR_COPY_DISTANCE) -> str:
    """The near-copy verdict in one short line."""
    if record.near_copy:
        return f"yes (PDQ distance {record.pdq_distance} ≤ {threshold})"
    if record.pdq_distance is None:
        return "unknown (the perceptual hashes could not be compared)"
    return f"no (PDQ distance {record.pdq_distance} > {threshold}): a look-alike"


#: What each of the detail pane's match facts means (its tooltip).
FACT_TOOLTIPS = {
    "Near copy": (
        "A near copy is the same picture re-saved, resized, turned, mirrored or recoloured: its "
        "PDQ perceptual hash is within the near-copy distance of the query's"
    ),
    "Similarity": (
        "Cosine of the deep image vectors (the query's best view against this image): 1 is the "
        "same picture; photos of the same place or objects also score high"
    ),
    "PDQ distance": (
        "How many of the 256 bits of the two PDQ perceptual hashes differ: 0 identical, "
        "unrelated photos about 96 and more"
    ),
    "Score": (
        "The ranking score orders the results: similarity plus a near-copy bonus (1 for a near "
        "copy, less up to a PDQ distance of 90, else 0), so every near copy ranks above every "
        "look-alike. State the similarity and the near-copy verdict, not the score"
    ),
}


def tooltip_lines(record: ResultRecord, threshold: int = NEAR_COPY_DISTANCE) -> list[str]:
    """The tile tooltip's lines about the match."""
    lines = [f"#{record.rank}  similarity {record.similarity:.4f}"]
    if record.near_copy:
        lines.append(f"NEAR COPY: PDQ distance {record.pdq_distance} of {PDQ_BITS} bits")
    elif record.pdq_distance is not None:
        lines.append(f"PDQ distance {record.pdq_distance} of {PDQ_BITS} bits (not a near copy)")
    lines.append(f"ranking score {score_text(record)}")
    return lines
