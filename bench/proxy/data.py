"""Deterministic, invented benchmark data: block lists, keywords, the page and the request mix.

Everything is built from made-up syllable words with a fixed seed, so two runs load the same
lists and send the same requests, and nothing real or explicit is needed.  The keyword
vocabulary and the vocabulary of pages and queries are disjoint, so every benchmark request is
allowed: the proxies do all their checking work and then pass the request on.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

SEED = 20261130
_ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "ch", "sh")
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ou")
_CODAS = ("", "", "n", "r", "l", "k", "m")
_TLDS = ("test", "example", "invalid")
PAGE_BYTES = 1024


@dataclass(frozen=True)
class BenchData:
    """Files written for one run, and the facts the runner needs about them."""

    domains_file: Path  # one domain per line (Abhaya plain list and e2guardian site list)
    keywords: tuple[str, ...]  # terms and phrases, lower case, words separated by one space
    page: bytes  # the origin's response body
    paths: tuple[str, ...]  # origin-form request targets, cycled by wrk
    blocked_domain: str  # a listed domain, for the sanity check
    blocked_term: str  # a listed keyword, for the sanity check


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(
        rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables)
    )


def _vocabulary(rng: random.Random, size: int, syllables: int) -> list[str]:
    words: dict[str, None] = {}
    while len(words) < size:
        words[_word(rng, syllables)] = None
    return list(words)


def generate(folder: Path, domains: int, keywords: int, paths: int = 1000) -> BenchData:
    """Write the domain list into `folder` and return everything else in memory."""
    rng = random.Random(SEED)
    keyword_vocab = _vocabulary(rng, 4000, 3)
    taken = set(keyword_vocab)
    benign_vocab = [w for w in _vocabulary(rng, 2500, 2) if w not in taken]
    domain_vocab = _vocabulary(rng, 5000, 2)

    terms: dict[str, None] = {}
    while len(terms) < keywords:
        n = rng.choice((1, 2, 2, 3))
        terms[" ".join(rng.choice(keyword_vocab) for _ in range(n))] = None

    names: dict[str, None] = {}
    while len(names) < domains:
        name = f"{rng.choice(domain_vocab)}{rng.choice(domain_vocab)}{rng.randrange(100)}"
        prefix = rng.choice(("", "", "", "www.", "m.", "cdn."))
        names[f"{prefix}{name}.{rng.choice(_TLDS)}"] = None
    domains_file = folder / "domains.txt"
    domains_file.write_text("\n".join(names) + "\n", encoding="ascii")

    return BenchData(
        domains_file=domains_file,
        keywords=tuple(terms),
        page=_page(rng, benign_vocab),
        # Near misses use words of listed phrases, never a word that is a listed term itself.
        paths=_paths(rng, benign_vocab, [w for w in keyword_vocab if w not in terms], paths),
        blocked_domain=next(iter(names)),
        blocked_term=next(iter(terms)),
    )


def _page(rng: random.Random, vocab: list[str]) -> bytes:
    head = b"<!doctype html><html><head><title>bench page</title></head><body><p>"
    tail = b"</p></body></html>\n"
    words: list[str] = []
    while len(head) + len(tail) + len(" ".join(words)) < PAGE_BYTES - 12:
        words.append(rng.choice(vocab))
    body = head + " ".join(words).encode("ascii") + tail
    return body + b" " * (PAGE_BYTES - len(body))


def _paths(
    rng: random.Random, benign: list[str], keyword_vocab: list[str], count: int
) -> tuple[str, ...]:
    """Nine in ten are plain page loads; one in ten a `/search?q=` query that is allowed.

    Queries mix benign words with single words of the keyword vocabulary, so the keyword
    matcher sees near misses (a word of a listed phrase, never a whole listed term).
    """
    out: list[str] = []
    for i in range(count):
        if i % 10 == 9:
            words = [rng.choice(benign) for _ in range(rng.randint(1, 3))]
            words.insert(rng.randrange(len(words) + 1), rng.choice(keyword_vocab))
            out.append("/search?q=" + "+".join(words))
        else:
            out.append(f"/articles/{rng.choice(benign)}-{rng.choice(benign)}/{i}.html?ref=home")
    return tuple(out)


def query_words(path: str) -> list[str]:
    """The words of a `/search?q=` target (empty for a page load)."""
    if not path.startswith("/search?q="):
        return []
    return path.removeprefix("/search?q=").split("+")
