"""Safe decoding: every web format decodes, hostile and cut bytes are `Unscannable` and only
that, and the pixel limit is checked from the header before anything is allocated."""

from __future__ import annotations

import random
import struct
import threading
import zlib

import numpy as np
import pytest
import skimage.data
from PIL import Image

from abhaya.models.imagedecode import (
    DecodedImage,
    Unscannable,
    decode,
    sniff_format,
)
from tests.models.benignimages import encoded

ASTRONAUT = Image.fromarray(skimage.data.astronaut())


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_each_web_format_decodes_to_rgb(fmt: str) -> None:
    data = encoded(ASTRONAUT, fmt)
    assert sniff_format(data) == fmt.lower()
    decoded = decode(data)
    assert decoded is not None
    assert (decoded.format, decoded.width, decoded.height) == (fmt.lower(), 512, 512)
    assert decoded.image.mode == "RGB" and decoded.image.size == (512, 512)
    mean = np.asarray(decoded.image, dtype=np.float32).mean(axis=(0, 1))
    assert np.allclose(mean, np.asarray(ASTRONAUT, dtype=np.float32).mean(axis=(0, 1)), atol=6)


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "RGBA", "I;16"])
def test_other_pixel_modes_become_rgb(mode: str) -> None:
    picture = ASTRONAUT.convert("L").convert(mode) if mode == "I;16" else ASTRONAUT.convert(mode)
    decoded = decode(encoded(picture, "PNG"))
    assert decoded is not None and decoded.image.mode == "RGB"


def test_transparency_is_laid_over_white() -> None:
    clear = Image.new("RGBA", (100, 100), (200, 0, 0, 0))
    decoded = decode(encoded(clear, "PNG"))
    assert decoded is not None
    assert decoded.image.getpixel((50, 50)) == (255, 255, 255)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_an_animation_gives_its_first_frame(fmt: str) -> None:
    frames = [Image.new("RGB", (128, 96), colour) for colour in ((0, 0, 255), (255, 0, 0))]
    data = encoded(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    decoded = decode(data)
    assert decoded is not None and (decoded.width, decoded.height) == (128, 96)
    red, green, blue = decoded.image.getpixel((64, 48))  # type: ignore[misc]
    assert blue > 200 and red < 50 and green < 50


@pytest.mark.parametrize("size", [(63, 200), (200, 63), (16, 16), (1, 1)])
def test_an_image_under_64_pixels_a_side_is_skipped(size: tuple[int, int]) -> None:
    assert decode(encoded(Image.new("RGB", size, (9, 9, 9)), "PNG")) is None
    assert decode(encoded(Image.new("RGB", (64, 64), (9, 9, 9)), "PNG")) is not None


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims a size in its header and holds one tiny compressed row."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", row) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(100_000, 100_000), (10_000, 10_000), (5001, 5000)])
def test_a_header_claiming_too_many_pixels_is_refused_before_decoding(
    size: tuple[int, int],
) -> None:
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(Unscannable) as raised:
        decode(_png_header(*size))
    assert raised.value.reason == "too many pixels"
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 20_000  # 5001×5000 RGB alone would be 75 MB


def test_the_pixel_limit_is_the_callers() -> None:
    data = encoded(Image.new("RGB", (300, 300)), "PNG")
    assert decode(data, max_pixels=90_000) is not None
    with pytest.raises(Unscannable, match="too many pixels"):
        decode(data, max_pixels=89_999)


def test_a_big_image_is_decoded_small_but_keeps_what_pdq_and_the_classifier_read() -> None:
    big = ASTRONAUT.resize((3000, 2000))
    for fmt in ("JPEG", "PNG"):
        decoded = decode(encoded(big, fmt))
        assert decoded is not None and (decoded.width, decoded.height) == (3000, 2000)
        long_side, short_side = max(decoded.image.size), min(decoded.image.size)
        assert 512 <= long_side < 1024 and short_side >= 256, (fmt, decoded.image.size)
    page_photo = decode(encoded(ASTRONAUT.resize((1024, 768)), "JPEG"))
    assert page_photo is not None and page_photo.image.size == (512, 384)
    small = decode(encoded(ASTRONAUT.resize((900, 600)), "JPEG"))
    assert small is not None and small.image.size == (900, 600)
    # A panorama keeps its short side for the classifier, however long it is.
    panorama = decode(encoded(ASTRONAUT.resize((4000, 300)), "JPEG"))
    assert panorama is not None and panorama.image.size == (4000, 300)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_a_cut_file_is_truncated(fmt: str) -> None:
    data = encoded(ASTRONAUT, fmt)
    for cut in (len(data) // 3, len(data) // 2, 40):
        with pytest.raises(Unscannable) as raised:
            decode(data[:cut])
        assert raised.value.reason == "truncated"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not an image"),
        (b"<html><body>hello</body></html>", "not an image"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "unsupported format"),
        (b"BM" + bytes(100), "unsupported format"),
        (b"II*\x00" + bytes(100), "unsupported format"),
    ],
)
def test_what_is_not_a_web_image_says_so(data: bytes, reason: str) -> None:
    assert sniff_format(data) is None
    with pytest.raises(Unscannable) as raised:
        decode(data)
    assert raised.value.reason == reason


def test_a_bmp_with_a_jpeg_content_type_is_still_refused() -> None:
    """The magic bytes decide, and Pillow may open only the sniffed format."""
    bmp = encoded(ASTRONAUT, "BMP")
    with pytest.raises(Unscannable, match="unsupported format"):
        decode(bmp)
    forged = b"\xff\xd8\xff" + bmp  # a JPEG's magic in front of another format
    with pytest.raises(Unscannable):
        decode(forged)


def _garbled(rng: random.Random, samples: list[bytes]) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:  # random bytes
        return rng.randbytes(rng.randrange(0, 4000))
    sample = rng.choice(samples)
    if kind == 1:  # a real header, then random bytes
        return sample[: rng.randrange(2, 64)] + rng.randbytes(rng.randrange(0, 4000))
    if kind == 2:  # cut anywhere
        return sample[: rng.randrange(0, len(sample))]
    flipped = bytearray(sample)  # bytes flipped in place
    for _ in range(rng.randrange(1, 40)):
        flipped[rng.randrange(len(flipped))] = rng.randrange(256)
    return bytes(flipped)


def test_500_random_and_garbled_inputs_are_unscannable_or_skipped_never_anything_else() -> None:
    rng = random.Random(20261201)
    small = ASTRONAUT.resize((160, 120))
    samples = [encoded(small, fmt) for fmt in ("JPEG", "PNG", "WEBP", "GIF")]
    outcomes: dict[str, int] = {}
    for _ in range(500):
        data = _garbled(rng, samples)
        try:
            result = decode(data)
        except Unscannable as err:
            outcome = err.reason
        else:
            outcome = "decoded" if isinstance(result, DecodedImage) else "skipped"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert sum(outcomes.values()) == 500
    assert outcomes.get("not an image", 0) > 50 and outcomes.get("truncated", 0) > 50


def test_decoding_from_several_threads_gives_the_same_pictures() -> None:
    inputs = [encoded(ASTRONAUT.rotate(angle), fmt) for angle in (0, 90) for fmt in ("JPEG", "PNG")]
    expected = [_pixels(data) for data in inputs]
    failures: list[str] = []

    def work() -> None:
        for _ in range(5):
            for data, want in zip(inputs, expected, strict=True):
                if _pixels(data) != want:
                    failures.append("differs")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def _pixels(data: bytes) -> bytes:
    decoded = decode(data)
    assert decoded is not None
    return decoded.image.tobytes()
