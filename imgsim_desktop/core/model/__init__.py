# SPDX-License-Identifier: Apache-2.0
"""Pixels to numbers: the embedder (backbone and pooling), the stored descriptor's projection and
the scene head. Knows nothing of catalogues, indexes or cases."""
