# SPDX-License-Identifier: Apache-2.0
"""Thumbnails and report pictures decode like the model's input: HEIC in a fresh process,
transparency over white, EXIF orientation."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from imgsim_desktop.core.evidence.thumbs import make_thumbnail
from imgsim_desktop.core.report.evidence import examine_file
from tests.conftest import FIXTURES, ROOT

FRESH_PROCESS = """
import sys
from pathlib import Path
from imgsim_desktop.core.report.evidence import examine_file
from imgsim_desktop.core.evidence.thumbs import make_thumbnail
path = Path(sys.argv[1])
thumb = make_thumbnail(path, 64)
facts = examine_file(path, 64)
assert facts.error is None, facts.error
print(thumb.width, thumb.height, facts.width, facts.height, facts.image_format)
"""


def test_heic_thumbnail_and_evidence_in_a_fresh_process(tmp_path: Path) -> None:
    pillow_heif = pytest.importorskip("pillow_heif", reason="pillow-heif is not installed")
    if not pillow_heif.libheif_info().get("HEIF"):
        pytest.skip("this libheif build has no HEVC encoder to make a test HEIC")
    pillow_heif.register_heif_opener()
    path = tmp_path / "photo.heic"
    Image.new("RGB", (160, 120), (200, 40, 40)).save(path, "HEIF")
    # A fresh process: nothing has registered the HEIF opener before the thumbnail is made.
    done = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, str(path)], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["64", "48", "160", "120", "HEIF"]


def test_transparency_goes_over_white(tmp_path: Path) -> None:
    path = tmp_path / "clear.png"
    Image.new("RGBA", (40, 40), (0, 0, 0, 0)).save(path)
    thumb = make_thumbnail(path, 32)
    assert thumb.data[:3] == b"\xff\xff\xff"
    facts = examine_file(path, 32)
    picture = Image.open(io.BytesIO(facts.thumbnail_jpeg or b"")).convert("RGB")
    assert min(picture.getpixel((16, 16))) > 240


def test_exif_orientation_in_thumbnails_and_evidence() -> None:
    path = FIXTURES / "case" / "sub" / "scene3_rotated.jpg"
    thumb = make_thumbnail(path, 160)
    assert (thumb.width, thumb.height) == (160, 120)
    facts = examine_file(path, 160)
    assert (facts.width, facts.height) == (320, 240)
