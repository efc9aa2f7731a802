# SPDX-License-Identifier: Apache-2.0
"""Object words: the ImageNet labels stored while indexing, and searching a case by a word."""
