# SPDX-License-Identifier: Apache-2.0
"""The cases this user has indexed (the registry) and archived cases in library folders."""
