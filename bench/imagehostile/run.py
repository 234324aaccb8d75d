"""Hostile images through a real agent: it must keep serving, and not keep the memory.

The agent runs in a child process of its own (bench/imagepage/harness.py; its RSS is its
alone) with image screening on (the default policy's `[images]`), and its test names routed to
an HTTPS origin this script starts on loopback.  1,000 generated bad images go through it from
four client connections at once (so the worker pool's queue fills): truncated JPEG, PNG, WebP
and GIF files, headers claiming 100000×100000 (or the format's largest) pixels, PNGs that
really hold 24.5 million pixels (just under the decoder's limit, so they are decoded) or 100
million (over it), random bytes under image content types, random bytes behind an image's
magic bytes, valid images under a lying content type, empty bodies, and a few bodies over
16 MiB.  Afterwards a normal JSON request and a normal image must come back unchanged; the
agent's RSS before and after is reported with the screener's counts by outcome.

Exit status 1 when the RSS grew by 50 MiB or more, or the proxy stopped serving.

Run by hand, never in CI (see bench/imagehostile/README.md):

    .venv/bin/python bench/imagehostile/run.py [--images 1000] [--seed 7]
"""

from __future__ import annotations

import argparse
import io
import random
import ssl
import struct
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "imagepage"))

from harness import MB, AgentProcess, Origin, Served, rss_kib  # noqa: E402

SITE = "bad.example"
CLIENTS = 4
LIMIT_MIB = 50
KINDS = [
    "truncated jpeg",
    "truncated png",
    "truncated webp",
    "truncated gif",
    "huge header png",
    "huge header jpeg",
    "huge header gif",
    "huge header webp",
    "random bytes, image type",
    "magic bytes + noise",
    "valid image, lying type",
    "empty body",
]
"""The kinds in turn; but in every hundred, one real pixel bomb of 24.5 million pixels, one of
100 million, one gzip bomb and one body over 16 MiB."""
DELIVERED_IS_EXPECTED = {
    "valid image, lying type",
    "empty body",
    "pixel bomb 24.5 Mpx (decoded)",  # a valid (black) picture under the limit: allowed
}


def picture(rng: random.Random, size: tuple[int, int] = (480, 360)) -> object:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        draw.ellipse((x, y, x + 80, y + 60), fill=tuple(rng.randrange(256) for _ in range(3)))
    return image


def encoded(image: object, kind: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=kind)  # type: ignore[attr-defined]
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int, nonce: bytes) -> bytes:
    """A PNG whose header claims `width`×`height` and whose data is a few bytes of zeros."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"tEXt", b"nonce\x00" + nonce)
        + png_chunk(b"IDAT", zlib.compress(bytes(1024)))
        + png_chunk(b"IEND", b"")
    )


def png_bomb(side: tuple[int, int], nonce: bytes) -> bytes:
    """A real, valid PNG of `side` black pixels (grey: one byte a pixel), compressed to a few
    tens of kB; the nonce makes each copy's bytes (and SHA-256) its own."""
    width, height = side
    row = b"\x00" + bytes(width)
    squeezer = zlib.compressobj(9)
    data = b"".join(squeezer.compress(row) for _ in range(height)) + squeezer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"tEXt", b"nonce\x00" + nonce)
        + png_chunk(b"IDAT", data)
        + png_chunk(b"IEND", b"")
    )


def gzip_bomb(nonce: bytes) -> bytes:
    """A PNG header and 16 MiB of zeros, gzip-compressed to ~16 kB: the body is small, what
    it inflates to is not (sent with Content-Encoding: gzip)."""
    import gzip

    return gzip.compress(png_claiming(4000, 4000, nonce) + bytes(16 * MB), 9)


def jpeg_claiming(jpeg: bytes, width: int, height: int) -> bytes:
    """`jpeg` with its frame header (SOF0) patched to claim `width`×`height`."""
    at = jpeg.index(b"\xff\xc0")
    return jpeg[: at + 5] + struct.pack(">HH", height, width) + jpeg[at + 9 :]


