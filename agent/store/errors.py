"""Errors of the event store that its callers handle.

`StoreError` is fatal for the store (the agent cannot record events and should say so in its
status); transient database trouble (busy, disk briefly full) is handled inside the writer and
never surfaces as a StoreError.
"""

from __future__ import annotations


class StoreError(Exception):
    """The store cannot be opened or used; the message says what and where."""
