"""Compact, immutable sets of domains and URL-path rules, matched by domain suffix.

`DomainSet` holds millions of domains (a UT1 category has about 5 million) in a MARISA trie:
a few bytes a domain, saved to one file and memory-mapped on load, so a cached list opens in
milliseconds and costs only the pages that lookups touch.  Each domain is stored reversed with a
leading dot (`example.com` -> `moc.elpmaxe.`), so every listed domain that covers a host is a
*prefix* of the reversed host (`moc.elpmaxe.www.|`), found with one C call.  The dot makes the
match stop at a label boundary: `example.com` covers `www.example.com`, never `notexample.com`.

Some entries must cover one host and nothing under it: a list that names the platform
`blogspot.com` must not block every blog on it (see `abhaya.filters.lists.narrow`).  Such an
exact entry is stored with a `|` after the dot (`moc.topsgolb.|`), and every lookup key ends in
`.|`, so the exact entry is a prefix of the key of that one host only.  `|` can never be part of
a normalised host, and both kinds of entry live in one trie, so a lookup is still one C call.
The layout of the keys is `KEY_FORMAT`; the list cache records it, so a saved trie is never read
with a different layout.

Hosts given to `match` must already be normalised by `abhaya.filters.urlnorm` (lowercase,
punycode, no trailing dot); the sets do no normalisation on the hot path.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from itertools import chain
from pathlib import Path

import marisa_trie

from abhaya.filters.urlnorm import NormalizedUrl, UrlError, parse_url

__all__ = ["KEY_FORMAT", "DomainSet", "UrlRuleSet"]

KEY_FORMAT = 2
"""1: suffix entries only, looked up as `("." + host)[::-1]`; 2: adds exact entries (`|`)."""


def _key(domain: str) -> str:
    return ("." + domain)[::-1]


def _exact_key(domain: str) -> str:
    return ("|." + domain)[::-1]


class DomainSet:
    """An immutable set of domains; a domain covers itself and all its subdomains, except an
    exact entry, which covers that one host only."""

    __slots__ = ("_prefixes", "_trie")

    def __init__(self, trie: marisa_trie.Trie) -> None:
        """Wrap a trie of reversed keys; use `build`, `empty` or `load` instead."""
        self._trie = trie
        self._prefixes = trie.prefixes  # bound once: lookups are the hot path

    @classmethod
    def build(cls, domains: Iterable[str], exact: Iterable[str] = ()) -> DomainSet:
        """Build from normalised domains that cover their subdomains, and `exact` ones that
        cover only themselves (duplicates are fine).

        One trie level and the largest node cache trade ~20% more bytes (about 4 bytes a domain)
        for faster lookups and a faster build than MARISA's defaults.
        """
        keys = chain((_key(d) for d in domains), (_exact_key(d) for d in exact))
        return cls(marisa_trie.Trie(keys, num_tries=1, cache_size=marisa_trie.HUGE_CACHE))

    @classmethod
    def empty(cls) -> DomainSet:
        return cls(marisa_trie.Trie([]))

    @classmethod
    def load(cls, path: Path) -> DomainSet:
        """Memory-map a file written by `save`.

        Raises `OSError` if the file cannot be read and `ValueError` if it is not a valid trie
        (MARISA checks the header and size; `abhaya.filters.lists.cache` also checks a digest).
        """
        trie = marisa_trie.Trie()
        try:
            trie.mmap(os.fspath(path))
        except RuntimeError as exc:
            if not path.is_file():
                raise FileNotFoundError(f"no domain set at {path}") from exc
            raise ValueError(f"not a valid domain set file: {path}: {exc}") from exc
        return cls(trie)

    def save(self, path: Path) -> None:
        """Write to `path` atomically (temporary file in the same folder, then rename)."""
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
        os.close(fd)
        try:
            self._trie.save(tmp)
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)  # only left behind if something failed

    def match(self, host: str) -> str | None:
        """The most specific listed domain that covers `host`, or None if none does."""
        found: list[str] = self._prefixes(("|." + host)[::-1])
        if found:
            key = found[-1]
            if key[-1] == ".":  # a covering entry: the domain reversed, then a dot
                return key[-2::-1]
            return host  # an exact entry is the host itself
        return None

    def __contains__(self, host: object) -> bool:
        """True if a listed domain covers `host` (itself or a parent domain)."""
        return isinstance(host, str) and bool(self._prefixes(("|." + host)[::-1]))

    def __len__(self) -> int:
        return len(self._trie)

    def __repr__(self) -> str:
        return f"DomainSet({len(self)} domains)"


_ByHost = dict[str, tuple[tuple[str, str], ...]]


class UrlRuleSet:
    """Immutable URL-path rules such as `example.com/some/path`.

    The host part matches by domain suffix (like `DomainSet`); the path part matches at a segment
    boundary: `/some/path` covers `/some/path`, `/some/path/x` and `/some/path?q`, not
    `/some/pathology`.  A trailing slash in a rule is ignored, and `example.com/` covers the whole
    site.  An exact rule's host covers that host only (a rule for the platform `blogspot.com`
    is not a rule for every blog on it).  Rules are few (thousands), so dicts of host -> paths
    are enough.
    """

    __slots__ = ("_exact", "_rules")

    def __init__(self, rules: _ByHost, exact: _ByHost) -> None:
        """Use `build`; each maps host -> (path prefix, rule text), longest prefix first."""
        self._rules = rules
        self._exact = exact

    @classmethod
    def build(cls, rules: Iterable[str], exact: Iterable[str] = ()) -> UrlRuleSet:
        """Normalise each rule with `parse_url`; raises `UrlError` naming a rule that is invalid.

        `exact` rules cover their host only, not its subdomains."""
        return cls(_by_host(rules), _by_host(exact))

    @classmethod
    def empty(cls) -> UrlRuleSet:
        return cls({}, {})

    def match(self, url: NormalizedUrl) -> str | None:
        """The matching rule with the most specific host, then the longest path; else None."""
        host = url.host
        path = url.path
        entries = self._exact.get(host)
        if entries:
            text = _match_path(entries, path)
            if text is not None:
                return text
        while True:
            entries = self._rules.get(host)
            if entries:
                text = _match_path(entries, path)
                if text is not None:
                    return text
            if url.is_ip:
                return None
            dot = host.find(".")
            if dot == -1:
                return None
            host = host[dot + 1 :]

    def hosts(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The hosts the rules name: those whose rules cover subdomains too, and those whose
        rules cover that host only (where a connection's content decides, not its name)."""
        return tuple(self._rules), tuple(self._exact)

    def rules(self) -> tuple[str, ...]:
        """The rules that cover subdomains too, normalised and sorted (for caching and display)."""
        return _texts(self._rules)

    def exact_rules(self) -> tuple[str, ...]:
        """The rules that cover their host only, normalised and sorted."""
        return _texts(self._exact)

    def __len__(self) -> int:
        return sum(
            len(entries) for by_host in (self._rules, self._exact) for entries in by_host.values()
        )

    def __repr__(self) -> str:
        return f"UrlRuleSet({len(self)} rules)"


def _by_host(rules: Iterable[str]) -> _ByHost:
    by_host: dict[str, set[tuple[str, str]]] = {}
    for rule in rules:
        try:
            url = parse_url(rule)
        except UrlError as exc:
            raise UrlError(f"invalid URL rule {rule[:200]!r}: {exc}") from exc
        path = url.path.rstrip("/")
        by_host.setdefault(url.host, set()).add((path, url.host + (path or "/")))
    return {
        host: tuple(sorted(paths, key=lambda p: (-len(p[0]), p[0])))
        for host, paths in by_host.items()
    }


def _match_path(entries: tuple[tuple[str, str], ...], path: str) -> str | None:
    for prefix, text in entries:
        if not prefix or path == prefix or path.startswith(prefix + "/"):
            return text
    return None


def _texts(by_host: _ByHost) -> tuple[str, ...]:
    return tuple(sorted(text for entries in by_host.values() for _, text in entries))
