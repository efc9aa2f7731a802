# SPDX-License-Identifier: Apache-2.0
"""The long operations (indexing a case, answering a query): the only place that combines the
evidence, model and store layers."""
