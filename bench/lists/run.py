"""Benchmark block-list loading and domain lookups at UT1 scale (1M and 5M domains).

Run by hand (never in CI):  /work/venv/bin/python bench/lists/run.py [--sizes 1000000 5000000]

Measures, per list size: parse time, parse+compile(+cache write) time, load-from-cache time and
process memory in a fresh child process, and lookups per second on one core against a plain
Python `set` baseline measured in the same run.  Prints a markdown table.  See README.md.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from abhaya.filters.lists.cache import load_list
from abhaya.filters.lists.parse import ListFormat, parse_list

SEED = 20240601
TLDS = ["com"] * 40 + ["net"] * 8 + ["org"] * 6 + ["info", "biz", "xyz", "top", "online"] * 2 + [
    "ru", "de", "fr", "in", "co.in", "co.uk", "com.br", "nl", "pl", "it", "es", "jp", "cn", "io",
]
SYLLABLES = [
    "ka", "ri", "to", "ne", "mo", "la", "shi", "pa", "vi", "de", "on", "ex", "zo", "ber",
    "tra", "cam", "hub", "net", "fox", "star", "tube", "clip", "pix", "ad", "track", "me",
]
PREFIXES = ["www.", "m.", "cdn.", "img.", "static.", "api.", "ads.", "media."]
QUERIES = 300_000
REPEATS = 5

CHILD = r"""
import json, sys, time
import psutil
from pathlib import Path
from abhaya.filters.lists.cache import load_list
from abhaya.filters.lists.parse import ListFormat
proc = psutil.Process()
queries = Path(sys.argv[3]).read_text().split("\n")
base = proc.memory_info().rss
start = time.perf_counter()
compiled = load_list(Path(sys.argv[1]), "bench", ListFormat.PLAIN, Path(sys.argv[2]))
elapsed = time.perf_counter() - start
after_load = proc.memory_info().rss
match = compiled.domains.match
hits = sum(1 for q in queries if match(q) is not None)
after_lookups = proc.memory_info().rss
print(json.dumps({"load_s": elapsed, "base": base, "after_load": after_load,
                  "after_lookups": after_lookups, "hits": hits, "size": len(compiled.domains)}))
"""


def make_domains(rng: random.Random, count: int) -> list[str]:
    """`count` unique, plausible registrable names, some with a subdomain, some Unicode-free."""
    seen: dict[str, None] = {}
    while len(seen) < count:
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if rng.random() < 0.3:
            name += str(rng.randint(1, 999))
        if rng.random() < 0.1:
            name += "-" + rng.choice(SYLLABLES) * 2
        domain = f"{name}.{rng.choice(TLDS)}"
        if rng.random() < 0.15:
            domain = rng.choice(PREFIXES) + domain
        seen[domain] = None
    return list(seen)


def make_queries(rng: random.Random, listed: Sequence[str], misses: Sequence[str]) -> list[str]:
    """A third exact hits, a third subdomains of listed domains, a third misses."""
    third = QUERIES // 3
    exact = rng.sample(listed, third)
    sub = [rng.choice(PREFIXES) + d for d in rng.sample(listed, third)]
    queries = exact + sub + list(misses[:third])
    rng.shuffle(queries)
    return queries


def _covered(domain: str, listed: set[str]) -> bool:
    labels = domain.split(".")
    return any(".".join(labels[i:]) in listed for i in range(len(labels)))


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def lookups_per_second(fn: Callable[[str], object], queries: list[str]) -> float:
    def run() -> None:
        for q in queries:
            fn(q)

    return len(queries) / statistics.median(timed(run) for _ in range(REPEATS))


def child_load(path: Path, cache_dir: Path, queries_file: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(cache_dir), str(queries_file)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout))


def bench(size: int, work: Path) -> dict[str, str]:
    rng = random.Random(SEED + size)
    generated = make_domains(rng, size + QUERIES)
    listed = generated[:size]
    exact = set(listed)
    misses = [d for d in generated[size:] if not _covered(d, exact)]
    path = work / f"plain-{size}.txt"
    path.write_text("# generated benchmark list\n" + "\n".join(listed) + "\n", encoding="utf-8")
    queries = make_queries(rng, listed, misses)
    queries_file = work / f"queries-{size}.txt"
    queries_file.write_text("\n".join(queries), encoding="utf-8")
    cache_dir = work / f"cache-{size}"

    parse_s = timed(lambda: parse_list(path, ListFormat.PLAIN))
    build_s = timed(lambda: load_list(path, "bench", ListFormat.PLAIN, cache_dir))
    loads = [child_load(path, cache_dir, queries_file) for _ in range(REPEATS)]
    assert all(r["size"] == size for r in loads), "cached set has the wrong size"
    assert all(r["hits"] == 2 * (QUERIES // 3) for r in loads), "wrong number of hits"

    compiled = load_list(path, "bench", ListFormat.PLAIN, cache_dir)
    ours = lookups_per_second(compiled.domains.match, queries)
    baseline = lookups_per_second(exact.__contains__, queries)
    mib = 1024 * 1024
    trie_files = sum(p.stat().st_size for p in cache_dir.glob("*.marisa"))
    return {
        "domains": f"{size:,}",
        "file MiB": f"{path.stat().st_size / mib:.0f}",
        "parse s": f"{parse_s:.1f}",
        "parse+compile+cache s": f"{build_s:.1f}",
        "cache MiB": f"{trie_files / mib:.1f}",
        "load from cache s (median)": f"{statistics.median(r['load_s'] for r in loads):.3f}",
        "RSS +load MiB": f"{statistics.median(r['after_load'] - r['base'] for r in loads) / mib:.1f}",
        "RSS +lookups MiB": (
            f"{statistics.median(r['after_lookups'] - r['base'] for r in loads) / mib:.1f}"
        ),
        "RSS total MiB": f"{statistics.median(r['after_lookups'] for r in loads) / mib:.0f}",
        "match/s (median)": f"{ours:,.0f}",
        "set/s (median)": f"{baseline:,.0f}",
        "ratio": f"{ours / baseline:.2f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="abhaya-bench-lists-") as tmp:
        for size in args.sizes:
            print(f"benchmarking {size:,} domains ...", file=sys.stderr, flush=True)
            rows.append(bench(size, Path(tmp)))
    header = list(rows[0])
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row[h] for h in header) + " |")


if __name__ == "__main__":
    main()
