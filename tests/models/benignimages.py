"""Benign images for the image classifier: the photographs `skimage.data` ships and generated
pictures of the kinds a classifier of skin tends to trip on (skin tones, beige, faces, close
crops) or that fill a child's screen (text, web pages, gradients).  Used by the tests and by
bench/images; nothing here is explicit, and nothing is downloaded.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

# Every `skimage.data` image whose file is inside the scikit-image wheel (the others would be
# downloaded, which tests never do).  `lfw_subset` (25×25 faces) is too small to be scanned.
SKIMAGE_OFFLINE = (
    "astronaut", "binary_blobs", "brick", "camera", "cat", "cell", "checkerboard", "chelsea",
    "clock", "coffee", "coins", "colorwheel", "grass", "gravel", "horse", "hubble_deep_field",
    "immunohistochemistry", "logo", "microaneurysms", "moon", "page", "retina", "rocket",
    "shepp_logan_phantom", "stereo_motorcycle", "text",
)  # fmt: skip

SKIN_TONES = ((255, 224, 196), (241, 194, 167), (224, 172, 139), (198, 134, 94),
              (161, 102, 72), (110, 70, 50), (232, 190, 172), (245, 215, 190))  # fmt: skip


def as_rgb(array: npt.NDArray[np.generic]) -> Image.Image:
    """An RGB picture from any skimage array (bool, float 0..1, grey, RGBA)."""
    values = np.asarray(array)
    if values.dtype == bool:
        values = values.astype(np.uint8) * 255
    elif values.dtype.kind == "f":
        values = np.clip(values / max(float(values.max()), 1e-9) * 255, 0, 255).astype(np.uint8)
    values = values.astype(np.uint8)
    if values.ndim == 2:
        values = np.stack([values] * 3, axis=-1)
    return Image.fromarray(values[..., :3])


def skimage_photos() -> Iterator[tuple[str, Image.Image]]:
    import skimage.data

    for name in SKIMAGE_OFFLINE:
        loaded = getattr(skimage.data, name)()
        if name == "stereo_motorcycle":
            yield f"{name}_left", as_rgb(loaded[0])
            yield f"{name}_right", as_rgb(loaded[1])
        else:
            yield name, as_rgb(loaded)


def encoded(picture: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    with io.BytesIO() as out:
        picture.save(out, format=fmt, **options)
        return out.getvalue()


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def gradients() -> Iterator[tuple[str, Image.Image]]:
    ramp = np.linspace(0, 1, 640, dtype=np.float32)
    pairs = (((0, 0, 0), (255, 255, 255)), ((20, 40, 160), (250, 200, 80)),
             ((255, 220, 190), (180, 110, 80)), ((200, 30, 60), (30, 200, 120)))  # fmt: skip
    for i, (start, end) in enumerate(pairs):
        line = np.outer(ramp, np.subtract(end, start)) + start
        horizontal = np.broadcast_to(line[np.newaxis], (480, 640, 3))
        yield f"gradient-h{i}", Image.fromarray(horizontal.astype(np.uint8))
        yield f"gradient-v{i}", Image.fromarray(horizontal.transpose(1, 0, 2).astype(np.uint8))
    yy, xx = np.mgrid[0:512, 0:512]
    radius = np.hypot(yy - 256, xx - 256) / 362
    for i, (inner, outer) in enumerate((((241, 194, 167), (90, 50, 40)),
                                        ((255, 255, 255), (20, 60, 140)))):  # fmt: skip
        tone = np.outer(radius.ravel(), np.subtract(outer, inner)) + inner
        yield f"gradient-radial{i}", Image.fromarray(tone.reshape(512, 512, 3).astype(np.uint8))


_PROSE = (
    "the quick brown fox jumps over the lazy dog while children read books about planets "
    "oceans and volcanoes in the school library every tuesday"
)


def _lines(rng: np.random.Generator, count: int, words: int) -> list[str]:
    return [" ".join(rng.choice(_PROSE.split(), size=words)) for _ in range(count)]


def text_images() -> Iterator[tuple[str, Image.Image]]:
    rng = np.random.default_rng(7)
    for i, (ink, paper, size) in enumerate(
        (
            ((0, 0, 0), (255, 255, 255), 18),
            ((255, 255, 255), (0, 0, 0), 24),
            ((30, 30, 120), (255, 240, 220), 32),
            ((80, 40, 20), (241, 194, 167), 20),
        )  # fmt: skip
    ):
        picture = Image.new("RGB", (800, 600), paper)
        draw = ImageDraw.Draw(picture)
        for row, line in enumerate(_lines(rng, 600 // (size + 8), 8)):
            draw.text((20, 10 + row * (size + 8)), line, fill=ink, font=_font(size))
        yield f"text{i}", picture


def web_pages() -> Iterator[tuple[str, Image.Image]]:
    """Screens of made-up pages: a header, a menu, text columns, picture boxes, buttons."""
    rng = np.random.default_rng(11)
    themes = (((33, 97, 196), (255, 255, 255), (240, 240, 240)),
              ((20, 20, 20), (250, 250, 245), (255, 220, 190)),
              ((200, 60, 40), (255, 250, 240), (230, 200, 170)),
              ((60, 140, 80), (245, 245, 245), (224, 172, 139)))  # fmt: skip
    for i, (bar, page, box) in enumerate(themes):
        picture = Image.new("RGB", (1024, 768), page)
        draw = ImageDraw.Draw(picture)
        draw.rectangle((0, 0, 1024, 64), fill=bar)
        draw.text((24, 18), "Science Club", fill=(255, 255, 255), font=_font(26))
        for n, item in enumerate(("Home", "Projects", "Events", "Contact")):
            draw.text((600 + n * 100, 24), item, fill=(255, 255, 255), font=_font(16))
        draw.rectangle((24, 88, 240, 740), fill=box)
        for n in range(8):
            draw.text((40, 110 + n * 40), f"Topic {n + 1}", fill=(40, 40, 40), font=_font(16))
        for column in range(2):
            x = 270 + column * 370
            draw.rectangle(
                (x, 90, x + 340, 290), fill=tuple(int(v) for v in rng.integers(60, 220, 3))
            )
            for row, line in enumerate(_lines(rng, 16, 6)):
                draw.text((x, 305 + row * 24), line, fill=(50, 50, 50), font=_font(15))
            draw.rounded_rectangle((x, 700, x + 140, 740), radius=8, fill=bar)
            draw.text((x + 30, 710), "Read more", fill=(255, 255, 255), font=_font(16))
        yield f"webpage{i}", picture


def skin_shapes() -> Iterator[tuple[str, Image.Image]]:
    """Skin-toned ellipses and blobs on plain and busy grounds, flat skin, beige noise."""
    rng = np.random.default_rng(3)
    grounds = ((255, 255, 255), (30, 30, 30), (70, 120, 200), (250, 240, 220))
    for i, tone in enumerate(SKIN_TONES):
        picture = Image.new("RGB", (640, 480), grounds[i % len(grounds)])
        draw = ImageDraw.Draw(picture)
        draw.ellipse((120, 60, 520, 420), fill=tone)
        shade = tuple(max(0, c - 40) for c in tone)
        draw.ellipse((220, 160, 420, 330), fill=shade)
        yield f"skin-ellipse{i}", picture
    for i, tone in enumerate(SKIN_TONES[:4]):
        picture = Image.new("RGB", (512, 512), tone)
        draw = ImageDraw.Draw(picture)
        for _ in range(12):
            x, y = (int(v) for v in rng.integers(0, 480, 2))
            r = int(rng.integers(20, 120))
            other = SKIN_TONES[int(rng.integers(0, len(SKIN_TONES)))]
            draw.ellipse((x - r, y - r, x + r, y + r), fill=other)
        yield f"skin-blobs{i}", picture
    for i, tone in enumerate(SKIN_TONES[:3]):
        yield f"skin-flat{i}", Image.new("RGB", (400, 400), tone)
    for i, (base, spread) in enumerate((((230, 205, 170), 25), ((210, 180, 140), 40),
                                        ((245, 222, 196), 15))):  # fmt: skip
        noise = rng.normal(0, spread, (480, 640, 1)) + np.array(base)
        yield f"beige-noise{i}", Image.fromarray(np.clip(noise, 0, 255).astype(np.uint8))


def cartoon_faces() -> Iterator[tuple[str, Image.Image]]:
    for i, (skin, ground) in enumerate(
        (
            ((255, 220, 180), (120, 200, 255)),
            ((198, 134, 94), (255, 255, 255)),
            ((255, 205, 0), (90, 160, 90)),
        )  # fmt: skip
    ):
        picture = Image.new("RGB", (512, 512), ground)
        draw = ImageDraw.Draw(picture)
        draw.ellipse((96, 80, 416, 440), fill=skin, outline=(0, 0, 0), width=6)
        for x in (190, 322):
            draw.ellipse(
                (x - 30, 200, x + 30, 260), fill=(255, 255, 255), outline=(0, 0, 0), width=4
            )
            draw.ellipse((x - 12, 218, x + 12, 242), fill=(0, 0, 0))
        draw.arc((170, 260, 342, 380), start=20, end=160, fill=(160, 30, 30), width=8)
        draw.polygon(((256, 250), (240, 300), (272, 300)), fill=tuple(max(0, c - 50) for c in skin))
        draw.pieslice((96, 40, 416, 200), start=180, end=360, fill=(80, 50, 20))
        yield f"cartoon-face{i}", picture


def astronaut_crops() -> Iterator[tuple[str, Image.Image]]:
    """Face and neck of `skimage.data.astronaut()`, 80-140 px cut close and blown up 3.6-9.6
    times: a screen of skin.  (Tighter crops, 50-60 px blown up ten times, can score up to 0.92:
    bench/images/README.md.)"""
    import skimage.data

    photo = Image.fromarray(skimage.data.astronaut())
    boxes = {"face": (160, 20, 300, 160), "lower-face": (170, 70, 270, 170),
             "chin-neck": (185, 120, 265, 200), "neck": (180, 150, 260, 230)}  # fmt: skip
    for name, box in boxes.items():
        crop = photo.crop(box)
        for side in (512, 768):
            yield f"astronaut-{name}-{side}", crop.resize((side, side), Image.Resampling.BICUBIC)


GENERATED: tuple[Callable[[], Iterator[tuple[str, Image.Image]]], ...] = (
    gradients, text_images, web_pages, skin_shapes, cartoon_faces, astronaut_crops,
)  # fmt: skip


def generated_images() -> Iterator[tuple[str, Image.Image]]:
    for make in GENERATED:
        yield from make()


def benign_images() -> Iterator[tuple[str, Image.Image]]:
    yield from skimage_photos()
    yield from generated_images()
