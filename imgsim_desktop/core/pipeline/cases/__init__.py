# SPDX-License-Identifier: Apache-2.0
"""Past cases and scale-out: archiving a case into a library, searching across cases, and
indexing or searching on a Dask cluster."""
