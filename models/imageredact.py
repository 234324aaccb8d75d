"""What a child's browser gets instead of a flagged image: a blurred copy or a placeholder.

Both are small SVG documents with the original's width and height, so the page keeps its
layout whatever the image's size, and making one costs the same for a 64×64 icon as for a
6000×4000 photo:

- `blurred` embeds a copy of the image shrunk to at most `BLUR_SIDE` pixels on its long side
  and blurred again; the browser stretches it to the full size, which blurs it further.  At
  that size nothing in it can be recognised, only its colours: the page still looks like a
  page, not a wall of grey boxes.
- `placeholder` is a flat, neutral box.

Nothing is kept: the copy is made in memory, sent to the browser, and forgotten.
"""

from __future__ import annotations

import base64
import io

from PIL import Image, ImageFilter

BLUR_SIDE = 12
"""Long side, in pixels, of the copy inside a blurred image."""
SVG_TYPE = "image/svg+xml"
_FILL = "#d9dde3"


def blurred(image: Image.Image, width: int, height: int) -> bytes:
    """An SVG of `width`×`height` showing `image` shrunk to `BLUR_SIDE` pixels and blurred.

    `image` may be a reduced decode of the original; `width` and `height` are the original's.
    """
    small = image.convert("RGB")
    small.thumbnail((BLUR_SIDE, BLUR_SIDE), Image.Resampling.BOX)
    small = small.filter(ImageFilter.GaussianBlur(1))
    buffer = io.BytesIO()
    small.save(buffer, format="PNG")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return _svg(
        width,
        height,
        f'<image width="100%" height="100%" preserveAspectRatio="none" '
        f'href="data:image/png;base64,{data}"/>',
    )


def placeholder(width: int, height: int) -> bytes:
    """An SVG of `width`×`height`: a flat neutral box."""
    return _svg(width, height, f'<rect width="100%" height="100%" fill="{_FILL}"/>')


def _svg(width: int, height: int, body: str) -> bytes:
    width, height = max(int(width), 1), max(int(height), 1)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">{body}</svg>'
    ).encode("ascii")