def gif_claiming(gif: bytes, width: int, height: int) -> bytes:
    """`gif` with its logical screen and first image descriptor claiming `width`×`height`."""
    out = bytearray(gif)
    out[6:10] = struct.pack("<HH", width, height)
    at = out.index(b"\x2c", 13)  # the first image descriptor
    out[at + 5 : at + 9] = struct.pack("<HH", width, height)
    return bytes(out)


def webp_claiming(nonce: bytes) -> bytes:
    """An extended WebP (VP8X) with a 16384×16384 canvas (the format's largest is 2^24 a side)
    and no image data worth the name."""
    canvas = struct.pack("<I", 16383)[:3] + struct.pack("<I", 16383)[:3]
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + canvas
    junk = b"VP8 " + struct.pack("<I", len(nonce)) + nonce
    body = b"WEBP" + vp8x + junk
    return b"RIFF" + struct.pack("<I", len(body)) + body


def hostile(
    rng: random.Random, n: int, bases: dict[str, bytes], oversized: bytes
) -> tuple[str, bytes, str]:
    """(kind, body, content type) of the nth bad image."""
    nonce = f"{n}-{rng.random()}".encode()
    if n % 100 == 99:
        return "over 16 MiB", oversized, "image/jpeg"
    if n % 100 == 49:
        return "pixel bomb 24.5 Mpx (decoded)", png_bomb((5000, 4900), nonce), "image/png"
    if n % 100 == 24:
        return "pixel bomb 100 Mpx", png_bomb((10000, 10000), nonce), "image/png"
    if n % 100 == 74:
        return "gzip bomb (16 MiB PNG)", gzip_bomb(nonce), "image/png"
    kind = KINDS[n % len(KINDS)]
    if kind.startswith("truncated"):
        fmt = kind.split()[1]
        whole = bases[fmt]
        return kind, whole[: rng.randrange(8, len(whole) - 1)], f"image/{fmt}"
    if kind == "huge header png":
        return kind, png_claiming(100_000, 100_000, nonce), "image/png"
    if kind == "huge header jpeg":
        return kind, jpeg_claiming(bases["jpeg"], 65_500, 65_500) + nonce, "image/jpeg"
    if kind == "huge header gif":
        return kind, gif_claiming(bases["gif"], 65_535, 65_535), "image/gif"
    if kind == "huge header webp":
        return kind, webp_claiming(nonce), "image/webp"
    if kind == "random bytes, image type":
        media = rng.choice(["image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp"])
        return kind, rng.randbytes(rng.randrange(1, 200_000)), media
    if kind == "magic bytes + noise":
        magic = rng.choice([b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF"])
        noise = rng.randbytes(rng.randrange(1, 100_000))
        if magic == b"RIFF":
            magic = b"RIFF" + struct.pack("<I", len(noise) + 4) + b"WEBP"
        return kind, magic + noise, rng.choice(["image/jpeg", "application/octet-stream"])
    if kind == "valid image, lying type":
        fmt = rng.choice(["JPEG", "PNG", "WEBP", "GIF"])
        body = encoded(picture(rng), fmt)
        media = rng.choice(["text/html", "application/octet-stream", "text/plain", "image/gif"])
        return kind, body, media
    return "empty body", b"", rng.choice(["image/jpeg", "image/png"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="abhaya-imagehostile-") as temp:
        return run(args, Path(temp))


def run(args: argparse.Namespace, folder: Path) -> int:
    import httpx

    rng = random.Random(args.seed)
    bases = {fmt.lower(): encoded(picture(rng), fmt) for fmt in ("JPEG", "PNG", "WEBP", "GIF")}
    oversized = b"\xff\xd8\xff\xe0" + rng.randbytes(17 * MB)
    normal_image = encoded(picture(rng, (640, 480)), "JPEG")
    origin = Origin([SITE], folder)
    origin.routes[(SITE, "/api/ok.json")] = Served(b'{"ok": true}', "application/json")
    origin.routes[(SITE, "/normal.jpg")] = Served(normal_image, "image/jpeg")
    agent = AgentProcess(folder / "agent", images=True, names=[SITE], origin=origin, label="on")
    outcomes: Counter[tuple[str, str]] = Counter()
    lock = threading.Lock()
    serving = False
    before = after = peak = 0
    try:
        proxy = agent.wait_ready()
        context = ssl.create_default_context(cafile=str(agent.ca_file))

        def client() -> httpx.Client:
            return httpx.Client(proxy=proxy, verify=context, timeout=60)

        def still_serving() -> bool:
            with client() as http:
                api = http.get(f"https://{SITE}/api/ok.json")
                image = http.get(f"https://{SITE}/normal.jpg")
            return (api.status_code, api.content) == (200, b'{"ok": true}') and (
                image.status_code,
                image.headers.get("content-type"),
                image.content,
            ) == (200, "image/jpeg", normal_image)

        assert still_serving(), "the proxy did not serve before the run"
        for _ in range(10):  # warm-up: normal images through the worker pool
            body = encoded(picture(rng), "JPEG")
            origin.routes[(SITE, "/warm.jpg")] = Served(body, "image/jpeg")
            with client() as http:
                assert http.get(f"https://{SITE}/warm.jpg").content == body
        time.sleep(1)
        before, _ = rss_kib(agent.pid)

        items = [hostile(rng, n, bases, oversized) for n in range(args.images)]
        for n, (kind, body, media) in enumerate(items):
            gzipped = {"Content-Encoding": "gzip"} if kind.startswith("gzip") else {}
            origin.routes[(SITE, f"/bad/{n}")] = Served(body, media, gzipped)
        del bases

        def worker(index: int) -> None:
            with client() as http:
                for n in range(index, len(items), CLIENTS):
                    kind, body, _ = items[n]
                    try:
                        reply = http.get(f"https://{SITE}/bad/{n}")
                    except httpx.HTTPError as error:
                        outcome = f"connection closed ({type(error).__name__})"
                    else:
                        replied = reply.headers.get("content-type", "").split(";")[0]
                        if reply.content == body:
                            outcome = f"{reply.status_code} delivered unchanged"
                        elif replied == "image/svg+xml":
                            outcome = f"{reply.status_code} placeholder"
                        else:
                            outcome = f"{reply.status_code} {replied}"
                    with lock:
                        outcomes[(kind, outcome)] += 1
                        done = sum(outcomes.values())
                    if done % 200 == 0:
                        rss, _ = rss_kib(agent.pid)
                        print(f"{done} images, RSS {rss / 1024:.1f} MiB", flush=True)

        started = time.monotonic()
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        serving = agent.alive() and still_serving()
        time.sleep(2)
        after, peak = rss_kib(agent.pid)
    except BaseException:
        print(f"the agent's log ends:\n{agent.log_tail()}", file=sys.stderr)
        raise
    finally:
        report = agent.stop()
        origin.close()

    growth = (after - before) / 1024
    print(f"\nbad images: {sum(outcomes.values())} in {elapsed:.1f} s, {CLIENTS} connections")
    print("| kind | what the browser got | images |")
    print("|---|---|---:|")
    for (kind, outcome), count in sorted(outcomes.items()):
        flag = "" if "unchanged" not in outcome or kind in DELIVERED_IS_EXPECTED else " (!)"
        print(f"| {kind} | {outcome}{flag} | {count} |")
    print("\nthe screener's counts (services.images.counts):")
    for key, value in sorted(report.get("counts", {}).items()):  # type: ignore[attr-defined]
        print(f"  {key}: {value}")
    print(
        f"\nagent RSS: {before / 1024:.1f} MiB before, {after / 1024:.1f} MiB after "
        f"({growth:+.1f} MiB), peak {peak / 1024:.1f} MiB"
    )
    print(
        f"after the run: {'still serving' if serving else 'NOT SERVING'} "
        "(a JSON request and a normal JPEG, both byte for byte)"
    )
    if growth >= LIMIT_MIB:
        print(f"FAIL: RSS grew by {growth:.1f} MiB (limit {LIMIT_MIB})")
    return 0 if serving and growth < LIMIT_MIB else 1


if __name__ == "__main__":
    sys.exit(main())
