"""Combination rules over term classes: risky searches that no list names word for word.

In the spirit of e2guardian's combined phrase lists, a rule names classes that must all be in
the query (``minor + sexual``), classes that stop it (``unless protective``), and classes that
win over those (``even with seeking``: "... laws in india" passes, "... links law" does not).
Rules are data (``filters/data/search_rules/rules.txt``, one a line; the classes are in
``filters/data/term_classes/``):

    NAME: CATEGORY = CLASS[|CLASS] + CLASS[|CLASS] ... [unless CLASS|...] [even with CLASS|...]
    @lists: unless CLASS|... [even with CLASS|...]

Each ``+`` part must be shown by a different term ("mms" alone is not both sexual and
seeking).  ``@lists`` says when protective context also holds back the keyword lists' hits
("porn addiction recovery").  A rule match names the rule and the terms that made it, so the
verdict explains itself.

This is one step of the search decision; the query model (`abhaya.filters.querymodel`) is
asked only about what the rules leave undecided and unguarded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import product
from pathlib import Path

from abhaya.filters.problems import LineProblem
from abhaya.filters.termclasses import (
    AgeSpellings,
    ClassHits,
    TermClassError,
    TermClasses,
    parse_ages,
    parse_class,
)
from abhaya.filters.verdict import Category

__all__ = [
    "NO_JUDGEMENT",
    "Rule",
    "RuleMatch",
    "SearchJudgement",
    "SearchRules",
    "parse_rules",
]

_CLASSES = r"[a-z][a-z0-9_]*(?:\s*\|\s*[a-z][a-z0-9_]*)*"
_RULE = re.compile(
    rf"^(?P<name>[a-z0-9][a-z0-9_-]*)\s*:\s*(?P<category>[a-z_]+)\s*=\s*"
    rf"(?P<needs>{_CLASSES}(?:\s*\+\s*{_CLASSES})*)"
    rf"(?:\s+unless\s+(?P<unless>{_CLASSES}))?(?:\s+even\s+with\s+(?P<even>{_CLASSES}))?\s*$"
)
_LISTS = re.compile(
    rf"^@lists\s*:\s*unless\s+(?P<unless>{_CLASSES})(?:\s+even\s+with\s+(?P<even>{_CLASSES}))?\s*$"
)


def _names(text: str | None) -> frozenset[str]:
    return frozenset(n.strip() for n in text.split("|")) if text else frozenset()


@dataclass(frozen=True, slots=True)
class Guard:
    """Classes that stop a rule, and classes that win over those."""

    unless: frozenset[str] = frozenset()
    even_with: frozenset[str] = frozenset()

    def holds(self, hits: ClassHits) -> tuple[str, ...]:
        """The terms that hold the rule back, or () when nothing does."""
        if any(hits.has(name) for name in self.even_with):
            return ()
        return tuple(t for name in sorted(self.unless) for t in hits.terms(name))


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    category: Category
    needs: tuple[frozenset[str], ...]
    guard: Guard
    source: str  # "file:line"


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """A rule that fired, with the (class, term) pairs that made it."""

    rule: str
    category: Category
    terms: tuple[tuple[str, str], ...]
    source: str

    def describe(self) -> str:
        return ", ".join(f"{name} {term!r}" for name, term in self.terms)


@dataclass(frozen=True, slots=True)
class SearchJudgement:
    """What the rules make of one query: the matches, strongest first in file order, and the
    protective terms that hold back the keyword lists' hits (empty: lists apply)."""

    matches: tuple[RuleMatch, ...] = ()
    lists_held_by: tuple[str, ...] = ()
    guarded_by: tuple[str, ...] = ()
    """Words of any class a rule listens to as protective ("law", "helpline", "cerebral"):
    the rules have weighed this query, so the query model is not asked about it."""


NO_JUDGEMENT = SearchJudgement()


@dataclass(frozen=True, slots=True)
class ParsedRules:
    rules: tuple[Rule, ...]
    lists: Guard


