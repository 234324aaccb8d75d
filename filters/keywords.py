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
from functools import lru_cache
from pathlib import Path

import ahocorasick_rs

from abhaya.filters import textnorm

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


@dataclass(frozen=True)
class KeywordProblem:
    """A line of a keyword file that was skipped, and why."""

    file: str
    line: int
    text: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}: {self.text}"


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


# Per token of a pattern, a bit mask of its letter runs that the keyword doubles.
_Doubles = tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _Target:
    """What a pattern in the automaton stands for."""

    hit: KeywordHit
    doubles: _Doubles | None  # None: no doubled letter, nothing to check


@lru_cache(maxsize=1 << 14)
def _double_bits(token: str) -> int:
    """Bit i set when the i-th run of one letter in `token` is two or more long."""
    return sum(1 << i for i, m in enumerate(_RUN.finditer(token)) if len(m.group()) > 1)


def _doubles(tokens: list[str]) -> _Doubles | None:
    bits = tuple(_double_bits(t) for t in tokens)
    return bits if any(bits) else None


def _keeps_doubles(required: _Doubles, spelled: tuple[str, ...]) -> bool:
    """Each doubled letter of the keyword is doubled (or longer) in the text.  The canonical
    forms already agree, so the runs line up one to one."""
    if len(spelled) != len(required):
        return False
    return all(need & ~_double_bits(t) == 0 for need, t in zip(required, spelled, strict=True))


class KeywordMatcher:
    """Immutable matcher over a set of keyword entries; build once, call `find` per text."""

    __slots__ = ("_automaton", "_targets", "_size")

    def __init__(
        self,
        automaton: ahocorasick_rs.BytesAhoCorasick | None,
        targets: tuple[tuple[_Target, ...], ...],
        size: int,
    ) -> None:
        self._automaton = automaton
        self._targets = targets
        self._size = size

    @classmethod
    def build(cls, entries: Iterable[KeywordEntry]) -> KeywordMatcher:
        """Compile entries: every reading of every term, plus the joined form of a phrase
        (``child abuse`` also as ``childabuse``, since spaced-out letters are joined)."""
        by_pattern: dict[str, dict[_Target, None]] = {}
        size = 0
        for entry in entries:
            size += 1
            hit = KeywordHit(entry.term, entry.category, entry.source)
            for form in textnorm.forms(entry.term):
                words = form.text.count(" ") + 1
                spelled = form.spelled_tokens(0, words)
                shapes = [(form.text, spelled)]
                if words > 1:
                    joined = "".join(spelled)
                    shapes.append((textnorm.collapse_repeats(joined), [joined]))
                for canonical, tokens in shapes:
                    target = _Target(hit, _doubles(tokens))
                    by_pattern.setdefault(f" {canonical} ", {})[target] = None
        if not by_pattern:
            return cls(None, (), size)
        patterns = list(by_pattern)
        automaton = ahocorasick_rs.BytesAhoCorasick(
            [p.encode() for p in patterns],
            matchkind=ahocorasick_rs.MatchKind.Standard,
            implementation=ahocorasick_rs.Implementation.DFA,
        )
        targets = tuple(tuple(by_pattern[p]) for p in patterns)
        return cls(automaton, targets, size)

    @classmethod
    def empty(cls) -> KeywordMatcher:
        return cls(None, (), 0)

    def __len__(self) -> int:
        return self._size

    def find(self, text: str) -> list[KeywordHit]:
        """Distinct hits in order of first occurrence (by position in the canonical text)."""
        if self._automaton is None:
            return []
        found: dict[KeywordHit, int] = {}
        for form in textnorm.forms(text):
            hay = f" {form.text} ".encode()
            matches = self._automaton.find_matches_as_indexes(hay, overlapping=True)
            # Doubled-letter checks: matches come roughly in text order, so the token index
            # is counted on from the previous check; a common word that fails ("as" for
            # "ass") is decided once per spelling.
            counted_to = tokens_before = 0
            decided: dict[tuple[int, int, tuple[str, ...]], bool] = {}
            for index, start, end in matches:
                for number, target in enumerate(self._targets[index]):
                    if target.hit in found and found[target.hit] <= start:
                        continue
                    if target.doubles is not None:
                        if start < counted_to:
                            counted_to = tokens_before = 0
                        tokens_before += hay.count(b" ", counted_to, start)
                        counted_to = start
                        count = hay.count(b" ", start, end) - 1
                        spelled = tuple(form.spelled_tokens(tokens_before, count))
                        key = (index, number, spelled)
                        if key not in decided:
                            decided[key] = _keeps_doubles(target.doubles, spelled)
                        if not decided[key]:
                            continue
                    found[target.hit] = start
        return sorted(found, key=found.__getitem__)
