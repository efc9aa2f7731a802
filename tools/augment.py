# SPDX-License-Identifier: Apache-2.0
"""Seeded photo changes that make matching pairs from the training images (to learn the descriptor).

The kinds of change seized copies show (crops, mirror images, heavy JPEG, downscaling, colour
changes, caption bars, blur) and viewpoint-like ones (a small rotation, zoom and perspective) that
stand in for another photo of the same place. One or two are applied, then a real JPEG save and
the product's own decode, as a file on disk would go. Used by ``tools/train_descriptor.py`` only.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from imgsim_desktop.core.evidence.imagefile import decode_for_model

TEXTS = ("FWD: look at this!!", "lol", "sent from my phone", "2019-07-12 14:33", "@user", "omg")


def crop(image: Image.Image, rng: random.Random) -> Image.Image:
    """A crop of 30% to 80% of the area, aspect ratio changed by up to 25%."""
    share, ratio = rng.uniform(0.3, 0.8), rng.uniform(0.8, 1.25)
    width, height = image.size
    cw = min(width, int(width * (share * ratio) ** 0.5))
    ch = min(height, int(height * (share / ratio) ** 0.5))
    x, y = rng.randint(0, width - cw), rng.randint(0, height - ch)
    return image.crop((x, y, x + cw, y + ch))


def caption(image: Image.Image, rng: random.Random) -> Image.Image:
    """A coloured bar with a line of text at the top or the bottom."""
    image = image.copy()
    draw = ImageDraw.Draw(image)
    width, height = image.size
    top = rng.random() < 0.3
    share = rng.uniform(0.08, 0.2)
    box = (
        (0, 0, width, int(height * share)) if top else (0, int(height * (1 - share)), width, height)
    )
    colour = rng.choice([(0, 0, 0), (255, 255, 255), (200, 30, 30)])
    draw.rectangle(box, fill=colour)
    ink = (0, 0, 0) if colour == (255, 255, 255) else (255, 255, 255)
    draw.text((8, box[1] + 4), rng.choice(TEXTS), fill=ink)
    return image


def recolour(image: Image.Image, rng: random.Random) -> Image.Image:
    image = ImageEnhance.Color(image).enhance(rng.uniform(0.0, 1.6))
    image = ImageEnhance.Contrast(image).enhance(rng.uniform(0.6, 1.7))
    return ImageEnhance.Brightness(image).enhance(rng.uniform(0.7, 1.3))


def downscale(image: Image.Image, rng: random.Random) -> Image.Image:
    factor = rng.uniform(2.5, 6)
    size = (max(8, int(image.width / factor)), max(8, int(image.height / factor)))
    return image.resize(size, Image.Resampling.LANCZOS)


def viewpoint(image: Image.Image, rng: random.Random) -> Image.Image:
    """A small rotation, a zoom and a perspective change."""
    width, height = image.size
    image = image.rotate(rng.uniform(-12, 12), resample=Image.Resampling.BICUBIC, expand=False)
    d = 0.12
    quad: list[float] = []
    for x, y in ((0, 0), (0, height), (width, height), (width, 0)):
        quad += [
            x + rng.uniform(-d, d) * width + (d * width if x == 0 else -d * width),
            y + rng.uniform(-d, d) * height + (d * height if y == 0 else -d * height),
        ]
    return image.transform(
        (width, height), Image.Transform.QUAD, quad, resample=Image.Resampling.BICUBIC
    )


def blur(image: Image.Image, rng: random.Random) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(0.8, 2.0)))


def mirror(image: Image.Image, rng: random.Random) -> Image.Image:
    return ImageOps.mirror(image)


CHANGES: dict[str, Callable[[Image.Image, random.Random], Image.Image] | None] = {
    "crop": crop,
    "caption": caption,
    "colour": recolour,
    "down": downscale,
    "view": viewpoint,
    "flip": mirror,
    "blur": blur,
    "jpeg": None,  # a heavy JPEG save instead of a light one
}


def augment(image: Image.Image, rng: random.Random, shorter_side: int) -> tuple[np.ndarray, str]:
    """One or two random changes, a JPEG save and the product's decode: (model input, changes)."""
    chosen = rng.sample(list(CHANGES), rng.choice([1, 1, 2]))
    for name in chosen:
        change = CHANGES[name]
        if change is not None:
            image = change(image, rng)
    quality = rng.randint(10, 35) if "jpeg" in chosen else rng.randint(75, 95)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return decode_for_model(buffer.getvalue(), shorter_side)[2], "+".join(chosen)
