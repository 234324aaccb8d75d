"""Image-model cost: one image verdict at 1024×768, a cache hit, and the agent's memory.

Run by hand from the repository root, never in CI (about a minute):

    .venv/bin/python bench/images/run.py [--images 200]

1. Benign 1024×768 JPEGs (the `skimage.data` photographs and generated images of
   tests/models/benignimages.py, resized, quality 85), each judged as a worker will: SHA-256 of
   the bytes, `decode`, `ImageClassifier.score`.  The same-run baseline is onnxruntime's
   `session.run` on a prepared input in a one-thread session of the same weights (what the
   network cost before the model's session took two threads); the model's own run, decode,
   the preprocessing and a verdict on each session are timed too, and the proxy's own verdict:
   `ImageClassifier.screen` at the default threshold (the int8 copy first, the float model only
   near the threshold), with the int8 copy's `session.run`.  They alternate in blocks of 20 so a
   busy moment of the machine falls on all of them.  Then the sessions through two worker
   threads, wall time per verdict.
2. A cache hit: SHA-256 of the same bytes and `ImageCache.get`.
3. Memory: fresh processes that import the agent (`abhaya.agent.proxy`, mitmproxy included),
   then (a) nothing more (the baseline), (b) load the image model and judge 50 images; VmRSS
   before and after the trim the agent makes once its image workers are idle.
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
from abhaya.agent import heap, memtrim
if sys.argv[1] == "model":
    from abhaya.models.imagedecode import decode
    from abhaya.models.imagemodel import ImageClassifier
    from tests.models.benignimages import benign_images, encoded
    model = ImageClassifier.load()
    heap.settle()  # as the agent does once it has loaded its models
    for n, (_, picture) in enumerate(benign_images()):
        if n == 50:
            break
        model.score(decode(encoded(picture.resize((1024, 768)), "JPEG", quality=85)))
else:
    heap.settle()
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024
used = rss()
memtrim.give_back()  # as the image screen does once its workers are idle
print(used, rss())
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
    from abhaya.models.imagemodel import DEFAULT_THRESHOLD, ImageClassifier, model_input
    from tests.models.benignimages import benign_images, encoded

    begin = time.perf_counter()
    model = ImageClassifier.load()
    load_seconds = time.perf_counter() - begin
    # The same-run baseline: the same weights on one intra-op thread, as the agent ran them
    # before the model's session took two threads without spinning.
    single = _one_thread(model)
    pictures = [picture.resize((1024, 768)) for _, picture in benign_images()]
    files = [encoded(pictures[n % len(pictures)], "JPEG", quality=85) for n in range(args.images)]
    decoded = [decode(data) for data in files]
    inputs = [model_input(item.image)[np.newaxis] for item in decoded]  # type: ignore[union-attr]
    for data in files[:10]:  # first calls allocate
        model.score(decode(data))  # type: ignore[arg-type]
        single.score(decode(data))  # type: ignore[arg-type]

    def run(classifier: ImageClassifier) -> Callable[[object], object]:
        session, name = classifier._session, classifier._input
        return lambda x: session.run(None, {name: x})

    def verdict(classifier: ImageClassifier) -> Callable[[object], object]:
        def judge(data: object) -> None:
            hashlib.sha256(data).digest()  # type: ignore[arg-type]
            classifier.score(decode(data))  # type: ignore[arg-type]

        return judge

    def screened(data: object) -> None:
        hashlib.sha256(data).digest()  # type: ignore[arg-type]
        model.screen(decode(data), DEFAULT_THRESHOLD)  # type: ignore[arg-type]

    screen_session = model._screen
    assert screen_session is not None, "the manifest names no [image-screen]"
    clear = sum(
        not model.screen(item, DEFAULT_THRESHOLD).exact  # type: ignore[arg-type]
        for item in decoded
    )
    keys = ("run1", "run", "run8", "decode", "prepare", "verdict1", "verdict", "screened")
    steps: dict[str, list[float]] = {key: [] for key in keys}
    for block in range(0, len(files), 20):
        part = slice(block, block + 20)
        steps["run1"] += _timed(run(single), inputs[part])
        steps["run"] += _timed(run(model), inputs[part])
        steps["run8"] += _timed(lambda x: screen_session.run(None, {model._input: x}), inputs[part])
        steps["decode"] += _timed(decode, files[part])  # type: ignore[arg-type]
        steps["prepare"] += _timed(lambda d: model_input(d.image), decoded[part])  # type: ignore[union-attr]
        steps["verdict1"] += _timed(verdict(single), files[part])
        steps["verdict"] += _timed(verdict(model), files[part])
        steps["screened"] += _timed(screened, files[part])

    # Two workers, as the proxy's pool runs them on this 2-core machine: wall time per image,
    # the median of five passes over 40 images, alternating the two sessions.
    from concurrent.futures import ThreadPoolExecutor

    per_image: dict[str, list[float]] = {"single": [], "model": [], "screened": []}
    with ThreadPoolExecutor(2) as pool:
        for block in range(0, 200, 40):
            part = files[block % len(files) :][:40]
            for key, judge in (
                ("single", verdict(single)),
                ("model", verdict(model)),
                ("screened", screened),
            ):
                start = time.perf_counter()
                list(pool.map(judge, part))
                per_image[key].append((time.perf_counter() - start) * 1000 / len(part))
    two_workers = {key: statistics.median(times) for key, times in per_image.items()}

    cache: ImageCache[float] = ImageCache()
    for data in files:
        cache.put(content_key(data), 0.0)
    steps["hit"] = _timed(lambda data: cache.get(content_key(data)), files)  # type: ignore[arg-type]

    size_kb = statistics.median(len(data) for data in files) / 1024
    base = statistics.median(steps["run1"])
    threads = model._session.get_session_options().intra_op_num_threads
    print(f"{len(files)} benign 1024×768 JPEGs (median {size_kb:.0f} KB), one at a time; model "
          f"loaded in {load_seconds:.2f} s; the model's session: {threads} intra-op threads, "
          "no spinning\n")  # fmt: skip
    print("| step | p50 ms | p90 ms | p50 / one-thread session.run |")
    print("|---|---:|---:|---:|")
    for label, key in (
        ("`session.run`, one intra-op thread (baseline)", "run1"),
        ("`session.run`, the model's session", "run"),
        ("`session.run`, the int8 screen", "run8"),
        ("`decode` (1024×768 JPEG to RGB)", "decode"),
        ("preprocessing (`model_input`)", "prepare"),
        ("verdict, one-thread session: SHA-256 + `decode` + `score`", "verdict1"),
        ("verdict, the model's session: SHA-256 + `decode` + `score`", "verdict"),
        ("verdict as the proxy makes it: SHA-256 + `decode` + `screen` at 0.80", "screened"),
        ("cache hit: SHA-256 + `ImageCache.get`", "hit"),
    ):
        p50 = statistics.median(steps[key])
        p90 = sorted(steps[key])[len(steps[key]) * 9 // 10]
        print(f"| {label} | {p50:.3f} | {p90:.3f} | {p50 / base:.2f} |")

    print("\nTwo worker threads sharing one session, wall time per verdict (median of 5 x 40):")
    print(f"(the int8 screen decided {clear} of the {len(decoded)} images at 0.80 on its own)")
    for key, label in (
        ("single", "one-thread session"),
        ("model", "the model's session"),
        ("screened", "the proxy's verdict (screen first)"),
    ):
        print(f"- {label}: {two_workers[key]:.2f} ms, {1000 / two_workers[key]:.0f} images/s")

    memory = {}
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    for kind in ("agent only", "model"):
        done = subprocess.run(
            [sys.executable, "-c", _MEMORY, kind], capture_output=True, text=True, check=True,
            env=env,
        )  # fmt: skip
        used, idle = done.stdout.split()[-2:]
        memory[kind] = (int(used), int(idle))
    print("\n| agent process (fresh, `abhaya.agent.proxy` imported) | VmRSS MiB | idle | more |")
    print("|---|---:|---:|---:|")
    print(f"| without the image model (baseline) | {memory['agent only'][0]} | "
          f"{memory['agent only'][1]} | - |")  # fmt: skip
    print(f"| image model loaded, 50 images judged | {memory['model'][0]} | {memory['model'][1]} "
          f"| {memory['model'][1] - memory['agent only'][1]} |")  # fmt: skip
    print("(idle: after the trim the image screen asks for once its workers are idle)")

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


def _one_thread(model: object) -> object:
    """The model's weights in a session on one intra-op thread (the previous set-up)."""
    import onnxruntime as ort

    from abhaya.models.imagemodel import ImageClassifier
    from abhaya.models.manifest import default_manifest, verified_source

    _, path = verified_source(default_manifest(), "image-classifier")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return ImageClassifier(session, getattr(model, "version", "") + "-1t")


if __name__ == "__main__":
    main()
