"""Decoding an image from the network, safely, for the image classifier and the PDQ hash.

The bytes come from any server, so this module trusts nothing about them: the format is read
from the magic bytes (servers lie about content types), Pillow may only use the four formats a
web page shows (JPEG, PNG, WebP, GIF), and the pixel count is checked from the header before a
single pixel is decoded, raising `Unscannable` ourselves (Pillow's DecompressionBombWarning is
only a warning, and its error comes at twice its own default limit).  Whatever goes wrong inside
Pillow on hostile or truncated bytes becomes `Unscannable` with a reason in plain words, so the
caller has one exception to handle and the policy decides what an unscannable image means.

Thread-safe: every call works on its own objects, and the four Pillow plugins are imported (and
so registered) here, once, instead of lazily by the first calls racing in a worker pool.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Final

from PIL import GifImagePlugin, Image, JpegImagePlugin, PngImagePlugin, WebPImagePlugin

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "MIN_SIDE",
    "DecodedImage",
    "Unscannable",
    "decode",
    "sniff_format",
]

# 25 million pixels: a 24-megapixel camera photo (6000×4000) still passes; a bigger picture is
# rare on a web page, and one decoded non-JPEG image of this size holds ~75 MB in a worker.
DEFAULT_MAX_PIXELS: Final = 25_000_000
# Icons, spacers and tracking pixels are not worth a model run and the classifier cannot judge
# them; an image narrower or lower than this is skipped (`decode` returns None).
MIN_SIDE: Final = 64
# What the readers of a decoded image need: the classifier resizes to 256×256, and PDQ hashes
# a copy at most 512 px on its long side (`pdq.MAX_SIDE`).  A bigger image is decoded or
# reduced to the smallest size that keeps both (1024×768 becomes 512×384): the pixels nobody
# reads are never made.
KEEP_LONG_SIDE: Final = 512
KEEP_SHORT_SIDE: Final = 256

# Our name for each format, and the name of the Pillow plugin allowed to open it.
_PILLOW_NAMES: Final = {
    "jpeg": JpegImagePlugin.JpegImageFile.format,
    "png": PngImagePlugin.PngImageFile.format,
    "webp": WebPImagePlugin.WebPImageFile.format,
    "gif": GifImagePlugin.GifImageFile.format,
}

# Other images a server may send: named so the reason says "unsupported format", not "not an
# image" (both are unscannable; the words are for the parent reading the log).
_OTHER_IMAGES: Final = (
    b"BM",  # BMP
    b"II*\x00",  # TIFF, little-endian
    b"MM\x00*",  # TIFF, big-endian
    b"\x00\x00\x01\x00",  # ICO
    b"\xff\x0a",  # JPEG XL codestream
    b"\x00\x00\x00\x0cJXL ",  # JPEG XL container
    b"8BPS",  # Photoshop
)


class Unscannable(Exception):  # noqa: N818 - the name is the verdict the policy reads
    """The bytes are not an image this module can decode safely; `reason` says why in a few
    plain words ("not an image", "unsupported format", "too many pixels", "truncated",
    "damaged")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DecodedImage:
    """A decoded image: `format` is the sniffed one, `width` and `height` the original size,
    and `image` an RGB picture, possibly reduced (never below 512 px on its long side or
    256 on its short side where the original had them)."""

    format: str
    width: int
    height: int
    image: Image.Image


def sniff_format(data: bytes) -> str | None:
    """ "jpeg", "png", "webp" or "gif" from the first bytes, or None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def decode(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> DecodedImage | None:
    """The image in `data` (the first frame of an animation), or None when it is smaller than
    64×64 (skipped).  Raises `Unscannable`, and nothing else, for bytes it cannot decode."""
    kind = sniff_format(data)
    if kind is None:
        other = data.startswith(_OTHER_IMAGES) or data[4:12] in (b"ftypavif", b"ftypheic")
        head = data[:256].lstrip().lower()
        svg = head.startswith((b"<svg", b"<?xml")) and b"<svg" in head
        raise Unscannable("unsupported format" if other or svg else "not an image")
    try:
        return _decode(kind, data, max_pixels)
    except Unscannable:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own limits (~89 and ~179 million pixels) are above ours, so this only fires
        # when a caller passes a bigger `max_pixels`, or a warning filter turns it into an error.
        raise Unscannable("too many pixels") from None
    except MemoryError:
        raise Unscannable("too many pixels") from None
    except Exception:  # noqa: BLE001 - hostile bytes reach parser corners (OSError, EOFError,
        # struct.error, SyntaxError, IndexError, ValueError, ...): an undecodable image each.
        raise Unscannable("truncated" if _cut_short(kind, data) else "damaged") from None


def _cut_short(kind: str, data: bytes) -> bool:
    """Whether the bytes end before the format's end marker (a cut download, not a forgery)."""
    if kind == "jpeg":
        return not data.rstrip(b"\0").endswith(b"\xff\xd9")
    if kind == "png":
        return b"IEND" not in data[-16:]
    if kind == "gif":
        return not data.rstrip(b"\0").endswith(b";")
    return int.from_bytes(data[4:8], "little") + 8 > len(data)  # RIFF's own length (WebP)


def _decode(kind: str, data: bytes, max_pixels: int) -> DecodedImage | None:
    with Image.open(io.BytesIO(data), formats=[_PILLOW_NAMES[kind]]) as opened:
        width, height = opened.size
        if width <= 0 or height <= 0:
            raise Unscannable("damaged")
        if width * height > max_pixels:
            raise Unscannable("too many pixels")
        if width < MIN_SIDE or height < MIN_SIDE:
            return None
        if kind == "jpeg" and _reduction(width, height) >= 2:
            # libjpeg decodes at 1/2, 1/4 or 1/8 scale for a fraction of the work; `draft`
            # picks the smallest scale still at least the size asked for.
            scale = max(KEEP_LONG_SIDE / max(width, height), KEEP_SHORT_SIDE / min(width, height))
            opened.draft(opened.mode, (math.ceil(width * scale), math.ceil(height * scale)))
        opened.seek(0)  # the first frame of a GIF or an animated WebP
        opened.load()
        picture = _as_rgb(opened)
    factor = _reduction(*picture.size)
    if factor >= 2:  # a big PNG, GIF or WebP: reduce it as the JPEG draft does
        picture = picture.reduce(factor)
    return DecodedImage(kind, width, height, picture)


def _reduction(width: int, height: int) -> int:
    """The largest whole factor that keeps both sides the readers need."""
    return min(max(width, height) // KEEP_LONG_SIDE, min(width, height) // KEEP_SHORT_SIDE)


def _as_rgb(picture: Image.Image) -> Image.Image:
    """RGB, with any transparency laid over white as a page usually shows it."""
    transparent = picture.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        "transparency" in picture.info
    )
    if not transparent:
        return picture.convert("RGB")
    rgba = picture.convert("RGBA")
    flat = Image.new("RGB", rgba.size, (255, 255, 255))
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat
