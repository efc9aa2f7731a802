# SPDX-License-Identifier: Apache-2.0
"""Write ``imgsim_desktop/resources/imagenet_labels.json``: the 1000 ImageNet-1k class names in
the classifier's order (WordNet lemmas, e.g. "seashore, coast, seacoast, sea-coast").

They come from timm's ImageNet metadata (timm is a test dependency; the runtime reads the JSON):
``python tools/make_imagenet_labels.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

from timm.data import ImageNetInfo

OUT = Path(__file__).resolve().parents[1] / "imgsim_desktop" / "resources" / "imagenet_labels.json"


def main() -> None:
    info = ImageNetInfo()
    names = [info.index_to_description(i) for i in range(info.num_classes())]
    payload = {"source": "ImageNet-1k (ILSVRC 2012) class names, WordNet lemmas", "labels": names}
    OUT.write_text(json.dumps(payload, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(names)} labels -> {OUT}")


if __name__ == "__main__":
    main()
