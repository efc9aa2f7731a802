# SPDX-License-Identifier: Apache-2.0
"""Bulk work (indexing, overviews) defers full garbage collections and shortens the interpreter's
switch interval while any of it runs, and puts both back when the last of it ends."""

from __future__ import annotations

import gc
import sys

from imgsim_desktop.ui.background import (
    BULK_SWITCH_INTERVAL_S,
    DEFERRED_FULL_COLLECTIONS,
    bulk_work,
    deferring,
)


def test_bulk_work_defers_full_collections_and_shortens_the_switch_interval() -> None:
    threshold, interval = gc.get_threshold(), sys.getswitchinterval()
    assert not deferring()
    with bulk_work():
        assert gc.get_threshold()[2] == DEFERRED_FULL_COLLECTIONS
        assert sys.getswitchinterval() == BULK_SWITCH_INTERVAL_S
        with bulk_work():  # a second bulk task beside the first
            assert sys.getswitchinterval() == BULK_SWITCH_INTERVAL_S
        assert deferring() and sys.getswitchinterval() == BULK_SWITCH_INTERVAL_S
    assert not deferring()
    assert gc.get_threshold() == threshold and sys.getswitchinterval() == interval
