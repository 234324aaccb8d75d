"""Images screened through the real agent: an HTTPS image server started here, httpx through
the proxy, the shipped classifier, and the encrypted store.

Only generated, benign images are used.  The positive path is reached by configuration: the
profile's threshold is set between the real scores of two generated pictures, so one is
"flagged" and the other is not; a known-image list is built from a generated picture's own
PDQ hash.  Tests that start an agent of their own come after those using the module's agent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import io
import json
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import trustme
from PIL import Image, ImageDraw

from abhaya.agent.store import EventKind, StoredEvent
from abhaya.agent.store.queries import EventFilter, events_page
from abhaya.models.imagedecode import decode
from abhaya.models.imagemodel import ImageClassifier
from tests.agent.conftest import MapHosts, RunningAgent, Upstream, start_agent

SITE = "pics.example"
HELD = "held.example"
"""A site of its own for the held-page test, so other tests' images do not count towards it."""
PAGE = f"https://{SITE}/gallery"


def _jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def warm_picture(size: tuple[int, int] = (320, 240)) -> Image.Image:
    """Soft warm-toned blobs on beige: among generated pictures, one the classifier scores
    higher than a cool chart (still far below its real threshold)."""
    rng = np.random.default_rng(7)
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([220 + 0 * x, 170 + 0 * x, 140 + 0 * x], axis=-1).astype(np.float64)
    for _ in range(6):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(30, 90)
        blob = np.exp(-(((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r)))[..., None]
        base = base * (1 - 0.4 * blob) + np.array([200, 140, 120]) * 0.4 * blob
    return Image.fromarray(base.clip(0, 255).astype(np.uint8))


def chart_picture(size: tuple[int, int] = (320, 240)) -> Image.Image:
    """Blue bars on white with grid lines: a picture no classifier mistakes."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for x in range(0, size[0], 20):
        draw.line((x, 0, x, size[1]), fill=(220, 220, 230))
    for number, left in enumerate(range(20, size[0] - 40, 50)):
        draw.rectangle((left, size[1] - 30 - 25 * number, left + 30, size[1] - 10), fill="navy")
    return image


@dataclass
class Served:
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    unsized: bool = False
    """Sent without a Content-Length: the body ends when the connection closes."""


@dataclass
class ImageSite:
    """An HTTPS server for SITE: each path answers its registered bytes and content type."""

    upstream: Upstream
    routes: dict[str, Served] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)


def _handler(site: ImageSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            site.requests.append({"path": self.path, **dict(self.headers)})
            served = site.routes.get(self.path, Served(b"<p>a page</p>", "text/html"))
            self.send_response(200)
            self.send_header("Content-Type", served.content_type)
            if not served.unsized:
                self.send_header("Content-Length", str(len(served.body)))
            for name, value in served.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(served.body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Quiet."""

    return Handler


@contextlib.contextmanager
def image_site(folder: Path) -> Iterator[ImageSite]:
    import ssl

    ca = trustme.CA()
    ca_file = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    site = ImageSite(Upstream(0, ca, ca_file))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(SITE, HELD, "other.example").configure_cert(context)
    server.socket = context.wrap_socket(
        server.socket, server_side=True, do_handshake_on_connect=False
    )
    site.upstream.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def classifier() -> ImageClassifier:
    return ImageClassifier.load()


@pytest.fixture(scope="module")
def threshold(classifier: ImageClassifier) -> float:
    """Between the chart's score and the warm picture's: the warm one is "flagged"."""
    warm = _score(classifier, _jpeg(warm_picture()))
    chart = _score(classifier, _jpeg(chart_picture()))
    assert chart < warm, (chart, warm)
    return (chart + warm) / 2


def _score(classifier: ImageClassifier, data: bytes) -> float:
    decoded = decode(data)
    assert decoded is not None
    return classifier.score(decoded)


def policy_with(threshold: float, extra: str = "") -> str:
    from tests.conftest import POLICY

    return (
        POLICY
        + f"\n[images]\nthreshold = {threshold!r}\npage_min_images = 4\npage_share = 0.5\n"
        + extra
    )


def start(folder: Path, site: ImageSite, policy: str) -> RunningAgent:
    return start_agent(
        folder,
        site.upstream,
        policy=policy,
        extra=[MapHosts([SITE, HELD, "other.example"], site.upstream.port)],
        allow_local_ports=frozenset({site.upstream.port}),
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImageSite]:
    with image_site(tmp_path_factory.mktemp("images")) as served:
        yield served


@pytest.fixture(scope="module")
def agent(
    tmp_path_factory: pytest.TempPathFactory, site: ImageSite, threshold: float
) -> Iterator[RunningAgent]:
    running = start(tmp_path_factory.mktemp("agent"), site, policy_with(threshold))
    yield running
    running.stop()


def fetch(agent: RunningAgent, path: str, referer: str = PAGE) -> tuple[int, str, bytes]:
    with agent.client() as client:
        reply = client.get(f"https://{SITE}{path}", headers={"Referer": referer})
    return reply.status_code, reply.headers.get("content-type", ""), reply.content


def image_events(agent: RunningAgent, text: str = "") -> list[StoredEvent]:
    assert agent.agent.services.events.flush(20)
    with contextlib.closing(agent.agent.store.connect(read_only=True)) as conn:
        page = events_page(conn, EventFilter(kinds=(EventKind.IMAGE,), text=text), limit=500)
    return list(page.events)


def test_a_benign_image_is_delivered_unchanged(agent: RunningAgent, site: ImageSite) -> None:
    body = _jpeg(chart_picture())
    site.routes["/chart.jpg"] = Served(body, "image/jpeg")
    assert fetch(agent, "/chart.jpg") == (200, "image/jpeg", body)


def test_a_flagged_image_is_blurred_to_the_same_size_and_recorded(
    agent: RunningAgent, site: ImageSite
) -> None:
    body = _jpeg(warm_picture((400, 300)))
    site.routes["/warm.jpg"] = Served(body, "image/jpeg")
    status, media, content = fetch(agent, "/warm.jpg", referer="https://other.example/")
    assert (status, media) == (200, "image/svg+xml")
    svg = ET.fromstring(content)
    assert (svg.get("width"), svg.get("height")) == ("400", "300")
    sha = hashlib.sha256(body).hexdigest()
    [event] = image_events(agent, sha)
    assert (event.event.action, event.event.reason, event.event.category) == (
        "blur",
        "model",
        "adult",
    )
    detail = json.loads(event.event.detail)
    assert detail["sha256"] == sha and len(detail["pdq"]) == 64
    assert detail["score"] > 0 and detail["model"].startswith("open_nsfw")
    assert detail["page"] == "https://other.example/"
    assert event.event.url == f"https://{SITE}/warm.jpg"


def test_an_image_is_known_by_its_bytes_whatever_its_content_type(
    agent: RunningAgent, site: ImageSite
) -> None:
    site.routes["/lying.bin"] = Served(_png(warm_picture()), "application/octet-stream")
    status, media, _ = fetch(agent, "/lying.bin", referer="https://other.example/")
    assert (status, media) == (200, "image/svg+xml")


@pytest.mark.parametrize(
    ("path", "body", "media"),
    [
        ("/cut.jpg", _jpeg(chart_picture())[:900], "image/jpeg"),
        ("/noise.png", bytes(range(256)) * 40, "image/png"),
        ("/photo.avif", b"\x00\x00\x00\x1cftypavif" + bytes(500), "image/avif"),
    ],
)
def test_an_image_that_cannot_be_checked_is_replaced_by_a_placeholder(
    agent: RunningAgent, site: ImageSite, path: str, body: bytes, media: str
) -> None:
    site.routes[path] = Served(body, media)
    status, replied, content = fetch(agent, path, referer="https://other.example/")
    assert (status, replied) == (200, "image/svg+xml")
    assert b"<rect" in content
    [event] = image_events(agent, hashlib.sha256(body).hexdigest())
    assert (event.event.action, event.event.reason) == ("block", "unscannable")


def test_drawings_icons_and_pages_are_not_screened(agent: RunningAgent, site: ImageSite) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="5" height="5"/>'
    site.routes["/logo.svg"] = Served(svg, "image/svg+xml")
    site.routes["/page.html"] = Served(b"<p>hello</p>", "text/html")
    assert fetch(agent, "/logo.svg") == (200, "image/svg+xml", svg)
    assert fetch(agent, "/page.html") == (200, "text/html", b"<p>hello</p>")


def test_formats_abhaya_cannot_check_are_not_asked_for(
    agent: RunningAgent, site: ImageSite
) -> None:
    site.routes["/accept.jpg"] = Served(_jpeg(chart_picture()), "image/jpeg")
    with agent.client() as client:
        client.get(
            f"https://{SITE}/accept.jpg",
            headers={
                "Accept": "image/avif,image/webp,image/apng,image/*,*/*;q=0.8",
                "Accept-Encoding": "gzip, deflate, br, zstd",
                "Sec-Fetch-Dest": "image",
            },
        )
        client.get(f"https://{SITE}/page.html", headers={"Accept-Encoding": "gzip, br"})
    seen = [item for item in site.requests if item["path"] == "/accept.jpg"][-1]
    assert seen["Accept"] == "image/webp,image/apng,image/*,*/*;q=0.8"
    assert seen["Accept-Encoding"] == "gzip, deflate, zstd"  # brotli cannot be bounded
    page = [item for item in site.requests if item["path"] == "/page.html"][-1]
    assert page["Accept-Encoding"] == "gzip, br"  # pages keep it


def test_a_benign_image_larger_than_mitmproxys_streaming_size_is_checked_and_delivered(
    agent: RunningAgent, site: ImageSite
) -> None:
    rng = np.random.default_rng(3)
    noisy = Image.fromarray(rng.integers(0, 255, (1100, 1100, 3), dtype=np.uint8))
    body = _png(noisy)
    assert len(body) > 1024 * 1024  # over STREAM_LARGE_BODIES
    site.routes["/big.png"] = Served(body, "image/png")
    screener = agent.agent.services.images
    assert screener is not None
    before = dict(screener.counts)
    assert fetch(agent, "/big.png") == (200, "image/png", body)
    after = dict(screener.counts)
    assert after.get("screened", 0) == before.get("screened", 0) + 1
    assert {k: v for k, v in after.items() if k.startswith("unscannable")} == {
        k: v for k, v in before.items() if k.startswith("unscannable")
    }  # checked, not let through unchecked


def test_a_compressed_image_is_inflated_and_screened(agent: RunningAgent, site: ImageSite) -> None:
    body = _png(chart_picture())
    gzipped = {"Content-Encoding": "gzip"}
    site.routes["/gz-chart.png"] = Served(gzip.compress(body), "image/png", gzipped)
    site.routes["/gz-warm.bin"] = Served(
        gzip.compress(_png(warm_picture((310, 230)))), "application/octet-stream", gzipped
    )
    assert fetch(agent, "/gz-chart.png") == (200, "image/png", body)
    status, media, _ = fetch(agent, "/gz-warm.bin", referer="https://other.example/")
    assert (status, media) == (200, "image/svg+xml")  # known by its inflated bytes: blurred


def test_a_compression_bomb_is_not_inflated_past_the_image_limit(
    agent: RunningAgent, site: ImageSite
) -> None:
    """64 kB of gzip that inflate to 64 MiB behind a PNG signature: mitmproxy's own decoding
    would inflate it all on the event loop (400 kB of it made an agent's RSS peak at 1 GB);
    it is unscannable once past 16 MiB, and blocked."""
    squeezer = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = squeezer.compress(b"\x89PNG\r\n\x1a\n") + b"".join(
        squeezer.compress(bytes(1024 * 1024)) for _ in range(64)
    )
    bomb += squeezer.flush()
    assert len(bomb) < 100_000
    screener = agent.agent.services.images
    assert screener is not None
    why = "unscannable: it inflates to more than 16 MiB"
    before = screener.counts[why]
    for path, media in (("/bomb.png", "image/png"), ("/bomb.bin", "application/octet-stream")):
        site.routes[path] = Served(bomb, media, {"Content-Encoding": "gzip"})
        status, replied, content = fetch(agent, path, referer="https://other.example/")
        assert (status, replied) == (200, "image/svg+xml") and b"<rect" in content
    assert screener.counts[why] == before + 2
    # The image was never held whole: its event names no hash (that of nothing would mislead).
    [event, *_] = image_events(agent, "bomb.bin")
    assert json.loads(event.event.detail)["sha256"] == ""


_LARGE_DECODES = """
import asyncio, io, sys
from PIL import Image
from abhaya.agent.imagescreen import ImageScreener
from abhaya.filters.pdqmatch import HashMatcher
from abhaya.filters.policy.compile import ImageScreening
from abhaya.models.imagemodel import ImageClassifier
from abhaya.models.imagescan import ImageScanner

def png(size, shade):
    buffer = io.BytesIO()
    Image.new("L", size, shade).save(buffer, format="PNG")
    return buffer.getvalue()

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024

async def main():
    screener = ImageScreener(ImageScanner(ImageClassifier.load()))
    rules, lists = ImageScreening(), HashMatcher()
    for shade in range(3):  # warm: the model's session, the pool's threads
        await screener.screen(png((800, 600), shade), rules, lists)
    before = rss()
    for shade in range(4):  # 24.5 million pixels each, just under the decoder's limit
        screened = await screener.screen(png((5000, 4900), shade), rules, lists)
        assert not screened.unscannable, screened.unscannable
    print(before, rss())

asyncio.run(main())
"""


def test_memory_of_a_large_decoded_image_is_given_back() -> None:
    """glibc keeps the freed pixel buffers of a large image in the worker threads' arenas (its
    mmap threshold rises after the first one is freed): four 24.5-megapixel images left the
    agent ~66 MiB larger for good, until the screen gave it back (`malloc_trim`)."""
    result = subprocess.run(
        [sys.executable, "-c", _LARGE_DECODES], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    before, after = map(int, result.stdout.split())
    assert after - before < 25, (before, after)


def test_a_flagged_image_larger_than_the_streaming_size_is_held_and_blurred(
    agent: RunningAgent, site: ImageSite
) -> None:
    """mitmproxy streams a body once more than 1 MB of it has arrived; an image is held whole
    instead (to 16 MiB), with or without a length, so it is checked before any of it is sent."""
    rng = np.random.default_rng(5)
    noisy = np.asarray(warm_picture((1400, 1000))).astype(np.int16)
    noisy += rng.integers(-4, 5, noisy.shape, dtype=np.int16)
    body = _png(Image.fromarray(noisy.clip(0, 255).astype(np.uint8)))
    assert len(body) > 1024 * 1024  # over STREAM_LARGE_BODIES
    site.routes["/big-warm.png"] = Served(body, "image/png")
    site.routes["/big-warm-unsized.png"] = Served(body, "image/png", unsized=True)
    for path in ("/big-warm.png", "/big-warm-unsized.png"):
        status, media, content = fetch(agent, path, referer="https://other.example/")
        assert (status, media) == (200, "image/svg+xml"), path
        assert b'width="1400" height="1000"' in content
    [event] = image_events(agent, hashlib.sha256(body).hexdigest())[:1]
    assert event.event.action == "blur"


def test_a_site_whose_pages_are_mostly_flagged_gets_a_warning_page(
    agent: RunningAgent, site: ImageSite
) -> None:
    held_page = f"https://{HELD}/gallery"
    for number in range(4):
        site.routes[f"/held{number}.jpg"] = Served(
            _jpeg(warm_picture((300 + number, 200))), "image/jpeg"
        )
        fetch(agent, f"/held{number}.jpg", referer=held_page)
    with agent.client() as client:
        page = client.get(held_page, headers={"Sec-Fetch-Dest": "document"})
        image = client.get(f"https://{HELD}/chart.jpg", headers={"Sec-Fetch-Dest": "image"})
        other = client.get(f"https://{SITE}/gallery", headers={"Sec-Fetch-Dest": "document"})
    assert page.status_code == 403
    assert "pics" not in page.text and HELD in page.text
    assert image.status_code == 200  # only pages are held; images are still screened one by one
    assert other.status_code == 200  # the site whose pages showed them, not every site


@pytest.mark.chromium
def test_chromium_lays_out_a_blurred_image_like_the_original(
    agent: RunningAgent, site: ImageSite, tmp_path: Path
) -> None:
    import shutil
    import subprocess

    from tests.agent.test_chromium import chromium

    home = tmp_path / "home"
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    assert shutil.which("certutil") is not None
    certutil = ["certutil", "-d", f"sql:{nssdb}"]
    subprocess.run([*certutil, "-N", "--empty-password"], check=True)
    subprocess.run(
        [*certutil, "-A", "-t", "C,,", "-n", "Abhaya", "-i", str(agent.ca_file)], check=True
    )
    warm = _jpeg(warm_picture((420, 280)))
    site.routes["/shown-warm.jpg"] = Served(warm, "image/jpeg")
    site.routes["/shown-chart.png"] = Served(_png(chart_picture((300, 200))), "image/png")
    script = (
        "window.onload = () => { for (const img of document.images) {"
        " document.body.append(` ${img.id}=${img.naturalWidth}x${img.naturalHeight}`); } };"
    )
    html = (
        '<body><img id="warm" src="/shown-warm.jpg"><img id="chart" src="/shown-chart.png">'
        f"<script>{script}</script></body>"
    )
    site.routes["/shown.html"] = Served(html.encode(), "text/html")
    dom = chromium(home, agent.proxy_url, "--dump-dom", f"https://{SITE}/shown.html")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "warm=420x280" in dom.stdout, dom.stdout[-1500:]  # the blurred copy, same size
    assert "chart=300x200" in dom.stdout, dom.stdout[-1500:]  # the benign one, as it was
    [event] = image_events(agent, hashlib.sha256(warm).hexdigest())
    assert event.event.action == "blur"


# Tests that start an agent of their own: after the module's agent.


def test_a_profile_that_logs_gets_the_image_and_the_parent_the_event(
    tmp_path: Path, site: ImageSite, threshold: float
) -> None:
    body = _jpeg(warm_picture((330, 220)))
    site.routes["/logged.jpg"] = Served(body, "image/jpeg")
    running = start(tmp_path, site, policy_with(threshold, extra='action = "log"\n'))
    try:
        assert fetch(running, "/logged.jpg") == (200, "image/jpeg", body)
        [event] = image_events(running, hashlib.sha256(body).hexdigest())
        assert (event.event.action, event.event.reason) == ("allow", "model")
    finally:
        running.stop()


def scene_picture(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A photograph-like generated scene (a sky gradient, hills, coloured shapes): detailed
    enough for a PDQ quality well over 50."""
    rng = np.random.default_rng(seed)
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        draw.line((0, y, width, y), fill=(90 + y * 100 // height, 140, 220 - y * 120 // height))
    for _ in range(25):
        x, y, r = rng.integers(0, width), rng.integers(0, height), rng.integers(10, 90)
        colour = tuple(int(value) for value in rng.integers(0, 255, 3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    return image


def test_a_known_image_is_blocked_alerted_and_its_site_held_even_in_a_pause(
    tmp_path: Path, site: ImageSite, threshold: float
) -> None:
    from abhaya.agent.store.alerts import list_alerts
    from abhaya.models.pdq import pdq_hash

    known = scene_picture(11)
    listed = pdq_hash(known)
    assert listed.quality >= 50
    hashes = tmp_path / "known-images.pdq"
    hashes.write_text(f"# name: test-known\n# version: 3\n{listed.hex} case-17\n", "ascii")
    policy = policy_with(threshold, extra=f'\n[[hashlist]]\npath = "{hashes}"\ncategory = "csam"\n')
    # Not the listed bytes: a resized, re-encoded copy.
    copy = _jpeg(known.resize((480, 360)), quality=70)
    site.routes["/copy.jpg"] = Served(copy, "image/jpeg")
    site.routes["/unrelated.jpg"] = Served(_jpeg(scene_picture(12)), "image/jpeg")
    running = start(tmp_path / "agent", site, policy)
    try:
        status, media, content = fetch(running, "/copy.jpg", referer=f"https://{HELD}/board")
        assert (status, media) == (200, "image/svg+xml") and b"<rect" in content
        assert fetch(running, "/unrelated.jpg", referer="https://other.example/")[1] == "image/jpeg"
        with running.client() as client:
            page = client.get(f"https://{HELD}/board", headers={"Sec-Fetch-Dest": "document"})
        assert page.status_code == 403  # the page the image was on: blocked, csam
        [event] = image_events(running, hashlib.sha256(copy).hexdigest())
        assert (event.event.action, event.event.reason, event.event.category) == (
            "block",
            "hash_match",
            "csam",
        )
        assert event.event.rule == "test-known"
        detail = json.loads(event.event.detail)
        assert (detail["list"], detail["list_version"], detail["label"]) == (
            "test-known",
            "3",
            "case-17",
        )
        assert detail["listed_hash"] == listed.hex and 0 <= detail["distance"] <= 31
        assert detail["page"] == f"https://{HELD}/board"
        with contextlib.closing(running.agent.store.connect(read_only=True)) as conn:
            alerts = [item.alert for item in list_alerts(conn) if item.alert.kind == "image_match"]
        [alert] = alerts
        assert f"abhaya report {event.id}" in alert.message
        # While protection is paused the classifier rests; the known-image list does not.
        running.agent.services.pause.pause(running.agent.services.clock() + dt.timedelta(hours=1))
        warm = _jpeg(warm_picture((350, 250)))
        site.routes["/paused-warm.jpg"] = Served(warm, "image/jpeg")
        assert fetch(running, "/paused-warm.jpg") == (200, "image/jpeg", warm)
        assert fetch(running, "/copy.jpg", referer="https://other.example/")[1] == "image/svg+xml"
    finally:
        running.stop()
