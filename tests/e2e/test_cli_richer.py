# SPDX-License-Identifier: Apache-2.0
"""Richer queries through the real CLI and model on real photos (skipped without ../shared/data):
a region of a Holidays photo finds that crop first, two photos of a place give one list, a
negative example drops, object words rank 15-Scene training photos, a saved search is listed,
re-run and reported."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import make_readonly_copy, make_writable, manifest, shared_data
from tests.e2e.helpers import imgsim

pytestmark = [pytest.mark.model, pytest.mark.shared_data]


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory):
    """40 Holidays photos (groups 1000-1019) with the crop of a region of one that is not in the
    case; 6 training photos each of four 15-Scene classes."""
    holidays = shared_data("holidays_805") / "images"
    scenes = shared_data("scene15") / "train"
    root = tmp_path_factory.mktemp("richer")
    photos = root / "photos"
    photos.mkdir()
    names = sorted(p.name for p in holidays.glob("10[01]*.jpg"))[:40]
    for name in names[1:]:
        shutil.copy(holidays / name, photos / name)
    query = holidays / names[0]
    image = Image.open(query).convert("RGB")
    box = (40, 30, int(image.width * 0.55), int(image.height * 0.55))
    image.crop((box[0], box[1], box[0] + box[2], box[1] + box[3])).save(
        photos / "region.jpg", quality=92
    )
    words = root / "words"
    for cls in ("coast", "kitchen", "bedroom", "forest"):
        (words / cls).mkdir(parents=True)
        for f in sorted((scenes / cls).iterdir())[:6]:
            shutil.copy(f, words / cls / f.name)
    photo_case = make_readonly_copy(photos, root / "photo_case")
    word_case = make_readonly_copy(words, root / "word_case")
    yield photo_case, word_case, query, box
    make_writable(photo_case)
    make_writable(word_case)


def test_region_combine_negative_and_saved_search(cases, imgsim_home: Path, tmp_path: Path) -> None:
    case, _words, query, box = cases
    before = manifest(case)
    assert imgsim("index", case, "--json", home=imgsim_home).returncode == 0
    region = ",".join(map(str, box))
    run = imgsim("query", case, query, "--region", region, "-k", "3", "--json", home=imgsim_home)
    assert run.returncode == 0, run.stderr
    line = run.json_lines()[0]
    assert line["results"][0]["path"] == "region.jpg" and line["results"][0]["near_copy"]
    assert line["query"]["settings"]["region"] == list(box)
    audit = imgsim("audit", case, "--json", home=imgsim_home).stdout.splitlines()
    assert json.loads(audit[-1])["settings"]["region"] == list(box)

    a, b = case / "100001.jpg", case / "100002.jpg"
    both = imgsim("query", case, a, b, "--combine", "all", "-k", "10", "--json", home=imgsim_home)
    assert both.returncode == 0, both.stderr
    assert len(both.json_lines()) == 1
    assert both.json_lines()[0]["query"]["settings"]["combine"] == "all"

    plain = imgsim("query", case, a, "-k", "20", "--all-scenes", "--json", home=imgsim_home)
    ranked = [r["path"] for r in plain.json_lines()[0]["results"]]
    # the first photo of another place (region.jpg is a crop of the place's first photo: a copy)
    wrong = next(p for p in ranked if not p.startswith("1000") and p != "region.jpg")
    neg = imgsim(
        "query", case, a, "--not", case / wrong, "-k", "20", "--all-scenes", "--json",
        home=imgsim_home,
    )  # fmt: skip
    after = [r["path"] for r in neg.json_lines()[0]["results"]]
    assert wrong not in after or after.index(wrong) > ranked.index(wrong)

    saved = imgsim(
        "query", case, query, "--region", region, "-k", "3", "--save", "crop", home=imgsim_home
    )
    assert saved.returncode == 0, saved.stderr
    listed = imgsim("searches", case, "--json", home=imgsim_home)
    assert [s["name"] for s in listed.json_lines()] == ["crop"]
    again = imgsim("searches", case, "--run", "crop", "--json", home=imgsim_home)
    assert again.json_lines()[0]["results"][0]["path"] == "region.jpg"
    assert again.json_lines()[0]["query"]["saved_search"] == "crop"
    out = tmp_path / "crop.json"
    report = imgsim("report", case, "--search", "crop", "-o", out, home=imgsim_home)
    assert report.returncode == 0, report.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["settings"]["saved_search"] == "crop" and data["settings"]["region"] == list(box)
    bad = imgsim("query", case, query, "--region", "0,0,5000,10", home=imgsim_home)
    assert bad.returncode == 1 and "outside the image" in bad.stderr
    assert manifest(case) == before


def test_object_words_rank_scene_photos(cases, imgsim_home: Path) -> None:
    _case, words, _query, _box = cases
    assert imgsim("index", words, "--json", home=imgsim_home).returncode == 0
    run = imgsim("find", words, "seashore", "-k", "5", "--json", home=imgsim_home)
    assert run.returncode == 0, run.stderr
    data = run.json_lines()[0]
    assert data["word"] == "seashore" and data["labels"][0].startswith("seashore")
    assert sum(r["path"].startswith("coast/") for r in data["results"]) >= 4
    assert data["results"][0]["labels"][0]["label"] == "seashore"
    bed = imgsim("find", words, "bed", "-k", "3", "--json", home=imgsim_home).json_lines()[0]
    assert all(r["path"].startswith("bedroom/") for r in bed["results"])
    human = imgsim("find", words, "bed", "-k", "3", home=imgsim_home)
    assert "not an object detector" in human.stdout
    unknown = imgsim("find", words, "zzzyzx", home=imgsim_home)
    assert unknown.returncode == 1 and "ImageNet" in unknown.stderr
