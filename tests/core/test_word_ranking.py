# SPDX-License-Identifier: Apache-2.0
"""A word's order: its labels' probability first, then likeness to its surest images, so a
kitchen whose refrigerator the classifier barely saw comes before offices where "refrigerator"
is noise; an image without any of the word's labels is not found; the stored bytes read back;
the seeds' scenes put a bedroom before a living room whose sofa is labelled like a bed."""

from __future__ import annotations

import numpy as np
import pytest

from imgsim_desktop.core.model.objects import encode
from imgsim_desktop.core.pipeline.words.scene_feedback import (
    known_scenes,
    scene_agreement,
    scene_feedback,
    seed_likeness,
)
from imgsim_desktop.core.pipeline.words.word_ranking import (
    FEEDBACK_SEEDS,
    LabelTable,
    rank_for_word,
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
    and their likeness put the living room first, the seeds' scene puts the bedroom first. (The
    two come first in the table, so seeds taken in row order instead of score order fail.)"""
    blobs = {10: _image(**{f"_{STUDIO_COUCH}": 0.3, f"_{QUILT}": 0.1, f"_{LAMP}": 0.05})}
    blobs[11] = _image(**{f"_{STUDIO_COUCH}": 0.2, f"_{QUILT}": 0.1, f"_{LAMP}": 0.05})
    blobs.update(
        {20 + n: _image(**{f"_{BED}": 0.6 - 0.05 * n, f"_{QUILT}": 0.2}) for n in range(5)}
    )
    table = LabelTable.from_blobs(blobs)
    scenes = _scenes((0.1, 0.85, 0.05), (0.7, 0.25, 0.05), *[(0.9, 0.08, 0.02)] * 5)
    everything = np.arange(len(table.ids))
    wanted = [BED, STUDIO_COUCH]

    by_labels = table.ids[rank_for_word(table, everything, wanted).order].tolist()
    ranking = rank_for_word(table, everything, wanted, scenes)
    order = table.ids[ranking.order].tolist()

    assert by_labels[5:] == [10, 11]
    assert order[:5] == [20, 21, 22, 23, 24] and order[5:] == [11, 10]
    assert ranking.scene_agreement == pytest.approx((0.9 - 1 / 3) / (2 / 3), abs=1e-6)
    assert ranking.scene_likeness[1] > 0.9 > 0.7 > ranking.scene_likeness[0]
    assert ranking.scores[0] > ranking.scores[1]  # the score shown stays the labels'


def test_seeds_in_scenes_of_their_own_leave_the_order_to_the_labels() -> None:
    """Five sure images of a word, each in another of 15 scenes: a clear image of it in a sixth
    scene still comes before a trace of it in a seed's scene."""
    blobs = {n: _image(**{f"_{BED}": 0.9 - 0.01 * n}) for n in range(5)}
    blobs[10] = _image(**{f"_{BED}": 0.4})
    blobs[11] = _image(**{f"_{BED}": 0.01})
    table = LabelTable.from_blobs(blobs)
    scenes = np.full((7, 15), 0.001, dtype=np.float32)
    for row, scene in enumerate([0, 1, 2, 3, 4, 5, 0]):
        scenes[row, scene] = 0.986
    ranking = rank_for_word(table, np.arange(7), [BED], scenes, scene_weight=8.0)
    order = table.ids[ranking.order].tolist()
    assert order.index(10) < order.index(11)
    assert ranking.scene_agreement < 0.2
    even = rank_for_word(table, np.arange(7), [BED], np.full((7, 15), 1 / 15, np.float32))
    assert even.scene_agreement == pytest.approx(0.0, abs=1e-6)


def test_the_scene_weight_is_the_one_given() -> None:
    blobs = {20 + n: _image(**{f"_{BED}": 0.6 - 0.05 * n, f"_{QUILT}": 0.2}) for n in range(5)}
    blobs[10] = _image(**{f"_{STUDIO_COUCH}": 0.3, f"_{QUILT}": 0.1, f"_{LAMP}": 0.05})
    blobs[11] = _image(**{f"_{STUDIO_COUCH}": 0.2, f"_{QUILT}": 0.1, f"_{LAMP}": 0.05})
    table = LabelTable.from_blobs(blobs)
    scenes = _scenes(*[(0.9, 0.08, 0.02)] * 5, (0.1, 0.85, 0.05), (0.7, 0.25, 0.05))
    rows, wanted = np.arange(7), [BED, STUDIO_COUCH]
    plain = rank_for_word(table, rows, wanted).order.tolist()
    assert rank_for_word(table, rows, wanted, scenes, scene_weight=0.0).order.tolist() == plain
    weighted = table.ids[rank_for_word(table, rows, wanted, scenes, scene_weight=2.0).order]
    assert weighted.tolist()[5:] == [11, 10] and table.ids[plain].tolist()[5:] == [10, 11]


