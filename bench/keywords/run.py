"""Benchmark: keyword matching (normalise + match) against a casefold + Aho-Corasick baseline.

Builds a matcher from 10,000 generated keywords (invented, benign syllable words; single words
and 2-3 word phrases, some in Devanagari), generates a few MB of search-query-like text (short
queries, mostly ASCII, some accented Latin, some Devanagari, a few obfuscated spellings), and
measures MB/s (UTF-8 input bytes) end to end:

- documents: the text cut into ~4 kB pieces (a page of text, or a batch of queries);
- queries: every query line matched on its own (the proxy's per-search case);
- baseline: ``str.casefold()`` + ``ahocorasick_rs`` over the same raw text with casefolded
  keywords (no normalisation, no whole-word rule), in the same run.

Each figure is the median of --repeats runs; the first (cold-cache) run is shown as well, and
the median time per item (per document, or per query: the proxy's per-search latency).
Run from the repository root:  /work/venv/bin/python bench/keywords/run.py
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable

import ahocorasick_rs

from abhaya.filters.keywords import KeywordEntry, KeywordMatcher

LATIN_ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "tr"]
LATIN_VOWELS = ["a", "e", "i", "o", "u", "ai", "oo", "ee"]
DEVA_CONSONANTS = "कखगचजटडतदनपबमयरलवसह"
DEVA_MATRAS = ["", "ा", "ि", "ी", "ु", "ू", "े", "ो"]
COMMON = [
    "how",
    "to",
    "make",
    "best",
    "cheap",
    "near",
    "me",
    "weather",
    "today",
    "news",
    "song",
    "lyrics",
    "video",
    "download",
    "free",
    "online",
    "recipe",
    "easy",
    "quick",
    "school",
    "homework",
    "class",
    "maths",
    "science",
    "history",
    "map",
    "of",
    "india",
    "delhi",
    "mumbai",
    "cricket",
    "score",
    "match",
    "live",
    "train",
    "ticket",
    "price",
    "game",
    "play",
    "store",
    "app",
    "photo",
    "drawing",
    "kids",
    "story",
    "in",
    "hindi",
    "english",
    "meaning",
    "translate",
    "what",
    "is",
    "the",
    "a",
    "for",
    "with",
    "and",
    "2024",
    "2025",
    "10",
    "100",
    "top",
    "list",
]
HINDI = [
    "मौसम",
    "आज",
    "का",
    "गाना",
    "कहानी",
    "बच्चों",
    "के",
    "लिए",
    "कैसे",
    "बनाएं",
    "खाना",
    "दिल्ली",
    "समाचार",
    "क्रिकेट",
    "स्कोर",
]
ACCENTED = ["café", "naïve", "résumé", "jalapeño", "crème", "über", "façade"]


def invented_word(rng: random.Random, devanagari: bool) -> str:
    if devanagari:
        return "".join(
            rng.choice(DEVA_CONSONANTS) + rng.choice(DEVA_MATRAS) for _ in range(rng.randint(2, 4))
        )
    return "".join(
        rng.choice(LATIN_ONSETS) + rng.choice(LATIN_VOWELS) for _ in range(rng.randint(2, 4))
    )


def make_keywords(rng: random.Random, count: int) -> list[str]:
    out: dict[str, None] = {}
    while len(out) < count:
        devanagari = rng.random() < 0.1
        words = rng.choices([1, 2, 3], weights=[6, 3, 1])[0]
        out[" ".join(invented_word(rng, devanagari) for _ in range(words))] = None
    return list(out)


def obfuscate(rng: random.Random, word: str) -> str:
    choice = rng.randrange(4)
    if choice == 0:
        return word.upper()
    if choice == 1:
        return ".".join(word)
    if choice == 2:
        return word.replace("o", "0").replace("e", "3").replace("a", "@")
    return word.replace("a", "aaaa")


def make_queries(rng: random.Random, keywords: list[str], size: int) -> list[str]:
    weights = [1.0 / (rank + 1) for rank in range(len(COMMON))]  # Zipf-like
    lines: list[str] = []
    total = 0
    while total < size:
        roll = rng.random()
        if roll < 0.1:
            words = rng.choices(HINDI, k=rng.randint(2, 5))
        else:
            words = rng.choices(COMMON, weights=weights, k=rng.randint(2, 6))
            if roll < 0.15:
                words.append(rng.choice(ACCENTED))
        if rng.random() < 0.02:
            keyword = rng.choice(keywords)
            words.insert(rng.randrange(len(words) + 1), obfuscate(rng, keyword))
        line = " ".join(words)
        lines.append(line)
        total += len(line.encode()) + 1
    return lines


def chunk(lines: list[str], size: int) -> list[str]:
    out: list[str] = []
    current: list[str] = []
    length = 0
    for line in lines:
        current.append(line)
        length += len(line) + 1
        if length >= size:
            out.append("\n".join(current))
            current, length = [], 0
    if current:
        out.append("\n".join(current))
    return out


def measure(repeats: int, work: Callable[[], object]) -> tuple[float, float]:
    """(first run seconds, median of all runs seconds)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times[0], statistics.median(times)


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


