# SPDX-License-Identifier: Apache-2.0
"""EfficientNet-Lite0 in plain PyTorch: exactly the network of timm's ``tf_efficientnet_lite0``.

This module owns the architecture only: the layers, their order and names, and the forward pass.
It holds no weights (:func:`imgsim_desktop.core.model.embedder.build_model` fills them from the
packaged file) and knows nothing of image loading or pooling for retrieval.

It replaces ``timm.create_model("tf_efficientnet_lite0")`` so that the runtime never imports timm,
nor torchvision through it (about 1.5 s of imports per process, and compiled torchvision
operators that a PyInstaller bundle must otherwise carry). What it reproduces of timm:

- the layers of timm's ``_gen_efficientnet_lite`` arch_def: a 3x3 stride-2 stem of 32 channels,
  one depthwise-separable block, then inverted-residual blocks (expansion 6, no squeeze-excite),
  a 1x1 head to 1280 channels, global average pooling and a 1000-class linear classifier;
- TensorFlow "SAME" padding as the ``tf_`` variants do it: symmetric static padding for stride 1,
  and for stride 2 padding that depends on the input size, the odd pixel going right/bottom;
- BatchNorm with ``eps=1e-3`` (TF's) and PyTorch's default momentum 0.1, as timm builds it
  (momentum does not matter in eval mode), each followed by ReLU6 except after the projections;
- parameter names and order identical to timm's ``state_dict()`` (``conv_stem``, ``bn1``,
  ``blocks.S.B.conv_pw`` ... ``conv_head``, ``bn2``, ``classifier``).

``tests/e2e/test_network.py`` checks features and logits against timm's network.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

#: TensorFlow's BatchNorm epsilon, used by timm's ``tf_`` variants.
BN_EPS = 1e-3
#: PyTorch's default BatchNorm momentum, which timm keeps for ``tf_efficientnet_lite0``.
BN_MOMENTUM = 0.1
STEM_CHANNELS = 32
#: Channels of the final feature map (:meth:`EfficientNetLite0.forward_features`).
FEATURES = 1280
CLASSES = 1000
#: One row per stage: (kind, repeats, kernel, first stride, expansion, output channels), as
#: timm's arch_def ``ds_r1_k3_s1_e1_c16``, ``ir_r2_k3_s2_e6_c24``, ...
STAGES: tuple[tuple[str, int, int, int, int, int], ...] = (
    ("ds", 1, 3, 1, 1, 16),
    ("ir", 2, 3, 2, 6, 24),
    ("ir", 2, 5, 2, 6, 40),
    ("ir", 3, 3, 2, 6, 80),
    ("ir", 3, 5, 1, 6, 112),
    ("ir", 4, 5, 2, 6, 192),
    ("ir", 1, 3, 1, 6, 320),
)


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TF "SAME" padding (before, after) of one spatial dimension; the odd pixel goes after."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """A bias-free convolution with TF "SAME" padding.

    With stride 1 (odd kernels) "SAME" is symmetric and fixed, so it is the convolution's own
    padding; with a larger stride it depends on the input size and is applied before the
    convolution, as timm's ``Conv2dSame`` does.
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel: int, stride: int = 1, groups: int = 1
    ) -> None:
        padding = kernel // 2 if stride == 1 else 0
        super().__init__(
            in_channels, out_channels, kernel, stride, padding, groups=groups, bias=False
        )
        self.dynamic = stride != 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.dynamic:
            kernel, stride = self.kernel_size[0], self.stride[0]
            top, bottom = same_padding(x.shape[-2], kernel, stride)
            left, right = same_padding(x.shape[-1], kernel, stride)
            x = F.pad(x, (left, right, top, bottom))
        return super().forward(x)


def batch_norm(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class DepthwiseSeparable(nn.Module):
    """Depthwise conv, BN, ReLU6, pointwise conv, BN (timm's ``DepthwiseSeparableConv``)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.conv_dw = SameConv2d(in_channels, in_channels, kernel, stride, groups=in_channels)
        self.bn1 = batch_norm(in_channels)
        self.conv_pw = SameConv2d(in_channels, out_channels, 1)
        self.bn2 = batch_norm(out_channels)
        self.act = nn.ReLU6(inplace=True)
        self.skip = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act(self.bn1(self.conv_dw(x)))
        out = self.bn2(self.conv_pw(out))
        return out + x if self.skip else out


class InvertedResidual(nn.Module):
    """1x1 expansion, BN, ReLU6, depthwise conv, BN, ReLU6, 1x1 projection, BN, residual when
    the shape is kept (timm's ``InvertedResidual`` without squeeze-excite)."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel: int, stride: int, expansion: int
    ) -> None:
        super().__init__()
        mid = in_channels * expansion
        self.conv_pw = SameConv2d(in_channels, mid, 1)
        self.bn1 = batch_norm(mid)
        self.conv_dw = SameConv2d(mid, mid, kernel, stride, groups=mid)
        self.bn2 = batch_norm(mid)
        self.conv_pwl = SameConv2d(mid, out_channels, 1)
        self.bn3 = batch_norm(out_channels)
        self.act = nn.ReLU6(inplace=True)
        self.skip = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act(self.bn1(self.conv_pw(x)))
        out = self.act(self.bn2(self.conv_dw(out)))
        out = self.bn3(self.conv_pwl(out))
        return out + x if self.skip else out


class EfficientNetLite0(nn.Module):
    """The whole network; build it, load a state dict, call ``eval()``."""

    def __init__(self) -> None:
        super().__init__()
        self.conv_stem = SameConv2d(3, STEM_CHANNELS, 3, stride=2)
        self.bn1 = batch_norm(STEM_CHANNELS)
        stages: list[nn.Module] = []
        channels = STEM_CHANNELS
        for kind, repeats, kernel, stride, expansion, out_channels in STAGES:
            blocks: list[nn.Module] = []
            for i in range(repeats):
                step = stride if i == 0 else 1
                if kind == "ds":
                    blocks.append(DepthwiseSeparable(channels, out_channels, kernel, step))
                else:
                    blocks.append(InvertedResidual(channels, out_channels, kernel, step, expansion))
                channels = out_channels
            stages.append(nn.Sequential(*blocks))
        self.blocks = nn.Sequential(*stages)
        self.conv_head = SameConv2d(channels, FEATURES, 1)
        self.bn2 = batch_norm(FEATURES)
        self.act = nn.ReLU6(inplace=True)
        self.classifier = nn.Linear(FEATURES, CLASSES)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The (n, 1280, h/32, w/32) map after the head's BN and ReLU6 (timm's same name)."""
        x = self.act(self.bn1(self.conv_stem(x)))
        x = self.blocks(x)
        return self.act(self.bn2(self.conv_head(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet-1k logits (n, 1000): features, global average pool, linear classifier."""
        return self.classifier(self.forward_features(x).mean(dim=(2, 3)))