def parse_rules(path: Path, known: frozenset[str]) -> ParsedRules:
    """Read a rules file; any bad line refuses the file (a rule half read is a hole)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TermClassError(LineProblem(str(path), 0, "", f"cannot read: {exc}")) from exc
    rules: list[Rule] = []
    names: set[str] = set()
    lists = Guard()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue

        def refuse(message: str, line: str = line, number: int = number) -> TermClassError:
            return TermClassError(LineProblem(str(path), number, line, message))

        found = _LISTS.match(line) or _RULE.match(line)
        if found is None:
            raise refuse("not a rule: NAME: CATEGORY = CLASS + CLASS [unless ...] [even with ...]")
        guard = Guard(_names(found.group("unless")), _names(found.group("even")))
        parts = (
            [frozenset()]
            if line.startswith("@")
            else [_names(part) for part in found.group("needs").split("+")]
        )
        unknown = sorted(set().union(guard.unless, guard.even_with, *parts) - known)
        if unknown:
            raise refuse(f"unknown class {', '.join(unknown)}")
        if line.startswith("@"):
            lists = guard
            continue
        try:
            category = Category(found.group("category"))
        except ValueError:
            raise refuse(f"unknown category {found.group('category')!r}") from None
        if found.group("name") in names:
            raise refuse(f"a second rule named {found.group('name')!r}")
        names.add(found.group("name"))
        rules.append(Rule(found.group("name"), category, tuple(parts), guard, f"{path}:{number}"))
    return ParsedRules(tuple(rules), lists)


class SearchRules:
    """Term classes and the rules over them, compiled once; `judge` per query."""

    __slots__ = ("classes", "rules", "lists", "guards")

    def __init__(self, classes: TermClasses, parsed: ParsedRules) -> None:
        self.classes = classes
        self.rules = parsed.rules
        self.lists = parsed.lists
        self.guards = sorted(
            frozenset().union(parsed.lists.unless, *(rule.guard.unless for rule in self.rules))
        )

    @classmethod
    def load(cls, classes: Path, rules: Path) -> SearchRules:
        """Load every class file in the folder `classes` (``<class>.txt``), and ``ages.txt``
        and ``rules.txt`` from the folder `rules`."""
        files = [parse_class(path) for path in sorted(classes.glob("*.txt"))]
        compiled = TermClasses(files, parse_ages(rules / "ages.txt"))
        return cls(compiled, parse_rules(rules / "rules.txt", compiled.names))

    @staticmethod
    @cache
    def load_default() -> SearchRules:
        """The rules that ship with Abhaya (read once per process; they never change)."""
        data = Path(str(resources.files("abhaya.filters") / "data"))
        return SearchRules.load(data / "term_classes", data / "search_rules")

    @classmethod
    def empty(cls) -> SearchRules:
        """No classes and no rules: judges nothing (a baseline for benchmarks and tests)."""
        return cls(TermClasses((), AgeSpellings((), (), ())), ParsedRules((), Guard()))

    def judge(self, query: str) -> SearchJudgement:
        if not self.rules:
            return NO_JUDGEMENT
        hits = self.classes.find(query)
        if not hits.classes():
            return NO_JUDGEMENT
        matches = []
        for rule in self.rules:
            if not all(any(hits.has(n) for n in need) for need in rule.needs):
                continue
            if rule.guard.holds(hits):
                continue
            terms = _distinct_terms(rule.needs, hits)
            if terms is not None:
                matches.append(RuleMatch(rule.name, rule.category, terms, rule.source))
        return SearchJudgement(
            tuple(matches),
            self.lists.holds(hits) if self.lists.unless else (),
            tuple(term for name in self.guards for term in hits.terms(name)),
        )


def _distinct_terms(
    needs: tuple[frozenset[str], ...], hits: ClassHits
) -> tuple[tuple[str, str], ...] | None:
    """One (class, term) per part of a rule, no term used twice, or None."""
    options = [[(n, t) for n in sorted(need) for t in hits.terms(n)] for need in needs]
    for choice in product(*options):
        if len({term for _, term in choice}) == len(choice):
            return tuple(choice)
    return None