RISKY = [
    # generated combinations of class terms, so the rules have work to do
    "k1d nud3s",
    "preteen pics",
    "nabalig nangi",
    "cp links",
    "13yo video",
    "how to end my life",
    "nude pics",
    "childporn",
    "kids yoga",
    "cerebral palsy cp therapy",
]


def decision_latency(lines: list[str], repeats: int) -> list[tuple[str, float, float]]:
    """Median and 90th-percentile microseconds of one search's whole `decide()` (URL parsing,
    engine lookup, keyword lists, search rules, safe search), with the default policy, with
    and without the search rules (the same-run baseline)."""
    import dataclasses
    import datetime as dt

    from abhaya.filters.decide import decide
    from abhaya.filters.evaluate import search_url
    from abhaya.filters.policy.compile import load_policy
    from abhaya.filters.searchrules import SearchRules
    from abhaya.filters.verdict import RequestInfo

    profile = load_policy().profile()
    bare = dataclasses.replace(
        profile, book=dataclasses.replace(profile.book, search_rules=SearchRules.empty())
    )
    requests = [RequestInfo(search_url(line)) for line in lines]
    now = dt.datetime.now(dt.UTC)
    out = []
    for name, chosen in (("without search rules", bare), ("with search rules", profile)):
        samples: list[int] = []
        for _ in range(repeats):
            for request in requests:
                start = time.perf_counter_ns()
                decide(request, chosen, now)
                samples.append(time.perf_counter_ns() - start)
        samples.sort()
        out.append((name, samples[len(samples) // 2] / 1e3, samples[len(samples) * 9 // 10] / 1e3))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keywords", type=int, default=10_000)
    parser.add_argument("--megabytes", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=20261129)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    keywords = make_keywords(rng, args.keywords)
    lines = make_queries(rng, keywords, int(args.megabytes * 1_000_000))
    documents = chunk(lines, 4096)
    megabytes = sum(len(line.encode()) + 1 for line in lines) / 1e6

    start = time.perf_counter()
    matcher = KeywordMatcher.build(
        KeywordEntry(k, "bench", f"bench:{n}") for n, k in enumerate(keywords, start=1)
    )
    build_seconds = time.perf_counter() - start
    baseline = ahocorasick_rs.AhoCorasick([k.casefold() for k in keywords])

    hits = sum(len(matcher.find(d)) for d in documents)
    base_hits = sum(len(baseline.find_matches_as_indexes(d.casefold())) for d in documents)

    ascii_documents = chunk([line for line in lines if line.isascii()], 4096)
    ascii_megabytes = sum(len(d.encode()) + 1 for d in ascii_documents) / 1e6
    # (name, megabytes, items, baseline work, Abhaya work)
    cases: list[tuple[str, float, int, Callable[[], object], Callable[[], object]]] = [
        ("4 kB documents, mixed scripts", megabytes, len(documents), lambda: [
            baseline.find_matches_as_indexes(d.casefold(), overlapping=True) for d in documents
        ], lambda: [matcher.find(d) for d in documents]),
        ("4 kB documents, ASCII lines only", ascii_megabytes, len(ascii_documents), lambda: [
            baseline.find_matches_as_indexes(d.casefold(), overlapping=True)
            for d in ascii_documents
        ], lambda: [matcher.find(d) for d in ascii_documents]),
        ("one query at a time", megabytes, len(lines), lambda: [
            baseline.find_matches_as_indexes(q.casefold(), overlapping=True) for q in lines
        ], lambda: [matcher.find(q) for q in lines]),
    ]  # fmt: skip

    print(
        f"Keyword matching benchmark ({len(keywords)} keywords, {megabytes:.2f} MB, "
        f"{len(lines)} queries, {len(documents)} documents, median of {args.repeats})\n"
    )
    print("| case | baseline MB/s | Abhaya MB/s (first run) | Abhaya MB/s (median) "
          "| Abhaya items/s | Abhaya µs per item (median) "
          "| Abhaya time / baseline time |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, size, items, base_work, work in cases:
        _, base_median = measure(args.repeats, base_work)
        first, median = measure(args.repeats, work)
        print(f"| {name} | {size / base_median:.1f} | {size / first:.1f} | {size / median:.1f} "
              f"| {items / median:,.0f} | {median / items * 1e6:.2f} "
              f"| {median / base_median:.1f}x |")  # fmt: skip
    sample = [*lines[:20_000], *RISKY * 200]
    print(
        f"\nOne search's whole decision (default policy, {len(sample)} Google search URLs, "
        f"{len(RISKY) * 200} of them with rule terms, {args.repeats} passes):\n"
    )
    print("| decision | p50 µs | p90 µs |")
    print("|---|---:|---:|")
    for name, p50, p90 in decision_latency(sample, args.repeats):
        print(f"| {name} | {p50:.1f} | {p90:.1f} |")  # fmt: skip
    print(f"\nMatcher build: {build_seconds:.2f} s.  Hits: Abhaya {hits} whole-word/phrase hits; "
          f"baseline {base_hits} raw substring hits.")  # fmt: skip
    print(f"Machine: {cpu_name()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"{platform.system()} {platform.release()}")  # fmt: skip


if __name__ == "__main__":
    main()
