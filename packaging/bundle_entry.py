# SPDX-License-Identifier: Apache-2.0
"""Entry script of the one-folder bundle: the executable's name picks the front end.

``imgsim-desktop`` (windowed) runs the desktop application, ``imgsim`` (console) the command line;
both are built by ``packaging/imgsim-desktop.spec`` from this one script, so they share one
analysis and one folder of libraries. Each ``main`` turns a library that cannot load into one line
or one message box, never a traceback.
"""

import sys
from pathlib import Path

if Path(sys.executable).stem.lower().startswith("imgsim-desktop"):
    from imgsim_desktop.app import main
else:
    from imgsim_desktop.cli import main

raise SystemExit(main())
