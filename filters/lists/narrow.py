"""A list entry that is a public suffix covers that one host, never the sites under it.

Lists built by crawling name multi-tenant platforms: an adult list that names `blogspot.com`
would, as a domain entry, block every blog on the platform, each of them someone else's site.
In an allow list it is worse: allowing `github.io` would allow every page under it.  The Public
Suffix List names exactly these hosts (its private section holds the platforms, its ICANN
section the TLDs such as `com` and `co.uk`), so an entry for which
`abhaya.filters.suffixes.is_public_suffix` holds is kept as an exact entry
(`DomainSet.build(..., exact=...)`), and the load report says how many were narrowed, with
examples.  These are notices, not problems: nothing was skipped.

Asking the PSL about each of millions of entries costs about 5 µs each (12 s for a 2.27M-domain
list), so the few candidates are found first with set operations: an entry can only be a public
suffix if a PSL rule names it (`blogspot.com`, or the base of `*.ck`), if its parent is the base
of a wildcard rule (`x.ck`), or if it is a single label (an unknown TLD counts as public).  Only
those are asked.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import compress, filterfalse, repeat
from operator import itemgetter

import publicsuffixlist

from abhaya.filters.suffixes import is_public_suffix

__all__ = ["EXAMPLES", "Narrowed", "split_public_suffixes", "split_url_rules"]

EXAMPLES = 5
"""Narrowed entries named in a notice; the rest are counted."""


@dataclass(frozen=True)
class Narrowed:
    """The entries of one list (or one policy setting) that are public suffixes."""

    source: str
    """The list file or folder, or `policy.toml: passthrough`."""
    count: int
    examples: tuple[str, ...]
    """The first few, in list order."""

    @classmethod
    def of(cls, source: str, exact: Sequence[str]) -> Narrowed | None:
        """The notice for `exact` (the public-suffix entries of `source`), or None if none."""
        if not exact:
            return None
        return cls(source, len(exact), tuple(exact[:EXAMPLES]))

    def __str__(self) -> str:
        shown = ", ".join(self.examples)
        if self.count > len(self.examples):
            shown += f" and {self.count - len(self.examples)} more"
        entries = "entry names" if self.count == 1 else "entries name"
        return (
            f"{self.source}: {self.count} {entries} a public suffix (a platform whose sites "
            f"belong to others, or a top-level domain); each covers that exact host only, "
            f"not the sites under it: {shown}"
        )


def split_public_suffixes(domains: Sequence[str]) -> tuple[Iterable[str], tuple[str, ...]]:
    """(entries that cover their subdomains, entries that are public suffixes), in list order.

    `domains` are normalised (lower case, punycode).  The first is `domains` itself when none
    is a public suffix, else a lazy filter over it: no copy of millions of entries is made
    while the trie is built (iterate it once).
    """
    # Every loop over `domains` runs in C (set operations, map, filter, compress): a Python
    # loop costs about 60 ns an entry, which is most of the work for millions of entries.
    names, bases = _rule_names()
    candidates = set(names.intersection(domains))
    # Entries whose parent ("" for a single label) is the base of a wildcard rule.
    parents = map(itemgetter(2), map(str.partition, domains, repeat(".")))
    candidates.update(compress(domains, map(bases.__contains__, parents)))
    public = {d for d in candidates if is_public_suffix(d)}
    if not public:
        return domains, ()
    return (
        filterfalse(public.__contains__, domains),
        tuple(filter(public.__contains__, domains)),
    )


def split_url_rules(rules: Sequence[str]) -> tuple[Iterable[str], tuple[str, ...]]:
    """(rules that cover subdomains, rules whose host is a public suffix), in list order.

    `rules` are normalised `host/path` texts (`NormalizedUrl.host_path`): a rule for
    `blogspot.com/some/path` must not hold for that path on every blog."""
    _, public = split_public_suffixes(tuple(dict.fromkeys(r.partition("/")[0] for r in rules)))
    if not public:
        return rules, ()
    hosts = set(public)
    return (
        tuple(rule for rule in rules if rule.partition("/")[0] not in hosts),
        tuple(rule for rule in rules if rule.partition("/")[0] in hosts),
    )


@cache
def _rule_names() -> tuple[frozenset[str], frozenset[str]]:
    """(names the PSL has a rule for, wildcard bases plus "" for single labels), punycoded too.

    Read from the data file of the same `publicsuffixlist` package that answers
    `is_public_suffix`, so the candidates and the answers come from one list.
    """
    names: set[str] = set()
    bases: set[str] = {""}
    with open(publicsuffixlist.PSLFILE, encoding="utf-8") as file:
        for raw in file:
            line = raw.strip()
            if not line or line.startswith("//") or line.startswith("!"):
                continue  # exceptions only make a name less public
            rule = line.split()[0].lower()
            wildcard = rule.startswith("*.")
            rule = rule.removeprefix("*.")
            spellings = {rule}
            if not rule.isascii():
                with contextlib.suppress(UnicodeError):  # then the package cannot match it either
                    spellings.add(publicsuffixlist.encode_idn(rule))
            names.update(spellings)  # the package counts a wildcard's base as public too
            if wildcard:
                bases.update(spellings)
    return frozenset(names), frozenset(bases)
