"""Known-image matching cost: a PDQ hash at 1024x768, and a match against 1M listed hashes.

Run by hand from the repository root, never in CI (about a minute):

    .venv/bin/python bench/hashes/run.py [--entries 1000000] [--runs 5]

1. `models.pdq.pdq_hash` (resize to 512 px, then PDQ) on four generated 1024x768 images
   (shapes, a scene, blotches, a text poster), against the same-run baseline of
   `pdqhash.compute` on the full image; and how many bits the two hashes differ by.
2. A fresh process per index (so its memory is its own): N random hashes are generated, then
   `PdqIndex.build` is timed and its VmRSS growth noted; then nearest-match queries (a third
   copies of listed hashes with 0-31 random bits flipped, a third with one or two bits flipped
   in every 16-bit band, the worst case for the index, a third random: no match), against the
   same-run baseline of a linear scan (numpy XOR and popcount over all N).  If faiss-cpu is
   installed, its `IndexBinaryMultiHash` (16 tables of 16 bits, `nflip=1`, exact at 31) is
   measured the same way for comparison; Abhaya does not depend on it.
3. `parse_hash_list` on an N-line file (what a policy load pays before indexing).

Medians over `--runs` runs (each a median over the queries); ratios against the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_CHILD = r"""
import json, statistics, sys, time
import numpy as np

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024

kind, entries, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(20261201)
hashes = rng.integers(0, 256, (entries, 32), dtype=np.uint8)

def flip(row, positions):
    bits = np.unpackbits(row)
    bits[positions] ^= 1
    return np.packbits(bits).tobytes()

queries = []
for i in range(300):
    row = hashes[int(rng.integers(entries))]
    if i % 3 == 0:
        queries.append(flip(row, rng.choice(256, int(rng.integers(0, 32)), replace=False)))
    elif i % 3 == 1:
        extra = int(rng.integers(0, 16))
        positions = [b * 16 + p for b in range(16)
                     for p in rng.choice(16, 2 if b < extra else 1, replace=False)]
        queries.append(flip(row, positions))
    else:
        queries.append(rng.integers(0, 256, 32, dtype=np.uint8).tobytes())
before = rss()
if kind == "abhaya":
    from abhaya.filters.pdqindex import PdqIndex
    begin = time.perf_counter()
    index = PdqIndex.build(hashes)
    build = time.perf_counter() - begin
    find = lambda q: index.nearest(q, 31)
else:
    import faiss
    faiss.omp_set_num_threads(1)
    begin = time.perf_counter()
    index = faiss.IndexBinaryMultiHash(256, 16, 16)
    index.nflip = 1
    index.add(hashes)
    build = time.perf_counter() - begin
    find = lambda q: index.range_search(np.frombuffer(q, np.uint8)[None, :], 32)
grown = rss() - before
words = np.ascontiguousarray(hashes.view(np.uint64).T)

def scan(q):
    distances = np.bitwise_count(words ^ np.frombuffer(q, np.uint64)[:, None]).sum(axis=0)
    best = int(distances.min())
    return (int(np.argmin(distances)), best) if best <= 31 else None

