# SPDX-License-Identifier: Apache-2.0
"""What is kept on disk in the app data folder: the catalogue (``catalog*``, ``records``,
``rerank``, ``hash_file``), the per-scene indexes, locks and thumbnails, flat here; grouped:
``work`` (the examiner's marks, saved searches and audit log), ``known`` (known-file hash sets)
and ``cases`` (the registry of cases and archived cases). Knows no model."""
