# SPDX-License-Identifier: Apache-2.0
"""The desktop application's widgets: the only package that imports Qt (PySide6).

Importing it applies the binding work-arounds of :mod:`imgsim_desktop.ui.qt_compat` (each only
where its bug is seen), so the window and the tests run on the same footing.
"""

from imgsim_desktop.ui import qt_compat

qt_compat.apply()
