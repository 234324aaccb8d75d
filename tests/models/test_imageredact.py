"""What replaces a flagged image: an SVG of the same size, blurred or flat, that browsers
lay out exactly like the original."""

from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET

from PIL import Image

from abhaya.models.imageredact import BLUR_SIDE, blurred, placeholder

SVG = "{http://www.w3.org/2000/svg}"


def _striped(width: int, height: int) -> Image.Image:
    image = Image.new("RGB", (width, height), (240, 240, 240))
    for x in range(0, width, 8):
        image.paste((20, 60, 200), (x, 0, x + 4, height))
    return image


def test_a_blurred_copy_keeps_the_size_and_only_a_tiny_picture() -> None:
    svg = ET.fromstring(blurred(_striped(800, 600), 1600, 1200))
    assert (svg.get("width"), svg.get("height")) == ("1600", "1200")
    image = svg.find(f"{SVG}image")
    assert image is not None
    href = image.get("href", "")
    inner = Image.open(io.BytesIO(base64.b64decode(href.removeprefix("data:image/png;base64,"))))
    assert max(inner.size) <= BLUR_SIDE
    # The stripes (4 px wide) cannot survive at that size: the copy is close to flat.
    low, high = inner.convert("L").getextrema()
    assert high - low < 60


def test_a_placeholder_is_a_flat_box_of_the_same_size() -> None:
    svg = placeholder(300, 150).decode("ascii")
    assert re.search(r'width="300" height="150"', svg)
    assert "<image" not in svg and "<rect" in svg


def test_an_unknown_size_still_gives_a_valid_image() -> None:
    svg = ET.fromstring(placeholder(0, 0))
    assert (svg.get("width"), svg.get("height")) == ("1", "1")
