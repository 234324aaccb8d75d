"""PDQ hashes of decoded images (`pdqhash`, Python bindings to ThreatExchange's C++ hasher).

PDQ is meant to be computed on a downsampled image (ThreatExchange's `pdq/README.md`: the
algorithm itself reduces the luma to 64x64 with Jarosz filters, and its authors hash images
resized to at most 512 px for speed).  So an image larger than `MAX_SIDE` on its long side is
resized first: at 1024x768 that cuts the hash from ~22 ms to ~7 ms (resizing included), and
the hashes of the full and the resized image differ by 2-6 bits on generated shapes and scenes
and 14-16 on text posters (`tests/models/test_pdq.py`), inside the match distance of 31.

The hash types, the match rule and its constants are pure and live in `abhaya.filters.pdqmatch`
(the policy's hash lists are compiled there); they are re-exported here so image code needs one
import.  This module never imports `abhaya.agent`.
"""

from __future__ import annotations

import numpy as np
import pdqhash
from PIL import Image

from abhaya.filters.pdqmatch import MATCH_DISTANCE, MIN_QUALITY, PdqHash, hamming

__all__ = ["MATCH_DISTANCE", "MAX_SIDE", "MIN_QUALITY", "PdqHash", "hamming", "pdq_hash"]

MAX_SIDE = 512
"""Images are resized to at most this many pixels on the long side before hashing."""


def pdq_hash(image: Image.Image) -> PdqHash:
    """The PDQ hash and quality of an image (any mode; it is converted to RGB).

    The image is not changed.  Raises ValueError for an empty image."""
    width, height = image.size
    if not width or not height:
        raise ValueError(f"cannot hash an empty image ({width}x{height})")
    if image.mode != "RGB":  # first: palette and bilevel images resize by nearest pixel only
        image = image.convert("RGB")
    if max(width, height) > MAX_SIDE:
        scale = MAX_SIDE / max(width, height)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        # BILINEAR averages over the whole footprint when shrinking (Pillow scales its support),
        # and reducing_gap first box-reduces by a whole factor: fast, and no aliasing.
        image = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    vector, quality = pdqhash.compute(np.asarray(image, dtype=np.uint8))
    # `compute` gives the 256 bits most significant first, as ThreatExchange's hex form does.
    bits = np.packbits(np.asarray(vector, dtype=np.uint8)).tobytes()
    return PdqHash(bits, int(quality))
