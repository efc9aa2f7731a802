# SPDX-License-Identifier: Apache-2.0
"""Richer queries: a region of a picture, several pictures at once ("all of", "any of"), and
examples to learn from (relevance feedback)."""