def timed(call):
    out = []
    for q in queries:
        start = time.perf_counter_ns()
        call(q)
        out.append((time.perf_counter_ns() - start) / 1e6)
    return statistics.median(out), sorted(out)[len(out) * 9 // 10]

found = [find(q) for q in queries]
if kind == "abhaya":
    assert found == [scan(q) for q in queries], "the index disagrees with the linear scan"
matched = sum(1 for q in queries if scan(q) is not None)
index_runs, scan_runs = [], []
for _ in range(runs):  # alternate, so a busy moment of the machine falls on both
    index_runs.append(timed(find))
    scan_runs.append(timed(scan))
print(json.dumps({
    "build_s": build, "rss_mib": grown, "matched": matched, "queries": len(queries),
    "p50": statistics.median(r[0] for r in index_runs),
    "p90": statistics.median(r[1] for r in index_runs),
    "scan_p50": statistics.median(r[0] for r in scan_runs),
    "scan_p90": statistics.median(r[1] for r in scan_runs),
}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    _hashing(args.runs)

    results = {}
    for kind in ("abhaya", "faiss"):
        if (
            kind == "faiss"
            and subprocess.run(
                [sys.executable, "-c", "import faiss"], capture_output=True, check=False
            ).returncode
        ):
            print("\nfaiss-cpu is not installed: its row is left out")
            continue
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, kind, str(args.entries), str(args.runs)],
            capture_output=True, text=True, check=True, env=env,
        )  # fmt: skip
        results[kind] = json.loads(done.stdout)
    first = results["abhaya"]
    print(
        f"\n{args.entries:,} random listed hashes; {first['queries']} queries "
        f"({first['matched']} within 31 bits of a listed hash); one thread\n"
    )
    print("| index | build s | RSS MiB | match p50 ms | p90 ms | p50 / linear scan |")
    print("|---|---:|---:|---:|---:|---:|")
    hashes_mib = args.entries * 32 / 2**20
    print(f"| linear scan, numpy (baseline) | - | {hashes_mib:.0f} (the hashes) | "
          f"{first['scan_p50']:.3f} | {first['scan_p90']:.3f} | 1.00 |")  # fmt: skip
    names = {"abhaya": "`PdqIndex` (16 bands)", "faiss": "faiss `IndexBinaryMultiHash`"}
    for kind, row in results.items():
        print(
            f"| {names[kind]} | {row['build_s']:.2f} | {row['rss_mib']:.0f} | {row['p50']:.3f} "
            f"| {row['p90']:.3f} | {row['p50'] / row['scan_p50']:.3f} |"
        )

    _parsing(args.entries)
    print(
        f"\nMachine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}, Python {sys.version.split()[0]}"
    )


def _hashing(runs: int) -> None:
    import numpy as np
    import pdqhash

    sys.path.insert(0, str(ROOT))
    from abhaya.models.pdq import hamming, pdq_hash
    from tests.models.test_pdq import noise, poster, scene, shapes

    size = (1024, 768)
    images = {
        "shapes": shapes(1, size),
        "scene": scene(3, size),
        "blotches": noise(2, size),
        "text poster": poster(3, size),
    }

    def full(image: object) -> bytes:
        vector, _ = pdqhash.compute(np.asarray(image))
        return np.packbits(np.asarray(vector, dtype=np.uint8)).tobytes()

    def timed(call: object, image: object, times: int = 20) -> float:
        out = []
        for _ in range(times):
            start = time.perf_counter_ns()
            call(image)  # type: ignore[operator]
            out.append((time.perf_counter_ns() - start) / 1e6)
        return statistics.median(out)

    print("PDQ hash of a 1024x768 RGB image (ms, median of runs of 20):\n")
    print("| image | full image, `pdqhash.compute` (baseline) | `pdq_hash` (512 px) | ratio "
          "| bits apart | quality |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|")
    for name, image in images.items():
        base, ours = [], []
        for _ in range(runs):
            base.append(timed(full, image))
            ours.append(timed(pdq_hash, image))
        result = pdq_hash(image)
        print(
            f"| {name} | {statistics.median(base):.2f} | {statistics.median(ours):.2f} | "
            f"{statistics.median(ours) / statistics.median(base):.2f} | "
            f"{hamming(full(image), result.bits)} | {result.quality} |"
        )


def _parsing(entries: int) -> None:
    import numpy as np

    from abhaya.filters.lists.hashlist import parse_hash_list

    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "known.txt"
        rows = rng.integers(0, 256, (entries, 32), dtype=np.uint8)
        path.write_text(
            "# name: bench\n"
            + "".join(f"{bytes(row).hex()} case-{i}\n" for i, row in enumerate(rows))
        )
        begin = time.perf_counter()
        parsed = parse_hash_list(path)
        seconds = time.perf_counter() - begin
    print(f"\n`parse_hash_list` of {len(parsed.labels):,} labelled lines: {seconds:.2f} s")


if __name__ == "__main__":
    main()
