# SPDX-License-Identifier: Apache-2.0
"""Runtime assets shipped inside the package (the trained scene head and its report)."""
