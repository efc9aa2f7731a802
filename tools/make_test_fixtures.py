# SPDX-License-Identifier: Apache-2.0
"""Regenerate the small synthetic images committed under ``tests/fixtures/case``.

Six drawn "scenes" (no real photographs), each saved as an original and a near copy (cropped,
resized, re-encoded), plus one JPEG stored sideways with an EXIF orientation tag. Deterministic.

    python tools/make_test_fixtures.py
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "case"


def scene(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    rng = random.Random(seed)
    top = tuple(rng.randrange(256) for _ in range(3))
    bottom = tuple(rng.randrange(256) for _ in range(3))
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(size[1]):
        t = y / size[1]
        draw.line(
            [(0, y), (size[0], y)],
            fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    for _ in range(rng.randrange(4, 9)):
        x0, y0 = rng.randrange(size[0]), rng.randrange(size[1])
        x1, y1 = x0 + rng.randrange(20, 140), y0 + rng.randrange(20, 120)
        colour = tuple(rng.randrange(256) for _ in range(3))
        shape = rng.choice(["ellipse", "rectangle", "polygon"])
        if shape == "ellipse":
            draw.ellipse([x0, y0, x1, y1], fill=colour)
        elif shape == "rectangle":
            draw.rectangle([x0, y0, x1, y1], fill=colour)
        else:
            draw.polygon([(x0, y0), (x1, y0 + 10), ((x0 + x1) // 2, y1)], fill=colour)
    return image


def main() -> None:
    (OUT / "sub").mkdir(parents=True, exist_ok=True)
    for n in range(6):
        original = scene(n)
        original.save(OUT / f"scene{n}_a.jpg", quality=90)
        copy = original.crop((12, 9, 308, 231)).resize((280, 210), Image.Resampling.BICUBIC)
        folder = OUT / "sub" if n % 2 else OUT
        copy.save(folder / f"scene{n}_b.png" if n % 3 == 0 else folder / f"scene{n}_b.jpg")
    sideways = scene(3).rotate(90, expand=True)  # stored turned; EXIF 8 turns it back upright
    exif = Image.Exif()
    exif[0x0112] = 8
    sideways.save(OUT / "sub" / "scene3_rotated.jpg", quality=90, exif=exif)
    (OUT / "notes.txt").write_text("not an image: the indexer skips it\n")


if __name__ == "__main__":
    main()
