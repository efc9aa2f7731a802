# SPDX-License-Identifier: Apache-2.0
"""Reading the seized files, read-only: walking a case folder, recognising, hashing and decoding
images, thumbnails. Nothing here ever writes."""