def _room(bed: float, couch: float) -> bytes:
    return _image(**{f"_{BED}": bed, f"_{STUDIO_COUCH}": couch, f"_{QUILT}": 0.1})


def test_an_image_whose_scene_is_unknown_is_placed_by_what_its_labels_suggest() -> None:
    """Bedrooms and living rooms, labelled apart; the surest bedroom's and one living room's
    scene probabilities are damaged. The surest bedroom stays first, the other seeds set the
    scene, and an unknown image labelled like a bedroom lands between a known bedroom and a
    known living room labelled as it is (the known images' line of scene likeness on label
    likeness stands in for its own): not last as the found images' median would put it, nor
    first."""
    blobs = {n: _room(0.6 - 0.05 * n, 0.02) for n in range(5)}  # sure bedrooms, the seeds
    blobs.update({10 + n: _room(0.01, 0.3) for n in range(6)})  # living rooms, sofas
    blobs[20] = _room(0.05, 0.05)  # a bedroom with a sofa, barely seen
    blobs[21] = _room(0.05, 0.05)  # unknown scene, labelled just as the bedroom
    blobs[22] = _room(0.05, 0.05)  # a living room labelled just as the bedroom
    blobs[23] = _room(0.01, 0.3)  # unknown scene, labelled as the living rooms
    table = LabelTable.from_blobs(blobs)
    bedroom, living, unknown = (0.9, 0.08, 0.02), (0.05, 0.9, 0.05), (np.nan,) * 3
    mostly_bedroom = (0.75, 0.2, 0.05)
    scenes = _scenes(
        unknown, *[bedroom] * 4, *[living] * 6, mostly_bedroom, unknown, living, unknown
    )
    ranking = rank_for_word(table, np.arange(len(table.ids)), [BED], scenes)
    order = table.ids[ranking.order].tolist()
    assert order[:5] == [0, 1, 2, 3, 4]
    assert order.index(20) < order.index(21) < order.index(22)
    assert np.isnan(ranking.scene_likeness[[0, 12, 14]]).all()
    assert ranking.scene_agreement == pytest.approx((0.9 - 1 / 3) / (2 / 3), abs=1e-6)
    assert ranking.scene_known == pytest.approx(12 / 15)


def test_the_scene_counts_as_much_as_the_found_images_scenes_are_known() -> None:
    blobs = {n: _room(0.6 - 0.05 * n, 0.02) for n in range(5)}
    table = LabelTable.from_blobs(blobs)
    scenes = _scenes((0.9, 0.08, 0.02), *[(np.nan,) * 3] * 4)
    ranking = rank_for_word(table, np.arange(5), [BED], scenes)
    assert ranking.scene_known == pytest.approx(0.2)
    feedback = scene_feedback(scenes, scenes[:1], np.linspace(1, 0, 5))
    assert feedback is not None and feedback.known_share == pytest.approx(0.2)
    assert feedback.term[0] == pytest.approx(feedback.agreement * 0.2 * feedback.likeness[0])
    none = rank_for_word(table, np.arange(5), [BED], _scenes(*[(np.nan,) * 3] * 5))
    assert none.scene_agreement == 0.0 and none.scene_known == 0.0
    assert np.isnan(none.scene_likeness).all()


def test_scene_rows_are_read_as_distributions_and_damaged_ones_are_unknown() -> None:
    rows = _scenes((1, 0, 0), (0.5, 0, 0), (0, 1, 0), (np.nan, 1, 0), (0, 0, 0), (-0.1, 1, 0.1))
    assert known_scenes(rows).tolist() == [True, True, True, False, False, False]
    likeness = seed_likeness(rows, _scenes((1, 0, 0), (0, 1, 0)))
    assert likeness[0] == pytest.approx(0.5) and likeness[1] == pytest.approx(0.5)
    assert likeness[2] == pytest.approx(0.5) and np.isnan(likeness[3:]).all()
    # linear in the seeds' shares: four seeds in one scene lift it four times the fifth's
    four_one = seed_likeness(_scenes((1, 0, 0), (0, 1, 0)), _scenes(*[(1, 0, 0)] * 4, (0, 1, 0)))
    assert four_one.tolist() == pytest.approx([0.8, 0.2])
    assert scene_agreement(np.array([1.0, 0.0, 0.0])) == pytest.approx(1.0)
    assert scene_agreement(np.array([1.0])) == 0.0
    feedback = scene_feedback(rows[:3], _scenes((np.nan, 0, 1)), np.zeros(3))
    assert feedback is None  # no seed's scene known
