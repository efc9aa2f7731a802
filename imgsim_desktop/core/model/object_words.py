# SPDX-License-Identifier: Apache-2.0
"""Words to ImageNet labels: what an examiner types, and the classifier's classes it stands for.

``resources/object_words.json`` lists words an investigator would type ("gun", "computer",
"bed", "car", "syringe", "money", ...) with the labels each stands for. Any other word is looked
up in the 1000 labels' own names: a label one of whose lemmas is the word (a trailing plural "s"
forgiven), else the labels whose names hold it as a whole word ("laptop" finds "laptop, laptop
computer"). A word that matches nothing is a :class:`QueryError` that says so.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

from imgsim_desktop.core.errors import QueryError
from imgsim_desktop.core.model.objects import LabelNames, imagenet_labels

WORDS_RESOURCE = "object_words.json"


@cache
def investigator_words() -> dict[str, tuple[str, ...]]:
    """The shipped word list: word -> label names (full names or first lemmas)."""
    text = (resources.files("imgsim_desktop.resources") / WORDS_RESOURCE).read_text("utf-8")
    return {w.casefold(): tuple(names) for w, names in json.loads(text)["words"].items()}


def label_index(name: str, labels: LabelNames) -> list[int]:
    """The labels called ``name``: its full name exactly (``cardigan``, the garment, not
    ``Cardigan, Cardigan Welsh corgi``), else by full name or first lemma, case-insensitive."""
    exact = [i for i, full in enumerate(labels.names) if full == name.strip()]
    if exact:
        return exact
    wanted = name.strip().casefold()
    return [
        i
        for i, full in enumerate(labels.names)
        if full.casefold() == wanted or labels.short(i).casefold() == wanted
    ]


def labels_for_word(word: str, labels: LabelNames | None = None) -> list[int]:
    """The label indexes ``word`` stands for; raises :class:`QueryError` when there are none."""
    labels = labels or imagenet_labels()
    key = " ".join(word.split()).casefold()
    if not key:
        raise QueryError("an object word is needed (e.g. gun, computer, bed, car)")
    listed = investigator_words().get(key)
    if listed is not None:
        return sorted({i for name in listed for i in label_index(name, labels)})
    for form in (key, key[:-1] if key.endswith("s") and len(key) > 3 else None):
        if form:
            exact = [i for i in range(len(labels.names)) if form in labels.lemmas(i)]
            if exact:
                return exact
    pattern = re.compile(rf"\b{re.escape(key)}\b")
    partial = [i for i in range(len(labels.names)) if pattern.search(labels.names[i].casefold())]
    if partial:
        return partial
    raise QueryError(
        f"no ImageNet label stands for {word!r}: the object labels come from a 1000-class "
        "ImageNet classifier (try a more common word, e.g. "
        + ", ".join(sorted(investigator_words())[:12])
        + ")"
    )
