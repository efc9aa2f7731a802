# SPDX-License-Identifier: Apache-2.0
"""What the examiner does with a case, kept beside it: marks and notes, saved searches, and the
append-only audit log."""
