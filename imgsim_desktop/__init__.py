# SPDX-License-Identifier: Apache-2.0
"""imgsim-desktop: offline image similarity search for investigators.

The package is split in two layers: :mod:`imgsim_desktop.core` (no Qt, ever) holds the engine,
and the front ends (:mod:`imgsim_desktop.cli`, later the desktop UI) are thin layers over it.
"""

__version__ = "0.2.0"
