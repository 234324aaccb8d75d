"""Search-keyword matcher: whole words and phrases, after obfuscation-resistant normalisation.

Keywords and text both pass through `textnorm`, and the automaton runs over the space-padded
canonical text with space-padded canonical patterns, so only whole words and whole phrases match:
``sex`` does not fire on "Essex", nor ``ass`` on "assassin".

Collapsing stretched letters makes ``kiiiill`` match ``kill``, but it would also make ``as``
match ``ass`` and ``but`` match ``butt``.  So a keyword with a doubled letter records where its
doubles are, and a candidate hit is kept only if the text has at least two of each of those
letters (``asss`` and ``a$$`` still match ``ass``; ``as`` does not).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import ahocorasick_rs

from abhaya.filters import textnorm
from abhaya.filters.problems import LineProblem

__all__ = [
    "KeywordEntry",
    "KeywordHit",
    "KeywordLoadError",
    "KeywordMatcher",
    "KeywordProblem",
    "parse_keyword_file",
]

MAX_TERM_CHARS = 100
_RUN = re.compile(r"(.)\1*")
_INLINE_COMMENT = re.compile(r"\s+#.*$")


@dataclass(frozen=True, slots=True)
class KeywordEntry:
    """One keyword or phrase as written in a list, with the category and place it came from."""

    term: str
    category: str
    source: str  # "file:line"


@dataclass(frozen=True, slots=True)
class KeywordHit:
    """A keyword found in a text."""

    term: str
    category: str
    source: str


KeywordProblem = LineProblem
"""A line of a keyword file that was skipped, and why."""


class KeywordLoadError(Exception):
    """A keyword file could not be read at all (missing, unreadable, not UTF-8)."""


def parse_keyword_file(
    path: Path, category: str
) -> tuple[list[KeywordEntry], list[KeywordProblem]]:
    """Read one keyword list: one term or phrase per line, ``#`` comments, blank lines ignored.

    Bad lines are reported and skipped so one typo does not disable a whole list; a file that
    cannot be read raises `KeywordLoadError`.
    """
    try:
        content = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeywordLoadError(f"cannot read keyword file {path}: {exc}") from exc
    entries: list[KeywordEntry] = []
    problems: list[KeywordProblem] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(content.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        term = _INLINE_COMMENT.sub("", line)
        if len(term) > MAX_TERM_CHARS:
            message = f"longer than {MAX_TERM_CHARS} characters"
            problems.append(KeywordProblem(str(path), number, term[:40] + "...", message))
            continue
        canonical = textnorm.normalize(term)
        if not canonical:
            message = "no letters or digits left after normalisation"
            problems.append(KeywordProblem(str(path), number, term, message))
            continue
        if canonical in seen:
            message = f"same as line {seen[canonical]} after normalisation"
            problems.append(KeywordProblem(str(path), number, term, message))
            continue
        seen[canonical] = number
        entries.append(KeywordEntry(term, category, f"{path}:{number}"))
    return entries, problems


@dataclass(frozen=True, slots=True)
class _Target:
    """What a pattern in the automaton stands for."""

    hit: int  # index into the matcher's distinct hits (an int hashes in C, a hit in Python)
    # UTF-8 byte offsets, from the start of the space-padded pattern, of the letters the
    # keyword doubles; None when it doubles none, so there is nothing to check.
    doubles: tuple[int, ...] | None


def _run_offsets(spelled: str) -> tuple[int, ...]:
    """Byte offsets, in `spelled` with runs collapsed, of letters that stood for a run of two
    or more."""
    offsets: list[int] = []
    size = 0
    for match in _RUN.finditer(spelled):
        if len(match.group()) > 1:
            offsets.append(size)
        size += len(match.group(1).encode())
    return tuple(offsets)


class KeywordMatcher:
    """Immutable matcher over a set of keyword entries; build once, call `find` per text."""

    __slots__ = ("_automaton", "_targets", "_hits", "_size")

    def __init__(
        self,
        automaton: ahocorasick_rs.BytesAhoCorasick | None,
        targets: tuple[tuple[_Target, ...], ...],
        hits: tuple[KeywordHit, ...],
        size: int,
    ) -> None:
        self._automaton = automaton
        self._targets = targets
        self._hits = hits
        self._size = size

    @classmethod
    def build(cls, entries: Iterable[KeywordEntry]) -> KeywordMatcher:
        """Compile entries: every reading of every term, plus the joined form of a phrase
        (``child abuse`` also as ``childabuse``, since spaced-out letters are joined)."""
        by_pattern: dict[str, dict[_Target, None]] = {}
        hits: dict[KeywordHit, int] = {}
        size = 0
        for entry in entries:
            size += 1
            hit = hits.setdefault(KeywordHit(entry.term, entry.category, entry.source), len(hits))
            for form in textnorm.forms(entry.term):
                shapes = [(form.text, tuple(sorted(form.doubled_offsets())))]
                if " " in form.text:
                    joined = "".join(form.spelled_words())
                    shapes.append((textnorm.collapse_repeats(joined), _run_offsets(joined)))
                for canonical, doubled in shapes:
                    # One more for the leading space of the padded pattern.
                    target = _Target(hit, tuple(o + 1 for o in doubled) if doubled else None)
                    by_pattern.setdefault(f" {canonical} ", {})[target] = None
        if not by_pattern:
            return cls(None, (), (), size)
        patterns = list(by_pattern)
        automaton = ahocorasick_rs.BytesAhoCorasick(
            [p.encode() for p in patterns],
            matchkind=ahocorasick_rs.MatchKind.Standard,
            implementation=ahocorasick_rs.Implementation.DFA,
        )
        targets = tuple(tuple(by_pattern[p]) for p in patterns)
        return cls(automaton, targets, tuple(hits), size)

    @classmethod
    def empty(cls) -> KeywordMatcher:
        return cls(None, (), (), 0)

    def __len__(self) -> int:
        return self._size

    def find(self, text: str) -> list[KeywordHit]:
        """Distinct hits in order of first occurrence (by position in the canonical text)."""
        if self._automaton is None:
            return []
        found: dict[int, int] = {}  # hit index -> first position
        for form in textnorm.forms(text):
            matches = self._automaton.find_matches_as_indexes(form.padded, overlapping=True)
            if matches:
                self._collect(form, matches, found)
        if not found:
            return []
        return [self._hits[hit] for hit in sorted(found, key=found.__getitem__)]

    def _collect(
        self,
        form: textnorm.NormalForm,
        matches: list[tuple[int, int, int]],
        found: dict[int, int],
    ) -> None:
        """Record the hits of one reading.  A keyword that doubles a letter needs the letter
        at the same place in the text to stand for a run of two or more; the haystack is the
        text padded with one space, so haystack offsets are text offsets plus one, and a
        target's offsets already count the pattern's leading space."""
        doubled: frozenset[int] | None = None
        for index, start, _ in matches:
            for target in self._targets[index]:
                if target.hit in found and found[target.hit] <= start:
                    continue
                if target.doubles is not None:
                    if doubled is None:
                        doubled = form.doubled_offsets()
                    base = start - 1
                    if not all(base + offset in doubled for offset in target.doubles):
                        continue
                found[target.hit] = start
