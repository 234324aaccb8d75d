"""One call learns everything from an image's bytes, and remembers it by their SHA-256."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from abhaya.models.imagemodel import ImageClassifier
from abhaya.models.imagescan import ImageScanner


def _png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", size, colour)
    image.paste((255, 255, 255), (10, 10, size[0] // 2, size[1] // 2))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def scanner() -> ImageScanner:
    return ImageScanner(ImageClassifier.load(), cache_entries=8)


def test_a_scan_has_the_hash_score_pdq_and_size(scanner: ImageScanner) -> None:
    data = _png((300, 200), (30, 90, 160))
    scan = scanner.scan(data)
    assert scan.sha256 == hashlib.sha256(data).hexdigest()
    assert (scan.format, scan.width, scan.height, scan.skipped, scan.unscannable) == (
        "png",
        300,
        200,
        False,
        "",
    )
    assert scan.score is not None and 0 <= scan.score <= 1
    assert scan.pdq is not None and len(scan.pdq.hex) == 64
    assert scan.decoded is not None and not scan.cached


def test_the_same_bytes_are_answered_from_the_cache_without_pixels(scanner: ImageScanner) -> None:
    data = _png((300, 200), (40, 90, 160))
    first = scanner.scan(data)
    again = scanner.scan(data)
    assert again.cached and again.decoded is None
    assert (again.score, again.pdq) == (first.score, first.pdq)


def test_a_cached_scan_without_a_score_is_completed_when_one_is_asked(
    scanner: ImageScanner,
) -> None:
    data = _png((300, 200), (50, 90, 160))
    hashed = scanner.scan(data, classify=False)
    assert hashed.score is None and hashed.pdq is not None
    scored = scanner.scan(data)
    assert scored.score is not None and not scored.cached


def test_bad_and_tiny_images_are_answered_not_raised(scanner: ImageScanner) -> None:
    assert scanner.scan(b"\x89PNG\r\n\x1a\n" + bytes(40)).unscannable
    assert scanner.scan(b"hello").unscannable == "not an image"
    tiny = scanner.scan(_png((40, 40), (1, 2, 3)))
    assert tiny.skipped and tiny.score is None
