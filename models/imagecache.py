"""A bounded cache of image verdicts keyed by the SHA-256 of the image's bytes.

The same picture comes back on every page of a site (logos, avatars, thumbnails), so a verdict
is worked out once per content, not per URL: the key is the raw 32-byte SHA-256 of the bytes
as served, and a hit costs a hash and a dictionary look-up instead of a decode and a model run.
Least recently used entries go first once `max_entries` is reached, so memory stays fixed.
Safe to use from several worker threads at once (one lock around each operation).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Generic, TypeVar

__all__ = ["DEFAULT_MAX_ENTRIES", "ImageCache", "content_key"]

DEFAULT_MAX_ENTRIES = 4096  # a verdict is a few hundred bytes: ~1-2 MB at most

Value = TypeVar("Value")


def content_key(data: bytes) -> bytes:
    """The cache key of an image's bytes: their SHA-256, raw (32 bytes)."""
    return hashlib.sha256(data).digest()


class ImageCache(Generic[Value]):
    """Values by content key, at most `max_entries`, least recently used dropped first."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError("an image cache needs room for at least one entry")
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, Value] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes) -> Value | None:
        """The value stored for `key` (now the most recently used), or None."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: bytes, value: Value) -> None:
        """Store `value`; the least recently used entry goes when the cache is full."""
        if len(key) != 32:
            raise ValueError("an image cache key is a raw SHA-256 (32 bytes)")
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
