# SPDX-License-Identifier: Apache-2.0
"""What a result's numbers mean, in words an examiner can repeat (tiles, tooltips, detail pane).

A result carries two signals and one ranking score (``core/pipeline/ranking.py``):

- **similarity**: the cosine of the deep vectors (the query's best view against the image), 0 to
  1; a photo of the same place scores high without being a copy;
- **PDQ distance**: how many of the 256 bits of the two perceptual hashes differ (0 identical,
  unrelated photos about 96 and more); at or under the near-copy threshold (31 by default) the
  image is a **near copy** (re-saved, resized, turned, mirrored, recoloured);
- **copy correlation**: for a few best candidates PDQ does not call near copies, the pixel
  correlation of the image with the query (crops PDQ cannot see); from 0.8 it counts as a copy;
- **score** = similarity + the larger of the near-copy bonus (1 for a near copy, less for a PDQ
  distance between the threshold and 90) and the copy bonus (0 at a correlation of 0.8, 1 at
  1.0), so every copy ranks above every look-alike. The score is for ordering only; the
  similarity and the copy verdicts are what to state.

Plain functions (no Qt), so they can be tested on their own.
"""

from __future__ import annotations

from imgsim_desktop.core.model.pdq import NEAR_COPY_DISTANCE
from imgsim_desktop.core.pipeline.ranking import COPY_CORRELATION, copy_bonus, pdq_bonus
from imgsim_desktop.core.pipeline.results import ResultRecord

PDQ_BITS = 256


def bonus(record: ResultRecord) -> float:
    """The bonus the ranking added to the similarity (near copy or copy by pixels)."""
    return max(0.0, record.score - record.similarity)


def pixel_copy(record: ResultRecord) -> bool:
    """True when the pixels say the image is a copy (or crop) of the query."""
    return copy_bonus(record.copy_correlation) > 0


def is_copy(record: ResultRecord) -> bool:
    """A near copy by PDQ, or a copy (or crop) by pixels: the tile's badge and the filter."""
    return record.near_copy or pixel_copy(record)


def badge_text(record: ResultRecord) -> str | None:
    if record.near_copy:
        return "near copy"
    if pixel_copy(record):
        return "copy (pixels)"
    return None


def tile_caption(record: ResultRecord) -> str:
    """The tile's right-hand caption: the similarity, which means the same on every tile."""
    return f"sim {record.similarity:.3f}"


def score_text(record: ResultRecord, threshold: int | None = None) -> str:
    """``1.982 = similarity 0.982 + near-copy bonus 1.000``."""
    extra = bonus(record)
    if extra < 0.0005:
        return f"{record.score:.3f} = similarity {record.similarity:.3f} (no copy bonus)"
    pdq = pdq_bonus(record.pdq_distance, NEAR_COPY_DISTANCE if threshold is None else threshold)
    kind = "near-copy bonus" if pdq >= copy_bonus(record.copy_correlation) else "copy bonus"
    return f"{record.score:.3f} = similarity {record.similarity:.3f} + {kind} {extra:.3f}"


def copy_check_text(record: ResultRecord) -> str:
    """What the pixel comparison found (measured on a few best candidates only)."""
    if record.copy_correlation is None:
        return "not measured (only the best candidates PDQ does not match are)"
    verdict = "a copy or crop" if pixel_copy(record) else "not a copy"
    return f"correlation {record.copy_correlation:.2f}: {verdict} (a copy from {COPY_CORRELATION})"


def similarity_text(record: ResultRecord) -> str:
    return f"{record.similarity:.3f} (deep-vector cosine: how alike they look, not a copy test)"


def pdq_text(record: ResultRecord, threshold: int = NEAR_COPY_DISTANCE) -> str:
    """The PDQ distance and what it means."""
    if record.pdq_distance is None:
        return "not compared (too little detail to hash)"
    return f"{record.pdq_distance} of {PDQ_BITS} bits (near copy at ≤ {threshold})"


def verdict_text(record: ResultRecord, threshold: int = NEAR_COPY_DISTANCE) -> str:
    """The near-copy verdict in one short line."""
    if record.near_copy:
        return f"yes (PDQ distance {record.pdq_distance} ≤ {threshold})"
    if pixel_copy(record):
        return f"a copy or crop by its pixels (correlation {record.copy_correlation:.2f})"
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
        "Cosine of the deep image vectors (the query's views against this image): high for the "
        "same picture and for photos of the same place or objects alike; whether it is a copy "
        "is what the near-copy and copy checks say"
    ),
    "PDQ distance": (
        "How many of the 256 bits of the two PDQ perceptual hashes differ: 0 identical, "
        "unrelated photos about 96 and more"
    ),
    "Copy check": (
        "Pixel correlation of the image with the query, measured on the best candidates PDQ does "
        "not call near copies: from 0.8 the image is a copy or a crop of the query"
    ),
    "Score": (
        "The ranking score orders the results: similarity plus the larger of a near-copy bonus "
        "(1 for a near copy, less up to a PDQ distance of 90) and a copy bonus (pixel "
        "correlation from 0.8 to 1), so every copy ranks above every look-alike. State the "
        "similarity and the copy verdicts, not the score"
    ),
}


def tooltip_lines(record: ResultRecord, threshold: int = NEAR_COPY_DISTANCE) -> list[str]:
    """The tile tooltip's lines about the match."""
    lines = [f"#{record.rank}  similarity {record.similarity:.4f}"]
    if record.near_copy:
        lines.append(f"NEAR COPY: PDQ distance {record.pdq_distance} of {PDQ_BITS} bits")
    elif record.pdq_distance is not None:
        lines.append(f"PDQ distance {record.pdq_distance} of {PDQ_BITS} bits (not a near copy)")
    if pixel_copy(record):
        lines.append(f"COPY OR CROP by its pixels: correlation {record.copy_correlation:.2f}")
    lines.append(f"ranking score {score_text(record, threshold)}")
    return lines
