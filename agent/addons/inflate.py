"""Undoing a response's content coding within a bound, for the image screen.

mitmproxy's `get_content` inflates a whole body in one call, on the event loop: a few hundred
kB of gzip or brotli from a hostile server become gigabytes in the agent (400 kB of gzip made
one agent's RSS peak at 1 GB) before anything can look at the size.  Here the output is
bounded as it is produced: `inflate` gives up past its limit, and `head` decodes only the
first bytes (enough to recognise an image by its magic bytes).

Brotli is decoded one input byte at a time for `head` (a byte of brotli can stand for
hundreds of kB, 64 bytes for 40 MB), and not at all by `inflate`: feeding a large body a byte
at a time would be too slow on the event loop, and an image sent as brotli is rare (images are
compressed already), so it is refused as unreadable and the policy's `unscannable` action
applies.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import brotli  # type: ignore[import-untyped]  # a dependency of mitmproxy (no stubs)
import zstandard  # a dependency of mitmproxy

_CHUNK = 256 * 1024
_ZSTD_STEP = 256
_GZIP_OR_ZLIB = zlib.MAX_WBITS | 32
"""zlib's window bits that accept a gzip or a zlib header, whichever comes."""
_RAW_DEFLATE = -zlib.MAX_WBITS
"""Servers that send "deflate" without zlib's header (mitmproxy accepts both)."""


class Uninflatable(ValueError):
    """The body cannot be decoded within the bound; the message says why, in a few words."""


def inflate(raw: bytes, coding: str, limit: int) -> bytes:
    """`raw` without its content coding, at most `limit` bytes.

    Raises `Uninflatable` when it would be longer, is cut short or damaged, or is in a coding
    that cannot be bounded (brotli) or is unknown.
    """
    coding = coding.strip().lower()
    if coding == "br":
        raise Uninflatable("it is compressed as brotli, which is not inflated to be checked")
    out = bytearray()
    for piece in _pieces(raw, coding, limit + 1):
        out += piece
        if len(out) > limit:
            raise Uninflatable(f"it inflates to more than {limit // (1024 * 1024)} MiB")
    return bytes(out)


def head(raw: bytes, coding: str, size: int = 16) -> bytes:
    """The first `size` bytes of `raw` without its content coding (fewer when it is shorter);
    b"" when they cannot be decoded."""
    coding = coding.strip().lower()
    out = bytearray()
    try:
        if coding == "br":
            decompressor = brotli.Decompressor()
            for at in range(len(raw)):
                out += decompressor.process(raw[at : at + 1])
                if len(out) >= size:
                    break
        else:
            for piece in _pieces(raw, coding, size):
                out += piece
                if len(out) >= size:
                    break
    except (Uninflatable, brotli.error):
        return b""
    return bytes(out[:size])


def _pieces(raw: bytes, coding: str, most: int) -> Iterator[bytes]:
    """The decoded body in bounded pieces (zlib's of at most `most` bytes or `_CHUNK`)."""
    step = min(most, _CHUNK)
    if coding in ("", "identity"):
        yield raw
        return
    if not raw:
        return
    if coding in ("gzip", "x-gzip", "deflate"):
        yield from _zlib(raw, coding, step)
        return
    if coding == "zstd":
        yield from _zstd(raw)
        return
    raise Uninflatable(f"it is encoded as {coding[:40]!r}")


def _zstd(raw: bytes) -> Iterator[bytes]:
    """zstd's decoder has no output bound: it is fed `_ZSTD_STEP` bytes at a time (a zstd
    block inflates to at most 128 kB and takes at least a few bytes, so one step yields at
    most a few MB)."""
    decompressor = zstandard.ZstdDecompressor().decompressobj()
    try:
        for at in range(0, len(raw), _ZSTD_STEP):
            yield decompressor.decompress(raw[at : at + _ZSTD_STEP])
            if decompressor.eof:
                return
    except zstandard.ZstdError as err:
        raise Uninflatable(f"it is not valid zstd ({err})") from None
    raise Uninflatable("it is cut short (zstd)")


def _zlib(raw: bytes, coding: str, step: int) -> Iterator[bytes]:
    wbits = _GZIP_OR_ZLIB
    if coding == "deflate" and (raw[0] & 0x0F != 8 or int.from_bytes(raw[:2], "big") % 31):
        wbits = _RAW_DEFLATE  # no zlib header: raw deflate
    inflater = zlib.decompressobj(wbits)
    data = raw
    try:
        while not inflater.eof:
            piece = inflater.decompress(data, step)
            if not piece and not data:
                break  # all input used, nothing more to come: cut short
            yield piece
            data = inflater.unconsumed_tail
    except zlib.error as err:
        raise Uninflatable(f"it is not valid {coding} ({err})") from None
    if not inflater.eof:
        raise Uninflatable(f"it is cut short ({coding})")
