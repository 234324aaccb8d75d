"""Image-model cost: one image verdict at 1024×768, a cache hit, and the agent's memory.

Run by hand from the repository root, never in CI (about a minute):

    .venv/bin/python bench/images/run.py [--images 200]

1. Benign 1024×768 JPEGs (the `skimage.data` photographs and generated images of
   tests/models/benignimages.py, resized, quality 85), each judged as a worker will: SHA-256 of
   the bytes, `decode`, `ImageClassifier.score`.  The same-run baseline is onnxruntime's
   `session.run` alone on a prepared input (what the network costs whatever we do around it);
   decode alone and the preprocessing alone are timed too.  They alternate in blocks of 20 so
   a busy moment of the machine falls on all of them.
2. A cache hit: SHA-256 of the same bytes and `ImageCache.get`.
3. Memory: fresh processes that import the agent (`abhaya.agent.proxy`, mitmproxy included),
   then (a) nothing more (the baseline), (b) load the image model and judge 50 images; VmRSS.
   Also: two worker threads sharing the one session, wall time per verdict.
4. The known weak spot: 50-100 px crops of `astronaut` (every 20 px) blown up to 512 px.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

_MEMORY = """
import sys
import abhaya.agent.proxy
if sys.argv[1] == "model":
    from abhaya.models.imagedecode import decode
    from abhaya.models.imagemodel import ImageClassifier
    from tests.models.benignimages import benign_images, encoded
    model = ImageClassifier.load()
    for n, (_, picture) in enumerate(benign_images()):
        if n == 50:
            break
        model.score(decode(encoded(picture.resize((1024, 768)), "JPEG", quality=85)))
for line in open("/proc/self/status"):
    if line.startswith("VmRSS"):
        print(int(line.split()[1]) // 1024)
"""


def _timed(call: Callable[[object], object], items: list[object]) -> list[float]:
    out = []
    for item in items:
        start = time.perf_counter_ns()
        call(item)
        out.append((time.perf_counter_ns() - start) / 1e6)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    args = parser.parse_args()

    import numpy as np
    from PIL import Image

    from abhaya.models.imagecache import ImageCache, content_key
    from abhaya.models.imagedecode import decode
    from abhaya.models.imagemodel import ImageClassifier, model_input
    from tests.models.benignimages import benign_images, encoded

    begin = time.perf_counter()
    model = ImageClassifier.load()
    load_seconds = time.perf_counter() - begin
    pictures = [picture.resize((1024, 768)) for _, picture in benign_images()]
    files = [encoded(pictures[n % len(pictures)], "JPEG", quality=85) for n in range(args.images)]
    decoded = [decode(data) for data in files]
    inputs = [model_input(item.image)[np.newaxis] for item in decoded]  # type: ignore[union-attr]
    session, name = model._session, model._input
    for data in files[:10]:  # first calls allocate
        model.score(decode(data))  # type: ignore[arg-type]

    def verdict(data: object) -> None:
        hashlib.sha256(data).digest()  # type: ignore[arg-type]
        model.score(decode(data))  # type: ignore[arg-type]

    steps: dict[str, list[float]] = {"run": [], "decode": [], "prepare": [], "verdict": []}
    for block in range(0, len(files), 20):
        part = slice(block, block + 20)
        steps["run"] += _timed(lambda x: session.run(None, {name: x}), inputs[part])  # type: ignore[arg-type]
        steps["decode"] += _timed(decode, files[part])  # type: ignore[arg-type]
        steps["prepare"] += _timed(lambda d: model_input(d.image), decoded[part])  # type: ignore[union-attr]
        steps["verdict"] += _timed(verdict, files[part])

    # Two workers, as the proxy's pool runs them on this 2-core machine: wall time per image.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        start = time.perf_counter()
        list(pool.map(verdict, files))
        two_workers_ms = (time.perf_counter() - start) * 1000 / len(files)

    cache: ImageCache[float] = ImageCache()
    for data in files:
        cache.put(content_key(data), 0.0)
    steps["hit"] = _timed(lambda data: cache.get(content_key(data)), files)  # type: ignore[arg-type]

    size_kb = statistics.median(len(data) for data in files) / 1024
    base = statistics.median(steps["run"])
    print(f"{len(files)} benign 1024×768 JPEGs (median {size_kb:.0f} KB), one at a time on one "
          f"thread; model loaded in {load_seconds:.2f} s\n")  # fmt: skip
    print("| step | p50 ms | p90 ms | p50 / session.run |")
    print("|---|---:|---:|---:|")
    for label, key in (
        ("`session.run` alone (baseline)", "run"),
        ("`decode` (1024×768 JPEG to RGB)", "decode"),
        ("preprocessing (`model_input`)", "prepare"),
        ("verdict: SHA-256 + `decode` + `score`", "verdict"),
        ("cache hit: SHA-256 + `ImageCache.get`", "hit"),
    ):
        p50 = statistics.median(steps[key])
        p90 = sorted(steps[key])[len(steps[key]) * 9 // 10]
        print(f"| {label} | {p50:.3f} | {p90:.3f} | {p50 / base:.2f} |")

    print(f"\nTwo worker threads (one session, one intra-op thread each): {two_workers_ms:.2f} ms "
          f"of wall time per verdict, {1000 / two_workers_ms:.0f} images/s")  # fmt: skip

    memory = {}
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    for kind in ("agent only", "model"):
        done = subprocess.run(
            [sys.executable, "-c", _MEMORY, kind], capture_output=True, text=True, check=True,
            env=env,
        )  # fmt: skip
        memory[kind] = int(done.stdout.split()[-1])
    print("\n| agent process (fresh, `abhaya.agent.proxy` imported) | VmRSS MiB | more |")
    print("|---|---:|---:|")
    print(f"| without the image model (baseline) | {memory['agent only']} | - |")
    print(f"| image model loaded, 50 images judged | {memory['model']} | "
          f"{memory['model'] - memory['agent only']} |")  # fmt: skip

    import skimage.data

    photo = Image.fromarray(skimage.data.astronaut())
    crops = []
    for side in (50, 60, 80, 100):
        scores = []
        for y in range(0, 512 - side + 1, 20):
            for x in range(0, 512 - side + 1, 20):
                crop = photo.crop((x, y, x + side, y + side)).resize((512, 512), Image.BICUBIC)
                scores.append(model.score(decode(encoded(crop, "PNG"))))  # type: ignore[arg-type]
        crops.append((side, len(scores), max(scores), sum(s >= 0.8 for s in scores)))
    print("\n| astronaut crop, blown up to 512 px | crops | highest score | at or above 0.80 |")
    print("|---|---:|---:|---:|")
    for side, count, top, over in crops:
        print(f"| {side} px | {count} | {top:.3f} | {over} |")
    print(
        f"\nMachine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}, Python {sys.version.split()[0]}; {model.version}"
    )


if __name__ == "__main__":
    main()
