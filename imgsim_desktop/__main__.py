# SPDX-License-Identifier: Apache-2.0
"""``python -m imgsim_desktop`` runs the command-line interface."""

from imgsim_desktop.cli import main

raise SystemExit(main())
