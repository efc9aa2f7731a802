# SPDX-License-Identifier: Apache-2.0
"""What is computed for each file of a case: read it once (hashes), decode it, embed it, label it.

:func:`analyse` is the one loop that turns files into catalogue rows, whether the indexer runs
it in this process (decoding on a thread pool a bounded window ahead of the model, which embeds
a batch at a time) or a cluster worker runs it on a shard (:mod:`.cases.cluster`). Whatever goes wrong
with one file becomes that file's failure row, in plain words; if the model fails on a batch, each
image is embedded alone so only the one it fails on is recorded as failed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from imgsim_desktop.core.errors import ModelError, UnreadableImageError
from imgsim_desktop.core.evidence.casefolder import CaseFile
from imgsim_desktop.core.evidence.imagefile import LoadedImage, load_for_embedding, plain_reason
from imgsim_desktop.core.machine import worker_count
from imgsim_desktop.core.model.copycheck import THUMB_KIND, thumbnail
from imgsim_desktop.core.model.embedder import Embedder
from imgsim_desktop.core.model.pdq import pdq_hash
from imgsim_desktop.core.model.scenes import SceneHead
from imgsim_desktop.core.pipeline.words.object_labels import describe_and_label, with_extras
from imgsim_desktop.core.store.hash_file import HASH_KIND
from imgsim_desktop.core.store.records import STATUS_FAILED, STATUS_INDEXED, FileRow
from imgsim_desktop.core.store.rerank import RERANK_KIND, rerank_blob


@dataclass(frozen=True)
class Loaded:
    """A file read and decoded for the model, with what is computed from its pixels alone."""

    image: LoadedImage
    extras: dict[str, bytes]


def _load(item: CaseFile, shorter_side: int) -> Loaded | UnreadableImageError:
    """Read one file (on a decoding thread); whatever goes wrong becomes an error recorded
    against that file."""
    try:
        image = load_for_embedding(item.path, shorter_side)
        extras = {
            HASH_KIND: pdq_hash(image.hash_pixels).to_bytes(),
            THUMB_KIND: thumbnail(image.hash_pixels),
        }
        return Loaded(image, extras)
    except UnreadableImageError as exc:
        return _detached(exc)
    except ModelError:
        raise  # not this file's fault: the run stops with the reason
    except MemoryError:
        return UnreadableImageError("not enough memory to read this file", transient=True)
    except Exception as exc:  # a bug or an odd file must not stop the run
        return UnreadableImageError(
            f"unexpected error while reading ({type(exc).__name__}: {plain_reason(exc)})",
            transient=True,
        )


def _detached(error: UnreadableImageError) -> UnreadableImageError:
    """The error without its traceback and chained errors (only its message and ``transient``
    are used): kept, they are reference cycles through the frames, some twenty objects of cyclic
    garbage per unreadable file, which made every full garbage collection of a run over 200,000
    unreadable files take a few hundred milliseconds with the GIL held."""
    error.__cause__ = error.__context__ = None
    return error.with_traceback(None)


def _loaded_in_order(
    items: list[CaseFile], shorter_side: int, pool: ThreadPoolExecutor, ahead: int
) -> Iterator[tuple[CaseFile, Loaded | UnreadableImageError]]:
    """Decode on the pool, a bounded window ahead of the consumer, yielding in input order."""
    window: deque[tuple[CaseFile, Future]] = deque()
    pending = iter(items)
    for item in pending:
        window.append((item, pool.submit(_load, item, shorter_side)))
        if len(window) >= ahead:
            break
    while window:
        item, future = window.popleft()
        nxt = next(pending, None)
        if nxt is not None:
            window.append((nxt, pool.submit(_load, nxt, shorter_side)))
        yield item, future.result()


def scene_labels(head: SceneHead, vectors: np.ndarray) -> list[tuple[str, float, np.ndarray]]:
    """(scene, confidence, probabilities) for each of the head's input vectors
    (:meth:`SceneHead.scene_input`)."""
    probs = head.probabilities(vectors)
    return [(*head.label(row), row) for row in probs]


def _failure(item: CaseFile, error: UnreadableImageError) -> FileRow:
    return FileRow(
        item.relpath, item.size, item.mtime_ns, STATUS_FAILED, error=str(error),
        retry=error.transient,
    )  # fmt: skip


def _indexed_row(
    item: CaseFile,
    found: Loaded,
    vector: np.ndarray,
    rerank: np.ndarray | None,
    label: tuple[str, float, np.ndarray],
) -> FileRow:
    scene, confidence, probs = label
    loaded = found.image
    extras = found.extras if rerank is None else {**found.extras, RERANK_KIND: rerank_blob(rerank)}
    return FileRow(
        relpath=item.relpath,
        size=loaded.size,
        mtime_ns=loaded.mtime_ns,
        status=STATUS_INDEXED,
        sha256=loaded.sha256,
        md5=loaded.md5,
        sha1=loaded.sha1,
        width=loaded.width,
        height=loaded.height,
        scene=scene,
        scene_confidence=confidence,
        scene_probs=probs,
        vector=vector,
        extras=extras,
    )


def _embed_batch(
    batch: list[tuple[CaseFile, Loaded]], embedder: Embedder, head: SceneHead
) -> list[FileRow]:
    """Rows for a batch; if the model fails on the batch, each image is embedded alone so only
    the image it fails on is recorded as failed."""
    try:
        described, objects = describe_and_label(
            [loaded.image.pixels for _, loaded in batch], embedder
        )
    except Exception:
        if len(batch) == 1:
            raise
        return [row for one in batch for row in _embed_one(one, embedder, head)]
    labels = scene_labels(head, head.scene_input(described.index, described.layout))
    if objects:
        batch = [
            (item, with_extras(loaded, blob))
            for (item, loaded), blob in zip(batch, objects, strict=True)
        ]
    reranks = described.rerank if described.rerank is not None else [None] * len(batch)
    return [
        _indexed_row(item, loaded, vector, rerank, label)
        for (item, loaded), vector, rerank, label in zip(
            batch, described.index, reranks, labels, strict=True
        )
    ]


def _embed_one(one: tuple[CaseFile, Loaded], embedder: Embedder, head: SceneHead) -> list[FileRow]:
    try:
        return _embed_batch([one], embedder, head)
    except Exception as exc:
        error = UnreadableImageError(
            f"the model failed on this image ({type(exc).__name__}: {plain_reason(exc)})",
            transient=True,
        )
        return [_failure(one[0], error)]


def analyse(
    items: list[CaseFile], embedder: Embedder, head: SceneHead, batch_size: int
) -> Generator[tuple[list[FileRow], int], None, None]:
    """Rows for ``items``, a batch at a time (about ``batch_size`` files), with how many files
    are done so far. Closing the generator stops the work (the decoders finish their window)."""
    batch: list[tuple[CaseFile, Loaded]] = []
    failed: list[FileRow] = []
    done = 0
    with ThreadPoolExecutor(max_workers=worker_count(), thread_name_prefix="imgsim-decode") as pool:
        loaded_items = _loaded_in_order(
            items, embedder.identity.shorter_side, pool, ahead=2 * batch_size
        )
        for item, loaded in loaded_items:
            if isinstance(loaded, UnreadableImageError):
                failed.append(_failure(item, loaded))
            else:
                batch.append((item, loaded))
            done += 1
            if len(batch) + len(failed) >= batch_size or done == len(items):
                rows = (_embed_batch(batch, embedder, head) if batch else []) + failed
                batch, failed = [], []
                yield rows, done
