"""Search-decision cost with the on-device query model, and what the model finds on its own.

Run by hand from the repository root, never in CI:

    .venv/bin/python bench/querymodel/run.py [--queries 600] [--labelled FILE.jsonl]

1. One search's whole `decide()` (URL parsing, keyword lists, search rules, safe search, and the
   model whenever the rules leave the query undecided), with the embedded default policy, call by
   call: without the model (the same-run baseline), with it on queries never seen before (the
   model runs), and with it on a repeated query (its small cache answers).
2. With `--labelled` (the validation set's format): what the model alone would warn, per
   category, at its thresholds; the rules are not consulted.  This shows how much of a kind the
   second opinion reaches by itself, which the rules' own table cannot.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORDS = ROOT / "training" / "query_head" / "words"


def everyday_queries(count: int, seed: int) -> list[str]:
    """Unique innocent-looking queries of 2 to 4 phrases from the training folder's word lists
    (children's activities, media, everyday topics, look-alike words)."""
    words = [
        line.strip()
        for path in sorted(WORDS.glob("*.txt"))
        if path.stem != "idiom"  # whole sentences; chained together they read like a diary
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    rng = random.Random(seed)
    made: set[str] = set()
    while len(made) < count:
        made.add(" ".join(rng.sample(words, rng.randint(2, 4))))
    return sorted(made)


def percentiles(samples: list[int]) -> tuple[float, float]:
    samples = sorted(samples)
    return samples[len(samples) // 2] / 1e6, samples[len(samples) * 9 // 10] / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--labelled", type=Path, metavar="FILE.jsonl")
    parser.add_argument("--model-dir", type=Path, help="encoder cache (default: a temp folder)")
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args()

    import datetime as dt

    from abhaya.filters.decide import decide
    from abhaya.filters.evaluate import search_url
    from abhaya.filters.policy.compile import load_policy
    from abhaya.filters.querymodel import QueryModel
    from abhaya.filters.verdict import Reason, RequestInfo
    from abhaya.models.querymodel import load_query_model

    folder = args.model_dir or Path(tempfile.mkdtemp(prefix="abhaya-bench-model-"))
    start = time.perf_counter()
    model = load_query_model(folder)
    load_seconds = time.perf_counter() - start
    plain = load_policy().profile()
    with_model = load_policy(scorer=lambda: model).profile()
    now = dt.datetime.now(dt.UTC)
    queries = everyday_queries(args.queries, args.seed)
    requests = [RequestInfo(search_url(q)) for q in queries]

    def timed(profile: object, batch: list[RequestInfo]) -> list[int]:
        samples = []
        for request in batch:
            begin = time.perf_counter_ns()
            decide(request, profile, now)  # type: ignore[arg-type]
            samples.append(time.perf_counter_ns() - begin)
        return samples

    for request in requests[:20]:  # warm both paths (first calls allocate)
        decide(request, plain, now)
    decide(RequestInfo(search_url("warm up the session")), with_model, now)
    baseline = timed(plain, requests)
    fresh = timed(with_model, requests)
    repeated = timed(with_model, [requests[0]] * len(requests))
    judged = sum(decide(r, with_model, now).reason is Reason.MODEL for r in requests)

    print(f"Search decision, default policy, {len(requests)} unique everyday queries "
          f"(model loaded in {load_seconds:.2f} s):\n")  # fmt: skip
    print("| decision | p50 ms | p90 ms | p50 / baseline |")
    print("|---|---:|---:|---:|")
    base50, base90 = percentiles(baseline)
    for name, samples in (
        ("without the model (baseline)", baseline),
        ("with the model, new queries", fresh),
        ("with the model, a repeated query", repeated),
    ):
        p50, p90 = percentiles(samples)
        print(f"| {name} | {p50:.3f} | {p90:.3f} | {p50 / base50:.1f}x |")
    print(f"\nThe model judged {judged} of these {len(requests)} everyday queries risky "
          f"(thresholds {dict((str(k), v) for k, v in model.thresholds.items())}).")  # fmt: skip

    if args.labelled:
        rows = [json.loads(line) for line in args.labelled.read_text("utf-8").splitlines() if line]
        tally: dict[tuple[str, str], list[int]] = {}
        judge = QueryModel.with_overrides(model, {}).judge  # as decide() asks it
        for row in rows:
            flagged = {str(match.category) for match in judge(row["q"])}
            category = row["category"]
            if category == "none":
                ok = not flagged
            else:
                ok = category in flagged or (category == "adult" and "csam" in flagged)
            counted = [(category, ok)]
            if category == "csam":  # below the csam threshold, the adult score still blocks
                counted.append(("csam, blocked as csam or adult", bool(flagged)))
            for name, good in counted:
                for key in ((name, "all"), (name, row["lang"])):
                    tally.setdefault(key, [0, 0])
                    tally[key][0] += good
                    tally[key][1] += 1
        langs = sorted({lang for _, lang in tally} - {"all"})
        print(f"\nThe model alone on {args.labelled.name} (warned as expected; innocent passed):\n")
        print("| category | all | " + " | ".join(langs) + " |")
        print("|---|---:|" + "---:|" * len(langs))
        for category in ("csam", "csam, blocked as csam or adult", "self_harm", "adult", "none"):
            cells = []
            for lang in ("all", *langs):
                good, total = tally.get((category, lang), (0, 0))
                cells.append(f"{good}/{total}" if total else "-")
            print(f"| {category} | " + " | ".join(cells) + " |")
    print(f"\nMachine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}; model {model.version}")  # fmt: skip


if __name__ == "__main__":
    main()
