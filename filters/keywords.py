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


# Per token of a pattern: for each run of one letter, whether the keyword doubles it.
_Doubles = tuple[tuple[bool, ...], ...]


@dataclass(frozen=True, slots=True)
class _Target:
    """What a pattern in the automaton stands for."""

    hit: KeywordHit
    doubles: _Doubles | None  # None: no doubled letter, nothing to check


def _doubles(tokens: list[str]) -> _Doubles | None:
    runs = tuple(tuple(len(m.group()) > 1 for m in _RUN.finditer(t)) for t in tokens)
    return runs if any(any(r) for r in runs) else None


def _keeps_doubles(required: _Doubles, spelled: list[str]) -> bool:
    if len(spelled) != len(required):
        return False
    for need, token in zip(required, spelled, strict=True):
        have = [len(m.group()) > 1 for m in _RUN.finditer(token)]
        if len(have) != len(need):
            return False
        if any(n and not h for n, h in zip(need, have, strict=True)):
            return False
    return True


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
            for index, start, end in matches:
                for target in self._targets[index]:
                    if target.hit in found and found[target.hit] <= start:
                        continue
                    if target.doubles is not None:
                        first = hay.count(b" ", 0, start)
                        count = hay.count(b" ", start, end) - 1
                        if not _keeps_doubles(target.doubles, form.spelled_tokens(first, count)):
                            continue
                    found[target.hit] = start
        return sorted(found, key=found.__getitem__)
