"""The generated sites the page-load benchmark serves, written to a folder per host name
(`SITE/<host>/<path>`, as nginx's `root SITE/$host` reads them).

- `news`: one article page on www.news.example with 98 resources over 8 host names: 12 style
  sheets, 24 scripts, 52 images, 4 web fonts (used by the text, so they load before `load`),
  and 6 API requests (fetch, started when the document is parsed).  Sizes are spread as on a
  news site (scripts and sheets 4-60 KB, pictures 3-70 KB).
- `hosts`: a page on www.photos.example with 40 small pictures, each from a host of its own.

Everything is generated, benign (gradients, filler code and text), from a seed.
"""

from __future__ import annotations

import io
import json
import random
from dataclasses import dataclass
from pathlib import Path

NEWS_HOSTS = [
    "www.news.example",
    "static.news.example",
    "img.news.example",
    "cdn.news.example",
    "fonts.news.example",
    "api.news.example",
    "media.news.example",
    "widgets.news.example",
]
PHOTO_PAGE_HOST = "www.photos.example"
PHOTO_HOSTS = [f"p{n}.photos.example" for n in range(40)]
NAMES = [*NEWS_HOSTS, PHOTO_PAGE_HOST, *PHOTO_HOSTS]
NEWS_URL = f"https://{NEWS_HOSTS[0]}/article.html"
HOSTS_URL = f"https://{PHOTO_PAGE_HOST}/gallery.html"
NEWS_RESOURCES = 98
NO_FAVICON = "<link rel=icon href='data:,'>"
"""A favicon in the page: otherwise the browser asks each page's host for one (a 404)."""
FONT_FOLDERS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype")]


@dataclass(frozen=True)
class Page:
    name: str
    url: str
    resources: int
    """Requests the page makes besides the document itself."""


PAGES = [Page("news", NEWS_URL, NEWS_RESOURCES), Page("40 hosts", HOSTS_URL, len(PHOTO_HOSTS))]


def _write(root: Path, host: str, path: str, body: bytes) -> str:
    target = root / host / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)
    return f"https://{host}{path}"


