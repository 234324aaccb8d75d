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
TLDS = (
    ["com"] * 40
    + ["net"] * 8
    + ["org"] * 6
    + ["info", "biz", "xyz", "top", "online"] * 2
    + [
        "ru",
        "de",
        "fr",
        "in",
        "co.in",
        "co.uk",
        "com.br",
        "nl",
        "pl",
        "it",
        "es",
        "jp",
        "cn",
        "io",
    ]
)
SYLLABLES = [
    "ka",
    "ri",
    "to",
    "ne",
    "mo",
    "la",
    "shi",
    "pa",
    "vi",
    "de",
    "on",
    "ex",
    "zo",
    "ber",
    "tra",
    "cam",
    "hub",
    "net",
    "fox",
    "star",
    "tube",
    "clip",
    "pix",
    "ad",
    "track",
    "me",
]
PREFIXES = ["www.", "m.", "cdn.", "img.", "static.", "api.", "ads.", "media."]
QUERIES = 300_000
REPEATS = 5

# Runs in a fresh interpreter that holds nothing but the cached list, as the agent does.
CHILD = r"""
import json, statistics, sys, time
import psutil
from pathlib import Path
from abhaya.filters.lists.cache import load_list
from abhaya.filters.lists.parse import ListFormat

def per_second(fn, queries, repeats):
    times = []
    for _ in range(repeats):
        start = time.process_time()
        for q in queries:
            fn(q)
        times.append(time.process_time() - start)
    return len(queries) / statistics.median(times)

list_path, cache_dir, queries_file, repeats = sys.argv[1:5]
proc = psutil.Process()
queries = Path(queries_file).read_text().split("\n")
base = proc.memory_info().rss
start = time.perf_counter()
compiled = load_list(Path(list_path), "bench", ListFormat.PLAIN, Path(cache_dir))
load_s = time.perf_counter() - start
after_load = proc.memory_info().rss
match = compiled.domains.match
hits = sum(1 for q in queries if match(q) is not None)
ours = per_second(match, queries, int(repeats))
after_lookups = proc.memory_info().rss
exact = set(Path(list_path).read_text().split("\n"))
baseline = per_second(exact.__contains__, queries, int(repeats))
print(json.dumps({"load_s": load_s, "base": base, "after_load": after_load,
                  "after_lookups": after_lookups, "hits": hits, "size": len(compiled.domains),
                  "ours": ours, "baseline": baseline}))
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


def child_load(path: Path, cache_dir: Path, queries_file: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(cache_dir), str(queries_file), str(REPEATS)],
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
    ours = statistics.median(r["ours"] for r in loads)
    baseline = statistics.median(r["baseline"] for r in loads)
    mib = 1024 * 1024
    trie_files = sum(p.stat().st_size for p in cache_dir.glob("*.marisa"))

    def median_mib(field: str, minus_base: bool = True) -> str:
        values = [r[field] - (r["base"] if minus_base else 0) for r in loads]
        return f"{statistics.median(values) / mib:.1f}"

    return {
        "domains": f"{size:,}",
        "file MiB": f"{path.stat().st_size / mib:.0f}",
        "parse s": f"{parse_s:.1f}",
        "parse+compile+cache s": f"{build_s:.1f}",
        "cache MiB": f"{trie_files / mib:.1f}",
        "load from cache s (median)": f"{statistics.median(r['load_s'] for r in loads):.3f}",
        "RSS +load MiB": median_mib("after_load"),
        "RSS +lookups MiB": median_mib("after_lookups"),
        "RSS total MiB": median_mib("after_lookups", minus_base=False),
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
