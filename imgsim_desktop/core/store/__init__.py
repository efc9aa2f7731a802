# SPDX-License-Identifier: Apache-2.0
"""What is kept on disk in the app data folder: the catalogue, the per-scene indexes, locks, the
examiner's marks and the audit log. Knows no model."""
