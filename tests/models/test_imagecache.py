"""The verdict cache: keyed by content, bounded, least recently used first out, thread-safe."""

from __future__ import annotations

import hashlib
import threading

import pytest

from abhaya.models.imagecache import ImageCache, content_key


def test_the_key_is_the_raw_sha256_of_the_bytes() -> None:
    assert content_key(b"abc") == hashlib.sha256(b"abc").digest()
    assert len(content_key(b"")) == 32


def test_a_stored_value_comes_back_and_a_miss_is_none() -> None:
    cache: ImageCache[float] = ImageCache(4)
    cache.put(content_key(b"a"), 0.25)
    assert cache.get(content_key(b"a")) == 0.25
    assert cache.get(content_key(b"b")) is None


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: ImageCache[str] = ImageCache(3)
    keys = [content_key(bytes([n])) for n in range(4)]
    for n, key in enumerate(keys[:3]):
        cache.put(key, f"v{n}")
    assert cache.get(keys[0]) == "v0"  # now the most recent: keys[1] is the oldest
    cache.put(keys[3], "v3")
    assert len(cache) == 3
    assert cache.get(keys[1]) is None
    assert [cache.get(key) for key in (keys[0], keys[2], keys[3])] == ["v0", "v2", "v3"]


def test_a_key_that_is_not_a_sha256_and_an_empty_cache_are_refused() -> None:
    with pytest.raises(ValueError):
        ImageCache[int](4).put(b"short", 1)
    with pytest.raises(ValueError):
        ImageCache[int](0)


def test_many_threads_never_grow_it_past_its_size_or_lose_a_fresh_entry() -> None:
    cache: ImageCache[int] = ImageCache(100)
    wrong: list[int] = []

    def work(start: int) -> None:
        for n in range(start, start + 2000):
            key = content_key(n.to_bytes(4, "big"))
            cache.put(key, n)
            found = cache.get(key)
            # Another thread may have pushed it out already, but never replaced it.
            if found is not None and found != n:
                wrong.append(n)

    threads = [threading.Thread(target=work, args=(n * 10_000,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
    assert len(cache) == 100
