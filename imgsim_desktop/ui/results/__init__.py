# SPDX-License-Identifier: Apache-2.0
"""The result grid: model, thumbnail provider, delegate and view."""