def _picture(rng: random.Random, width: int, height: int, kind: str) -> bytes:
    """A gradient with a few rectangles; JPEG pictures get some grain, so they compress as
    photos do rather than to nothing."""
    import numpy as np
    from PIL import Image, ImageDraw

    a = np.array([rng.randrange(256) for _ in range(3)], dtype=np.float32)
    b = np.array([rng.randrange(256) for _ in range(3)], dtype=np.float32)
    t = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    s = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    mix = (t * 0.6 + s * 0.4).clip(0, 1)
    pixels = a * (1 - mix) + b * mix
    if kind == "JPEG":
        noise = np.random.default_rng(rng.randrange(2**32)).normal(0, 10, (height, width, 1))
        pixels = pixels + noise.astype(np.float32)
    picture = Image.fromarray(
        np.broadcast_to(pixels.clip(0, 255), (height, width, 3)).astype(np.uint8)
    )
    draw = ImageDraw.Draw(picture)
    for _ in range(rng.randrange(2, 6)):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        box = (
            x0,
            y0,
            x0 + rng.randrange(5, width // 2 + 6),
            y0 + rng.randrange(5, height // 2 + 6),
        )
        draw.rectangle(box, fill=tuple(rng.randrange(256) for _ in range(3)))
    buffer = io.BytesIO()
    picture.save(buffer, format=kind, **({"quality": 80} if kind == "JPEG" else {}))
    return buffer.getvalue()


def _script(rng: random.Random, index: int, size: int) -> bytes:
    lines = [f"/* generated module {index} */", "window.__mods = (window.__mods || 0) + 1;"]
    n = 0
    while sum(len(line) + 1 for line in lines) < size:
        a, b = rng.randrange(1000), rng.randrange(1000)
        lines.append(
            f"function m{index}_f{n}(x) {{ let s = {a}; for (let i = 0; i < 3; i++) "
            f"{{ s = (s * {b} + x + i) % 9973; }} return 'item-' + s; }}"
        )
        n += 1
    lines.append(f"window.__last = m{index}_f0(1);")
    return "\n".join(lines).encode()


def _sheet(rng: random.Random, index: int, size: int) -> bytes:
    rules = [f"/* generated sheet {index} */"]
    n = 0
    while sum(len(rule) + 1 for rule in rules) < size:
        colour = "".join(rng.choice("0123456789abcdef") for _ in range(6))
        rules.append(
            f".s{index}-c{n} {{ color: #{colour}; margin: {rng.randrange(20)}px; "
            f"padding: {rng.randrange(20)}px {rng.randrange(20)}px; "
            f"line-height: 1.{rng.randrange(9)}; }}"
        )
        n += 1
    return "\n".join(rules).encode()


def _fonts() -> list[bytes]:
    """Four real fonts from the system (so the browser decodes them); filler bytes if there
    are none (the request still loads, the font is not used)."""
    found: list[Path] = []
    for folder in FONT_FOLDERS:
        if folder.is_dir():
            found = sorted(p for p in folder.rglob("*.ttf") if p.stat().st_size < 800_000)
            if len(found) >= 4:
                break
    if len(found) >= 4:
        return [path.read_bytes() for path in found[:4]]
    return [bytes(random.Random(n).randbytes(40_000)) for n in range(4)]


def write_sites(root: Path, seed: int = 12) -> None:
    """Both pages and every resource, under `root/<host>/`."""
    rng = random.Random(seed)
    _write_news(root, rng)
    _write_hosts(root, rng)


def _write_news(root: Path, rng: random.Random) -> None:
    www, static, img, cdn, fonts, api, media, widgets = NEWS_HOSTS
    head: list[str] = []
    body: list[str] = []
    count = 0
    for n in range(12):
        url = _write(
            root,
            static if n % 3 else cdn,
            f"/css/s{n}.css",
            _sheet(rng, n, rng.randrange(4_000, 40_000)),
        )
        head.append(f'<link rel="stylesheet" href="{url}">')
        count += 1
    families = []
    for n, data in enumerate(_fonts()):
        url = _write(root, fonts, f"/f/face{n}.ttf", data)
        families.append(f"face{n}")
        head.append(
            f"<style>@font-face {{ font-family: face{n}; src: url({url}) format('truetype'); }}"
            f" .font{n} {{ font-family: face{n}; }}</style>"
        )
        count += 1
    for n in range(24):
        host = [static, cdn, widgets, media][n % 4]
        url = _write(root, host, f"/js/m{n}.js", _script(rng, n, rng.randrange(4_000, 60_000)))
        (head if n < 8 else body).append(
            f'<script src="{url}"{" defer" if 8 <= n < 16 else ""}></script>'
        )
        count += 1
    for n in range(52):
        kind = "JPEG" if n % 4 else "PNG"
        width, height = (
            (rng.randrange(300, 700), rng.randrange(180, 420))
            if n % 5 == 0
            else (
                rng.randrange(80, 320),
                rng.randrange(60, 200),
            )
        )
        host = [img, media, cdn][n % 3]
        ext = "jpg" if kind == "JPEG" else "png"
        url = _write(root, host, f"/i/p{n}.{ext}", _picture(rng, width, height, kind))
        text = " ".join(
            rng.choice(["market", "weather", "city", "match", "report", "today"]) for _ in range(12)
        )
        body.append(
            f'<div class="story font{n % 4}"><img src="{url}" width="{width // 2}" '
            f'height="{height // 2}" alt="picture {n}"><p>{text}</p></div>'
        )
        count += 1
    calls = []
    for n in range(6):
        document = {
            "items": [{"id": i, "title": f"headline {n}-{i}"} for i in range(rng.randrange(5, 40))]
        }
        url = _write(root, api, f"/v1/feed{n}.json", json.dumps(document).encode())
        calls.append(url)
        count += 1
    assert count == NEWS_RESOURCES, count
    fetches = (
        "<script>for (const u of " + json.dumps(calls) + ") "
        "fetch(u).then(r => r.json()).then(d => { window.__feeds = (window.__feeds || 0) + 1; });"
        "</script>"
    )
    html = (
        "<!doctype html><html><head><meta charset=utf-8><title>news</title>"
        + NO_FAVICON
        + "".join(head)
        + "</head><body><h1>Today</h1>"
        + fetches
        + "".join(body)
        + "</body></html>"
    )
    _write(root, www, "/article.html", html.encode())


def _write_hosts(root: Path, rng: random.Random) -> None:
    tags = []
    for n, host in enumerate(PHOTO_HOSTS):
        width, height = rng.randrange(40, 120), rng.randrange(30, 90)
        url = _write(root, host, f"/t/{n}.png", _picture(rng, width, height, "PNG"))
        tags.append(f'<img src="{url}" width="{width}" height="{height}">')
    html = (
        "<!doctype html><html><head><meta charset=utf-8><title>gallery</title>"
        + NO_FAVICON
        + "</head><body>"
        + "".join(tags)
        + "</body></html>"
    )
    _write(root, PHOTO_PAGE_HOST, "/gallery.html", html.encode())
