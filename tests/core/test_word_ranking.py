# SPDX-License-Identifier: Apache-2.0
"""A word's order: its labels' probability first, then likeness to its surest images, so a
kitchen whose refrigerator the classifier barely saw comes before offices where "refrigerator"
is noise; an image without any of the word's labels is not found; the stored bytes read back."""

from __future__ import annotations

import numpy as np

from imgsim_desktop.core.model.objects import encode
from imgsim_desktop.core.pipeline.word_ranking import FEEDBACK_SEEDS, LabelTable, rank_for_word

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
