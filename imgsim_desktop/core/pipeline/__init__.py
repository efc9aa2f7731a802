# SPDX-License-Identifier: Apache-2.0
"""The long operations (indexing a case, answering a query): the only place that combines the
evidence, model and store layers.

Indexing (``plan``, ``analysis``, ``indexing``) and the one-image query (``query``, ``search``,
``ranking``, ``results``, ``known``) are here; what builds on them is grouped: ``richer`` (a
region, several images, feedback examples), ``words`` (object words) and ``cases`` (archives,
search across cases, the Dask cluster)."""
