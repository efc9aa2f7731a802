# SPDX-License-Identifier: Apache-2.0
"""The desktop application's widgets: the only package that imports Qt (PySide6)."""
