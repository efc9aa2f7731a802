# SPDX-License-Identifier: Apache-2.0
"""Known-file hash sets: the examiner's sets of digests (one SQLite file each) and the formats
they are imported from."""
