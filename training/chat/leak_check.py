"""Compare the generated messages with a validation file, to prove no line was reproduced.

Reads the validation file only to measure overlap, never to generate: for each validation line it
finds the generated message with the highest token Jaccard (sets of lower-cased word tokens) and
prints the closest pairs, so a template that reproduces a line can be rewritten.

    python training/chat/leak_check.py ../shared/data/chat/messages_dev.jsonl [--top 20]
    python training/chat/leak_check.py ../shared/data/chat/conversations_dev.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import examples  # noqa: E402

# Words are runs between spaces and punctuation: \w would split Devanagari at its vowel signs.
_TOKEN = re.compile(r"[^\s.,!?;:।\"'()]+")


def tokens(text: str) -> frozenset[str]:
    return frozenset(_TOKEN.findall(text.lower()))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("validation", type=Path, help="messages or conversations JSON lines")
    parser.add_argument("--top", type=int, default=20, help="closest pairs to print")
    args = parser.parse_args(argv)
    made = [(tokens(e.text), e.text) for e in examples()]
    pairs: list[tuple[float, str, str]] = []
    for raw in args.validation.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        record = json.loads(raw)
        # messages_dev.jsonl has one text a line; conversations_dev.jsonl a list of messages.
        texts = (
            [m["text"] for m in record["messages"]] if "messages" in record else [record["text"]]
        )
        for text in texts:
            mine = tokens(text)
            score, closest = max((jaccard(mine, theirs), own) for theirs, own in made)
            pairs.append((score, text, closest))
    pairs.sort(reverse=True)
    for score, text, closest in pairs[: args.top]:
        print(f"{score:.2f}\tvalidation: {text}\n\tgenerated:  {closest}")
    above = sum(1 for score, _, _ in pairs if score > 0.8)
    print(f"max token Jaccard {pairs[0][0]:.2f}; validation lines above 0.8: {above}/{len(pairs)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
