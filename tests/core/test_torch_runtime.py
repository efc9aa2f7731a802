# SPDX-License-Identifier: Apache-2.0
"""OpenMP's passive waiting is set before torch can load, and a user's own setting is kept."""

from __future__ import annotations

import os

import pytest

from imgsim_desktop.core.model.embedder import EfficientNetLiteEmbedder
from imgsim_desktop.core.model.torch_runtime import OPENMP_DEFAULTS, configure_openmp


def test_passive_waiting_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    configure_openmp()
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE" == OPENMP_DEFAULTS["OMP_WAIT_POLICY"]


def test_a_users_setting_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    configure_openmp()
    EfficientNetLiteEmbedder()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_the_embedder_sets_it_when_made_before_torch_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    EfficientNetLiteEmbedder()  # reads the weights' hash, does not import torch
    assert os.environ.get("OMP_WAIT_POLICY") == "PASSIVE"
