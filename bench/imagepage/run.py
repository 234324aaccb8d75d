"""What image screening costs a page of 40 images in Chromium, and non-image requests.

Two agents, each in a child process of its own (bench/imagepage/harness.py), identical but for
`[images] enabled`: true (the default: every image screened) and false (the baseline).  Round
by round, in alternating order, headless Chromium loads through each of them

- `one origin`: a page on pics.example with 40 images from the same host, and
- `40 hosts` (unless --no-hosts): the same page shape with each image on a host of its own,

with a fresh Chromium profile per load, and reads when the page finished loading (the
Navigation Timing API's loadEventStart, written into the DOM by the page's own `load` handler
and read back with --dump-dom).  Every load gets 40 newly generated images (JPEG, PNG and WebP,
600×400 to 1024×768, gradients and shapes), so the agent's content-hash cache never answers for
them: each load costs a full decode and classification of every image.

Then the proxy's throughput for non-image requests: small JSON GETs over keep-alive (httpx,
HTTPS through the proxy), each agent in turn, round by round.

Run by hand, never in CI (see bench/imagepage/README.md):

    .venv/bin/python bench/imagepage/run.py [--rounds 12] [--json-requests 600]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchkit.chromium import FLAGS, browser_home, require_tools  # noqa: E402
from harness import AgentProcess, Origin, Served, rss_kib  # noqa: E402

SITE = "pics.example"
API = "api.example"
IMAGES = 40
HOSTS = [f"img{n}.cdn.example" for n in range(IMAGES)]
PAGE_SCRIPT = """
addEventListener('load', () => {
  const nav = performance.getEntriesByType('navigation')[0];
  const images = [...document.images];
  document.getElementById('timing').textContent = JSON.stringify({
    load: nav.loadEventStart, dcl: nav.domContentLoadedEventEnd, response: nav.responseEnd,
    loaded: images.filter(i => i.complete && i.naturalWidth > 1).length,
    types: images.filter(i => i.naturalWidth > 1).map(i => i.naturalWidth + 'x' + i.naturalHeight)
  });
});
"""


def generated_image(rng: random.Random) -> tuple[bytes, str, tuple[int, int]]:
    """One benign picture: a two-colour gradient with a few shapes, as JPEG, PNG or WebP."""
    import numpy as np
    from PIL import Image, ImageDraw

    width, height = rng.randrange(600, 1025), rng.randrange(400, 769)
    a = np.array([rng.randrange(256) for _ in range(3)], dtype=np.float32)
    b = np.array([rng.randrange(256) for _ in range(3)], dtype=np.float32)
    t = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    s = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    mix = (t * 0.7 + s * 0.3).clip(0, 1)
    pixels = (a * (1 - mix) + b * mix).astype(np.uint8)
    picture = Image.fromarray(np.broadcast_to(pixels, (height, width, 3)).copy())
    draw = ImageDraw.Draw(picture)
    for _ in range(rng.randrange(3, 9)):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        box = (x0, y0, x0 + rng.randrange(20, 300), y0 + rng.randrange(20, 200))
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            draw.rectangle(box, fill=colour)
        else:
            draw.ellipse(box, fill=colour, outline=(0, 0, 0))
    draw.text((10, 10), f"picture {rng.randrange(10**6)}", fill=(0, 0, 0))
    kind = rng.choice(["JPEG", "JPEG", "PNG", "WEBP"])
    buffer = io.BytesIO()
    picture.save(buffer, format=kind, **({"quality": 85} if kind != "PNG" else {}))
    media = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}[kind]
    return buffer.getvalue(), media, (width, height)


def publish_page(origin: Origin, rng: random.Random, spread: bool, load: int) -> dict[str, int]:
    """A page with 40 new images on the origin, at /page-LOAD.html; the formats served."""
    tags = []
    kinds: dict[str, int] = {}
    for n in range(IMAGES):
        body, media, (width, height) = generated_image(rng)
        host = HOSTS[n] if spread else SITE
        ext = media.split("/")[1]
        path = f"/img/{load}-{n}.{ext}"
        origin.routes[(host, path)] = Served(body, media)
        tags.append(f'<img src="https://{host}{path}" width="{width // 4}" height="{height // 4}">')
        kinds[media] = kinds.get(media, 0) + 1
    html = (
        "<!doctype html><html><head><meta charset=utf-8><title>gallery</title></head><body>"
        f"<div id=timing>pending</div>{''.join(tags)}<script>{PAGE_SCRIPT}</script>"
        "</body></html>"
    )
    origin.routes[(SITE, f"/page-{load}.html")] = Served(html.encode(), "text/html; charset=utf-8")
    return kinds


def load_page(home: Path, proxy: str, url: str, profile: Path) -> tuple[dict[str, object], float]:
    """(the page's own timing, the browser's wall time in ms) for one load, fresh profile."""
    started = time.perf_counter()
    result = subprocess.run(
        [
            require_tools(),
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--proxy-server={proxy}",
            "--proxy-bypass-list=<-loopback>",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(home)},
    )
    wall = (time.perf_counter() - started) * 1000
    shutil.rmtree(profile, ignore_errors=True)
    found = re.search(r'<div id="timing">(\{.*?\})</div>', result.stdout)
    if found is None:
        raise RuntimeError(
            f"no timing in the page: {result.stdout[-500:]!r} {result.stderr[-800:]}"
        )
    return json.loads(found.group(1).replace("&quot;", '"')), wall


def json_throughput(proxy: str, ca_file: Path, requests: int, threads: int) -> tuple[float, float]:
    """(requests per second, median latency in ms) of small JSON GETs over keep-alive."""
    import ssl

    import httpx

    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []

    def worker(index: int) -> None:
        mine = []
        context = ssl.create_default_context(cafile=str(ca_file))
        with httpx.Client(proxy=proxy, verify=context, timeout=30) as client:
            client.get(f"https://{API}/v1/items/warm")
            for n in range(requests // threads):
                start = time.perf_counter()
                reply = client.get(f"https://{API}/v1/items/{index}-{n}?page=2")
                mine.append((time.perf_counter() - start) * 1000)
                if reply.status_code != 200 or not reply.content.startswith(b'{"items"'):
                    errors.append(f"{reply.status_code} {reply.content[:60]!r}")
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"JSON requests failed: {errors[:3]}")
    return len(latencies) / elapsed, statistics.median(latencies)


class JsonRoutes(dict):  # type: ignore[type-arg]
    """Every /v1/items/... path on the API host answers the same small JSON document."""

    BODY = Served(
        json.dumps({"items": [{"id": n, "name": f"item {n}"} for n in range(8)]}).encode(),
        "application/json",
    )

    def get(self, key, default=None):  # type: ignore[no-untyped-def]
        host, path = key
        if host == API and path.startswith("/v1/items/"):
            return self.BODY
        return super().get(key, default)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12, help="loads per agent and page shape")
    parser.add_argument("--json-rounds", type=int, default=8)
    parser.add_argument("--json-requests", type=int, default=600, help="per agent and round")
    parser.add_argument("--json-threads", type=int, default=2)
    parser.add_argument("--no-hosts", action="store_true", help="skip the 40-host page")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    require_tools()
    with tempfile.TemporaryDirectory(prefix="abhaya-imagepage-") as temp:
        return run(args, Path(temp))


def run(args: argparse.Namespace, folder: Path) -> int:
    origin = Origin([SITE, API, *HOSTS], folder)
    origin.routes = JsonRoutes()
    names = [SITE, API, *HOSTS]
    agents = [
        AgentProcess(folder / "on", images=True, names=names, origin=origin, label="on"),
        AgentProcess(folder / "off", images=False, names=names, origin=origin, label="off"),
    ]
    reports: dict[str, dict[str, object]] = {}
    try:
        proxies = {agent.label: agent.wait_ready() for agent in agents}
        home = browser_home(folder, [(agent.label, agent.ca_file) for agent in agents])
        rng = random.Random(args.seed)
        shapes = ["one origin"] + ([] if args.no_hosts else ["40 hosts"])
        loads: dict[tuple[str, str], list[float]] = {}
        walls: dict[tuple[str, str], list[float]] = {}
        load = 0
        kinds: dict[str, int] = {}
        # Round 0 is a warm-up (each agent's first certificates, Chromium's disk cache of
        # its own files); its figures are dropped.
        for round_ in range(args.rounds + 1):
            order = [a.label for a in (agents if round_ % 2 == 0 else agents[::-1])]
            for shape in shapes:
                for label in order:
                    load += 1
                    for media, count in publish_page(
                        origin, rng, shape == "40 hosts", load
                    ).items():
                        kinds[media] = kinds.get(media, 0) + count
                    timing, wall = load_page(
                        home,
                        proxies[label],
                        f"https://{SITE}/page-{load}.html",
                        folder / f"profile-{load}",
                    )
                    if timing["loaded"] != IMAGES:
                        raise RuntimeError(f"{label}, {shape}: {timing['loaded']} images loaded")
                    for key in [k for k in origin.routes if k[1].startswith(f"/img/{load}-")]:
                        del origin.routes[key]  # keep memory flat
                    if round_ == 0:
                        continue
                    loads.setdefault((shape, label), []).append(float(timing["load"]))  # type: ignore[arg-type]
                    walls.setdefault((shape, label), []).append(wall)
            if round_:
                line = ", ".join(
                    f"{shape} {label} {loads[(shape, label)][-1]:.0f} ms"
                    for shape in shapes
                    for label in ("on", "off")
                )
                print(f"round {round_}: {line}", flush=True)

        throughput: dict[str, list[float]] = {"on": [], "off": []}
        latency: dict[str, list[float]] = {"on": [], "off": []}
        for round_ in range(args.json_rounds + 1):
            order = [a for a in (agents if round_ % 2 == 0 else agents[::-1])]
            for agent in order:
                rate, p50 = json_throughput(
                    proxies[agent.label], agent.ca_file, args.json_requests, args.json_threads
                )
                if round_:
                    throughput[agent.label].append(rate)
                    latency[agent.label].append(p50)
        rss = {agent.label: rss_kib(agent.pid) for agent in agents}
    except BaseException:
        for agent in agents:
            print(f"--- agent {agent.label}'s log ends:\n{agent.log_tail()}", file=sys.stderr)
        raise
    finally:
        for agent in agents:
            reports[agent.label] = agent.stop()
        origin.close()

    med = statistics.median
    print(
        f"\n{args.rounds} loads per agent and page shape, each with 40 new images "
        f"({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))} in all loads)"
    )
    print(
        "| page | screening off: load (ms) | on: load (ms) | on/off | on - off | "
        "per-round ratios | browser wall off / on (ms) |"
    )
    print("|---|---:|---:|---:|---:|---|---:|")
    for shape in shapes:
        off, on = loads[(shape, "off")], loads[(shape, "on")]
        ratios = sorted(a / b for a, b in zip(on, off, strict=True))
        print(
            f"| {shape} | {med(off):.0f} | {med(on):.0f} | {med(on) / med(off):.2f}x | "
            f"+{med(on) - med(off):.0f} ms | {ratios[0]:.2f}-{ratios[-1]:.2f} "
            f"(median {med(ratios):.2f}) | {med(walls[(shape, 'off')]):.0f} / "
            f"{med(walls[(shape, 'on')]):.0f} |"
        )
    print(
        f"\nJSON GETs ({args.json_requests} per round, {args.json_threads} keep-alive "
        f"connections, {args.json_rounds} rounds):"
    )
    print("| agent | req/s (median) | p50 latency (ms) |")
    print("|---|---:|---:|")
    for label in ("off", "on"):
        print(f"| screening {label} | {med(throughput[label]):.0f} | {med(latency[label]):.2f} |")
    per_round = [a / b for a, b in zip(throughput["on"], throughput["off"], strict=True)]
    print(
        f"on/off throughput: {med(throughput['on']) / med(throughput['off']):.3f}x "
        f"(per round: {', '.join(f'{ratio:.2f}' for ratio in per_round)})"
    )
    for label in ("off", "on"):
        now, peak = rss[label]
        print(
            f"agent {label}: RSS {now / 1024:.0f} MiB (peak {peak / 1024:.0f} MiB), "
            f"image counts {reports[label].get('counts')}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
