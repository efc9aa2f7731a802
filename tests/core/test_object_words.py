# SPDX-License-Identifier: Apache-2.0
"""Object words: ImageNet labels over the whole image and its regions, stored while indexing,
words resolved to labels, ``Case.find`` ranking, the scene filter, saved word searches."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imgsim_desktop.core import open_case
from imgsim_desktop.core.errors import QueryError
from imgsim_desktop.core.model.object_words import investigator_words, label_index, labels_for_word
from imgsim_desktop.core.model.objects import (
    OBJECTS_KIND,
    decode,
    encode,
    imagenet_labels,
    region_slices,
)
from tests.conftest import manifest
from tests.core.fakes import FakeEmbedder, FakeObjectEmbedder, fake_head


def test_the_regions_are_the_whole_map_a_2x2_grid_and_the_centre() -> None:
    regions = region_slices(7, 7)
    assert len(regions) == 6
    assert regions[0] == (slice(0, 7), slice(0, 7))
    assert {(r.start, r.stop, c.start, c.stop) for r, c in regions[1:5]} == {
        (0, 5, 0, 5), (0, 5, 2, 7), (2, 7, 0, 5), (2, 7, 2, 7),
    }  # fmt: skip
    assert regions[5] == (slice(1, 6), slice(1, 6))
    assert all(r.stop > r.start and c.stop > c.start for r, c in region_slices(1, 3))


def test_a_small_object_in_a_corner_is_found_by_the_regions() -> None:
    torch = pytest.importorskip("torch")
    from imgsim_desktop.core.model.objects import object_probabilities

    classifier = torch.nn.Linear(2, 3)
    with torch.no_grad():
        classifier.weight.copy_(torch.tensor([[0.0, 0.0], [4.0, 0.0], [0.0, 8.0]]))
        classifier.bias.zero_()
    features = torch.zeros(1, 2, 7, 7)
    features[0, 0] = 1.0  # channel 0 everywhere: class 1 (the scene)
    features[0, 1, :3, :3] = 1.0  # channel 1 in a 3x3 corner: class 2 (a small object)
    with torch.no_grad():
        whole = torch.softmax(classifier(features.mean(dim=(2, 3))), dim=1)[0]
        found = object_probabilities(features, classifier)[0]
    assert found[2] > 1.5 * float(whole[2])
    assert found[1] >= float(whole[1]) - 1e-6
    assert found.argmax() in (1, 2)


def test_labels_round_trip_through_their_stored_bytes() -> None:
    probabilities = np.zeros(1000, np.float32)
    probabilities[[978, 970, 5]] = [0.7, 0.2, 0.05]
    blob = encode(probabilities)
    assert len(blob) == 200  # 50 labels: uint16 index + float16 probability each
    got = decode(blob)
    assert list(got)[:3] == [978, 970, 5]
    assert got[978] == pytest.approx(0.7, abs=1e-3)


def test_words_stand_for_imagenet_labels() -> None:
    labels = imagenet_labels()
    assert len(labels.names) == 1000 and labels.short(978) == "seashore"
    assert {763, 764, 413} <= set(labels_for_word("gun"))  # revolver, rifle, assault rifle
    assert {527, 620, 664} <= set(labels_for_word("Computer"))
    assert labels_for_word("refrigerator") == [760]
    assert labels_for_word("seashore") == [978]
    assert labels_for_word("laptops") == [620]
    assert labels_for_word("syringe") == [845]
    with pytest.raises(QueryError, match="1000-class ImageNet classifier"):
        labels_for_word("zzzyzx")
    with pytest.raises(QueryError):
        labels_for_word("  ")


def test_every_name_in_the_word_list_is_an_imagenet_label() -> None:
    labels = imagenet_labels()
    for word, names in investigator_words().items():
        for name in names:
            assert label_index(name, labels), f"{word}: {name!r} is not an ImageNet label"
    text = (resources.files("imgsim_desktop.resources") / "object_words.json").read_text("utf-8")
    for word in ("gun", "computer", "bed", "car", "boat", "syringe", "money", "phone"):
        assert word in json.loads(text)["words"]


@pytest.fixture
def coloured_case(tmp_path: Path) -> Path:
    """Pictures more or less blue, green and red."""
    case = tmp_path / "case"
    case.mkdir()
    for n in range(12):
        colour = [(40, 60, 200), (50, 190, 60), (200, 40, 50)][n % 3]
        shade = 10 * (n // 3)
        rgb = tuple(min(255, c + (shade if c > 100 else 0)) for c in colour)
        Image.new("RGB", (64, 48), rgb).save(case / f"{['blue', 'green', 'red'][n % 3]}{n:02d}.png")
    return case


def test_find_ranks_by_the_words_labels_stored_while_indexing(coloured_case: Path) -> None:
    before = manifest(coloured_case)
    with open_case(coloured_case, embedder=FakeObjectEmbedder(), head=fake_head()) as case:
        case.index()
        stored = case._open_catalog(create=False).extras(OBJECTS_KIND)
        assert len(stored) == 12
        result = case.find("seashore", k=3)
        data = result.to_json()
        bed = case.find("bed", k=20, scenes=["red"])
        logged = [e.data for e in case.audit.entries() if e.event == "find"]
    assert manifest(coloured_case) == before
    assert [r.path[:4] for r in result.results] == ["blue"] * 3
    assert [r.rank for r in result.results] == [1, 2, 3]
    assert result.results[0].score >= result.results[1].score >= result.results[2].score
    assert data["word"] == "seashore" and data["labels"] == ["seashore, coast, seacoast, sea-coast"]
    first = data["results"][0]
    assert {"rank", "path", "score", "scene", "sha256", "known", "labels", "likeness"} <= set(first)
    assert data["feedback"]["seeds"] and data["feedback"]["seeds"][0] == first["path"]
    assert logged[0]["feedback_seeds"] == data["feedback"]["seeds"]
    assert first["labels"][0]["label"] == "seashore" and first["labels"][0]["probability"] > 0.5
    assert bed.results and all(r.scene == "red" for r in bed.results)
    assert bed.scenes == ["red"]
    assert logged[0]["word"] == "seashore" and len(logged[0]["results"]) == 3


def test_find_says_how_many_images_carry_no_labels(coloured_case: Path) -> None:
    with open_case(coloured_case, embedder=FakeEmbedder(), head=fake_head()) as case:
        case.index()
        result = case.find("seashore")
    assert result.results == [] and result.images_unlabelled == 12


def test_a_word_search_is_saved_and_rerun(coloured_case: Path) -> None:
    with open_case(coloured_case, embedder=FakeObjectEmbedder(), head=fake_head()) as case:
        case.index()
        case.save_search("beaches", word="seashore", scenes=["blue"], options={"k": 2})
        with pytest.raises(QueryError):
            case.save_search("nothing", word="zzzyzx")
        again = case.run_saved_search("beaches")
    assert [r.path[:4] for r in again.results] == ["blue", "blue"]
    assert again.saved_search == "beaches"
    assert again.to_json()["saved_search"] == "beaches"


def test_find_reads_the_scenes_of_the_current_embedder_and_skips_unknown_ones(
    coloured_case: Path,
) -> None:
    """Blue pictures stand for "seashore": the blue ones are alike in scene, the red ones not.
    A picture with no scene probabilities (indexed before they were stored), one with a blob of
    another size (damaged) and one described by another embedder report none, and the search
    still works; with none known the order reads no scenes."""
    with open_case(coloured_case, embedder=FakeObjectEmbedder(), head=fake_head()) as case:
        case.index()
        with_scenes = case.find("seashore", k=12)
        catalog = case._open_catalog(create=False)
        by_path = {r.path: r.id for r in with_scenes.results}
        with catalog._db:
            catalog._db.execute(
                "UPDATE files SET scene_probs = NULL WHERE id = ?", (by_path["red02.png"],)
            )
            catalog._db.execute(
                "UPDATE files SET scene_probs = ? WHERE id = ?",
                (np.ones(4, np.float32).tobytes() + b"x", by_path["green01.png"]),
            )
            catalog._db.execute(
                "UPDATE files SET scene_probs = ? WHERE id = ?",
                (np.ones(4, np.float32).tobytes(), by_path["green04.png"]),
            )
            catalog._db.execute(  # SQLite keeps any type in any column
                "UPDATE files SET scene_probs = 'abcdefgh' WHERE id = ?", (by_path["blue06.png"],)
            )
            other = catalog.embedder_id("another:embedder", dim=8)
            catalog._db.execute(
                "UPDATE files SET embedder_id = ? WHERE id = ?", (other, by_path["red05.png"])
            )
        partly = case.find("seashore", k=12)
        with catalog._db:
            catalog._db.execute("UPDATE files SET scene_probs = NULL")
        without = case.find("seashore", k=12)
        logged = [e.data for e in case.audit.entries() if e.event == "find"]
    data = with_scenes.to_json()
    assert data["feedback"]["scene_weight"] > 0 and data["feedback"]["scene_agreement"] > 0.5
    alike = {r["path"]: r["scene_likeness"] for r in data["results"]}
    assert min(v for p, v in alike.items() if p.startswith("blue")) > 0.7
    assert max(v for p, v in alike.items() if p.startswith("red")) < 0.5
    unknown = {
        r.path
        for r, like in zip(partly.results, partly.scene_likeness, strict=True)
        if like is None
    }
    assert unknown == {"red02.png", "green01.png", "green04.png", "red05.png", "blue06.png"}
    assert partly.scene_agreement > 0.5 and len(partly.results) == 12
    assert partly.scene_known == pytest.approx(7 / 12)
    assert without.scene_agreement == 0.0 and without.to_json()["feedback"]["scene_agreement"] == 0
    assert all(like is None for like in without.scene_likeness)
    assert [round(e["scene_agreement"], 6) for e in logged] == [
        round(x.scene_agreement, 6) for x in (with_scenes, partly, without)
    ]
