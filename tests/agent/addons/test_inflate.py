"""Bounded undoing of content codings: bombs are refused without being inflated."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import brotli
import pytest
import zstandard

from abhaya.agent.addons.inflate import Uninflatable, head, inflate

MIB = 1024 * 1024
BODY = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64


def _gzip_bomb(mib: int) -> bytes:
    squeezer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [squeezer.compress(b"\x89PNG\r\n\x1a\n")]
    parts += [squeezer.compress(bytes(MIB)) for _ in range(mib)]
    return b"".join(parts) + squeezer.flush()


@pytest.mark.parametrize(
    ("coding", "raw"),
    [
        ("", BODY),
        ("identity", BODY),
        ("gzip", gzip.compress(BODY)),
        ("x-gzip", gzip.compress(BODY)),
        ("deflate", zlib.compress(BODY)),
        ("deflate", zlib.compress(BODY)[2:-4]),  # raw deflate, no zlib header
        ("zstd", zstandard.ZstdCompressor().compress(BODY)),
        ("GZIP ", gzip.compress(BODY)),
    ],
)
def test_a_body_within_the_limit_comes_back_whole(coding: str, raw: bytes) -> None:
    assert inflate(raw, coding, 1 * MIB) == BODY
    assert head(raw, coding) == BODY[:16]


def test_a_gigabyte_bomb_is_refused_without_being_inflated() -> None:
    bomb = _gzip_bomb(1024)  # ~1 MB of gzip, 1 GiB inflated
    tracemalloc.start()
    try:
        with pytest.raises(Uninflatable, match="more than 16 MiB"):
            inflate(bomb, "gzip", 16 * MIB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40 * MIB
    assert head(bomb, "gzip") == b"\x89PNG\r\n\x1a\n" + bytes(8)


def test_a_zstd_bomb_is_refused() -> None:
    bomb = zstandard.ZstdCompressor().compress(bytes(64 * MIB))
    with pytest.raises(Uninflatable, match="more than 16 MiB"):
        inflate(bomb, "zstd", 16 * MIB)


def test_brotli_is_only_peeked_at() -> None:
    """A byte of brotli may stand for hundreds of kB: only the head is decoded."""
    bomb = brotli.compress(BODY[:16] + bytes(256 * MIB), quality=5)
    assert len(bomb) < 2000
    assert head(bomb, "br") == BODY[:16]
    with pytest.raises(Uninflatable, match="brotli"):
        inflate(brotli.compress(BODY), "br", 16 * MIB)


@pytest.mark.parametrize(
    ("coding", "raw", "why"),
    [
        ("gzip", gzip.compress(BODY)[:-30], "cut short"),
        ("gzip", b"\x1f\x8b" + bytes(40), "not valid gzip"),
        ("zstd", b"\x28\xb5\x2f\xfd" + b"\xff" * 10, "zstd"),
        ("zstd", zstandard.ZstdCompressor().compress(BODY)[:-8], "cut short"),
        ("compress", BODY, "encoded as 'compress'"),
    ],
)
def test_a_damaged_or_unknown_coding_is_uninflatable(coding: str, raw: bytes, why: str) -> None:
    with pytest.raises(Uninflatable, match=why):
        inflate(raw, coding, 16 * MIB)
    assert head(raw, coding) in (b"", BODY[:16])
