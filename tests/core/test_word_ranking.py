# SPDX-License-Identifier: Apache-2.0
"""A word's order: its labels' probability first, then likeness to its surest images, so a
kitchen whose refrigerator the classifier barely saw comes before offices where "refrigerator"
is noise; an image without any of the word's labels is not found; the stored bytes read back;
the seeds' scenes put a bedroom before a living room whose sofa is labelled like a bed."""

from __future__ import annotations

import numpy as np
import pytest

from imgsim_desktop.core.model.objects import encode
from imgsim_desktop.core.pipeline.word_ranking import (
    FEEDBACK_SEEDS,
    LabelTable,
    rank_for_word,
    scene_likeness,
)

FRIDGE, DISHWASHER, MICROWAVE, STOVE = 760, 534, 651, 827
DESK, MONITOR, FILE_CABINET = 526, 664, 553


def _image(**labels: float) -> bytes:
    probabilities = np.zeros(1000, np.float32)
    for index, p in labels.items():
        probabilities[int(index.strip("_"))] = p
    return encode(probabilities)


def _case() -> dict[int, bytes]:
    """Five kitchens where the fridge is seen, two where it is barely seen, six offices whose
    "refrigerator" is noise a little above the weak kitchens', a forest without it."""
    blobs = {}
    for n in range(5):
        blobs[n] = _image(**{f"_{FRIDGE}": 0.5 - 0.05 * n, f"_{DISHWASHER}": 0.2, f"_{STOVE}": 0.1})
    blobs[10] = _image(**{f"_{FRIDGE}": 0.002, f"_{DISHWASHER}": 0.3, f"_{MICROWAVE}": 0.2})
    blobs[11] = _image(**{f"_{FRIDGE}": 0.002, f"_{STOVE}": 0.4, f"_{DISHWASHER}": 0.1})
    for n in range(20, 26):
        blobs[n] = _image(**{f"_{FRIDGE}": 0.004, f"_{DESK}": 0.4, f"_{MONITOR}": 0.2})
    blobs[30] = _image(**{f"_{FILE_CABINET}": 0.3})
    return blobs


def test_kitchens_barely_labelled_come_before_offices_with_label_noise() -> None:
    table = LabelTable.from_blobs(_case())
    ranking = rank_for_word(table, np.arange(len(table.ids)), [FRIDGE])
    order = table.ids[ranking.order].tolist()
    by_label = table.ids[np.argsort(-ranking.scores, kind="stable")].tolist()
    assert by_label.index(20) < by_label.index(10)  # the labels alone put offices first
    assert order[:5] == [0, 1, 2, 3, 4]
    assert set(order[5:7]) == {10, 11}
    assert 30 not in order  # no probability of the word's labels: not found
    assert table.ids[ranking.seeds].tolist() == [0, 1, 2, 3, 4][:FEEDBACK_SEEDS]
    assert ranking.likeness[order.index(10)] > ranking.likeness[order.index(20)]


def test_candidates_limit_what_is_found_and_the_bytes_read_back() -> None:
    table = LabelTable.from_blobs(_case())
    offices = np.flatnonzero(table.ids >= 20)
    ranking = rank_for_word(table, offices, [FRIDGE])
    assert set(table.ids[ranking.order].tolist()) == set(range(20, 26))
    row = table.ids.tolist().index(0)
    stored = dict(zip(table.labels[row].tolist(), table.probabilities[row].tolist(), strict=True))
    assert abs(stored[FRIDGE] - 0.5) < 1e-3 and abs(stored[DISHWASHER] - 0.2) < 1e-3
    empty = rank_for_word(table, np.arange(len(table.ids)), [MICROWAVE + 1])
    assert len(empty.order) == 0 and len(empty.seeds) == 0


def test_a_damaged_label_row_spoils_no_other() -> None:
    blobs = _case()
    damaged = np.frombuffer(_image(**{f"_{FRIDGE}": 0.3, f"_{STOVE}": 0.2}), dtype=np.uint8).copy()
    probabilities = damaged[100:].view("<f2")  # 50 uint16 labels, then 50 float16
    probabilities[1] = np.float16("nan")
    blobs[40] = damaged.tobytes()
    table = LabelTable.from_blobs(blobs)
    ranking = rank_for_word(table, np.arange(len(table.ids)), [FRIDGE])
    assert np.isfinite(ranking.likeness).all()
    assert 40 in table.ids[ranking.order].tolist()
    assert table.ids[ranking.order].tolist()[:5] == [0, 1, 2, 3, 4]


BED, STUDIO_COUCH, QUILT, LAMP = 564, 831, 750, 846
BEDROOM, LIVINGROOM, OFFICE = 0, 1, 2


def _scenes(*rows: tuple[float, float, float]) -> np.ndarray:
    return np.asarray(rows, dtype=np.float32)


def test_the_seeds_scene_puts_a_bedroom_before_a_sofa_labelled_like_a_bed() -> None:
    """Five sure bedrooms stand for "bed"; a living room whose sofa the classifier calls a studio
    couch is labelled like a bedroom and scores higher than a bedroom it barely saw: the labels
    and their likeness put the living room first, the seeds' scene puts the bedroom first."""
    blobs = {n: _image(**{f"_{BED}": 0.6 - 0.05 * n, f"_{QUILT}": 0.2}) for n in range(5)}
    blobs[10] = _image(**{f"_{STUDIO_COUCH}": 0.3, f"_{QUILT}": 0.1, f"_{LAMP}": 0.05})
    blobs[11] = _image(**{f"_{STUDIO_COUCH}": 0.2, f"_{QUILT}": 0.1, f"_{LAMP}": 0.05})
    table = LabelTable.from_blobs(blobs)
    scenes = _scenes(*[(0.9, 0.08, 0.02)] * 5, (0.1, 0.85, 0.05), (0.7, 0.25, 0.05))
    everything = np.arange(len(table.ids))
    wanted = [BED, STUDIO_COUCH]

    by_labels = table.ids[rank_for_word(table, everything, wanted).order].tolist()
    ranking = rank_for_word(table, everything, wanted, scenes)
    order = table.ids[ranking.order].tolist()

    assert by_labels[5:] == [10, 11]
    assert order[:5] == [0, 1, 2, 3, 4] and order[5:] == [11, 10]
    living, bedroom = table.ids.tolist().index(10), table.ids.tolist().index(11)
    assert ranking.scene_likeness[bedroom] > 0.9 > 0.7 > ranking.scene_likeness[living]
    assert ranking.scores[living] > ranking.scores[bedroom]  # the score shown stays the labels'


def test_seeds_of_mixed_scenes_favour_no_scene_and_damaged_rows_are_like_nothing() -> None:
    seeds = _scenes((1, 0, 0), (0, 1, 0), (0, 0, 1))
    images = _scenes((1, 0, 0), (0, 1, 0), (0, 0, 1), (np.nan, 1, 0), (0, 0, 0))
    likeness = scene_likeness(images, seeds)
    assert np.allclose(likeness[:3], likeness[0]) and 0.5 < likeness[0] < 0.6
    assert likeness[3] == pytest.approx(likeness[1])  # the NaN is dropped, the rest still counts
    assert likeness[4] == 0.0
    assert scene_likeness(_scenes((0.5, 0.5, 0)), _scenes((0.5, 0.5, 0)))[0] == pytest.approx(1.0)
