"""Term classes: which kinds of word a search query holds (a minor, an age, a sexual term, ...).

Combination rules (`abhaya.filters.searchrules`) speak of classes, not of words, so one rule
covers every spelling its classes know.  The classes are data, one file a class
(``filters/data/term_classes/<class>.txt``), plus the ages under 18 in
``filters/data/search_rules/ages.txt``; see the README there.

How a query is read, after the same normalisation as keyword lists (`abhaya.filters.textnorm`:
case, look-alike letters, leetspeak, separators, stretched letters):

- whole words and phrases only, so "Essex" is no ``sex`` and "cocktail" no ``cock``;
- a term written ``porn*`` matches any word that starts with it (porno, pornography);
- a word that is no term is split into terms where the whole word is made of terms of the
  classes marked ``compound: yes`` (``childporn``, ``youngteenporn``); a word with anything
  left over ("Scunthorpe", "therapist") is never split;
- two neighbouring words that join into a one-word term count as it ("jail bait");
- ``*`` inside a word is dropped first ("p*rn");
- the built-in class ``age`` holds ages under 18 in the spellings of ``ages.txt``
  (``12yo``, ``12 y/o``, ``age 12``, ``12 year old``, ``under 16``), read from the folded text
  before leetspeak is undone (so ``15yrs`` stays a number).

Everything is compiled once into frozen structures; `TermClasses.find` only looks up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from abhaya.filters import textnorm
from abhaya.filters.problems import LineProblem

__all__ = ["AGE_CLASS", "ClassHits", "TermClassError", "TermClasses", "parse_ages", "parse_class"]

AGE_CLASS = "age"
ADULT_AGE = 18
MAX_TERM_CHARS = 60
_MIN_PIECE = 3  # shorter pieces would split ordinary words ("cp" in "cpu" is never tried)
_MAX_COMPOUND = 40
_STAR = re.compile(r"(?<=[^\W_])\*+(?=[^\W_])")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_HEADER = re.compile(r"^#\s*(class|description|compound|source|licence|last-reviewed)\s*:\s*(.*)$")
_AGE_KEYS = ("after", "before", "under", "numbers")
_NOT_WORD = re.compile(r"[^\w \u0900-\u097f]")  # Devanagari vowel signs are not \w
_NUMBER_WORD = re.compile(r"^([^\W\d_][\w\u0900-\u097f]*)\s*=\s*(\d{1,2})$")


class TermClassError(ValueError):
    """A class or ages file that cannot be used; refused whole, naming the file and line."""

    def __init__(self, problem: LineProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass(frozen=True, slots=True)
class ClassFile:
    """One parsed class file: its terms (canonical) and whether they may form compounds."""

    name: str
    terms: tuple[str, ...]  # canonical; a prefix term keeps its trailing "*"
    compound: bool
    written: tuple[str, ...] = ()  # each term as the file writes it, for explanations


class ClassHits:
    """The terms of each class found in one query, in order of finding."""

    __slots__ = ("_found",)

    def __init__(self) -> None:
        self._found: dict[str, dict[str, None]] = {}

    def add(self, names: Iterable[str], term: str) -> None:
        for name in names:
            self._found.setdefault(name, {})[term] = None

    def has(self, name: str) -> bool:
        return name in self._found

    def terms(self, name: str) -> tuple[str, ...]:
        return tuple(self._found.get(name, ()))

    def classes(self) -> tuple[str, ...]:
        return tuple(self._found)


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TermClassError(LineProblem(str(path), 0, "", f"cannot read: {exc}")) from exc


def parse_class(path: Path) -> ClassFile:
    """Read a class file (one term a line, ``#`` comments, a ``# class:`` header naming the
    file's class); any bad line refuses the whole file, since a class half read would quietly
    weaken every rule that uses it."""
    name = path.stem
    compound = False
    terms: dict[str, int] = {}
    written: dict[str, str] = {}
    for number, raw in enumerate(_read(path).splitlines(), start=1):
        line = raw.strip()

        def refuse(message: str, line: str = line, number: int = number) -> TermClassError:
            return TermClassError(LineProblem(str(path), number, line, message))

        header = _HEADER.match(line)
        if header is not None:
            key, value = header.group(1), header.group(2).strip()
            if key == "class" and value != name:
                raise refuse(f"class {value!r} does not match the file name {name!r}")
            if key == "compound":
                if value not in ("yes", "no"):
                    raise refuse("compound is yes or no")
                compound = value == "yes"
            continue
        if not line or line.startswith("#"):
            continue
        if not _NAME.match(name) or name == AGE_CLASS:
            raise refuse(f"{name!r} is not a usable class name")
        if len(line) > MAX_TERM_CHARS:
            raise refuse(f"longer than {MAX_TERM_CHARS} characters")
        prefix = line.endswith("*")
        body = line[:-1] if prefix else line
        if "*" in body or "#" in body:
            raise refuse("'*' only at the end of a term; comments on their own line")
        canonical = textnorm.normalize(body)
        if not canonical:
            raise refuse("no letters or digits left after normalisation")
        if prefix and (" " in canonical or len(canonical) < _MIN_PIECE):
            raise refuse(f"a prefix term is one word of at least {_MIN_PIECE} letters")
        key = canonical + "*" if prefix else canonical
        if key in terms:
            raise refuse(f"same as line {terms[key]} after normalisation")
        terms[key] = number
        written[key] = line
    if not terms:
        raise TermClassError(LineProblem(str(path), 0, "", "no terms"))
    return ClassFile(name, tuple(terms), compound, tuple(written.values()))


@dataclass(frozen=True, slots=True)
class AgeSpellings:
    """Words written after an age (``yo``, ``year old``), before it (``age``) and before a
    limit (``under``), and numbers written as words (``twelve``, ``barah``)."""

    after: tuple[str, ...]
    before: tuple[str, ...]
    under: tuple[str, ...]
    numbers: tuple[tuple[str, int], ...] = ()


def parse_ages(path: Path) -> AgeSpellings:
    """Read ``ages.txt``: lines ``after: w, w``, ``before: w, w``, ``under: w, w`` and
    ``numbers: word=12, word=13``."""
    found: dict[str, list[str]] = {key: [] for key in _AGE_KEYS}
    for number, raw in enumerate(_read(path).splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, colon, rest = line.partition(":")
        words = [w.strip().casefold() for w in rest.split(",")]
        if not colon or key.strip() not in found:
            message = f"expected one of {', '.join(_AGE_KEYS)} then ':'"
            raise TermClassError(LineProblem(str(path), number, line, message))
        key = key.strip()
        if key == "numbers":
            if not all(_NUMBER_WORD.match(w) for w in words):
                message = "numbers are written word=value, the value 1 to 99"
                raise TermClassError(LineProblem(str(path), number, line, message))
        elif not all(words) or any(_NOT_WORD.search(w) for w in words):
            message = "words are letters and spaces, separated by commas"
            raise TermClassError(LineProblem(str(path), number, line, message))
        found[key].extend(words)
    numbers = tuple(
        (match.group(1), int(match.group(2)))
        for match in (_NUMBER_WORD.match(w) for w in found["numbers"])
        if match is not None
    )
    return AgeSpellings(
        tuple(found["after"]), tuple(found["before"]), tuple(found["under"]), numbers
    )


def _alternation(words: Iterable[str]) -> str:
    ordered = sorted(set(words), key=len, reverse=True)
    return "|".join(re.escape(w).replace(r"\ ", r"\s*") for w in ordered)


class TermClasses:
    """Compiled term classes; build once with `build`, call `find` per query."""

    __slots__ = (
        "_terms",
        "_words",
        "_pieces",
        "_prefixes",
        "_all_prefixes",
        "_span",
        "_ages",
        "_written",
        "_numbers",
    )

    def __init__(self, files: Iterable[ClassFile], ages: AgeSpellings) -> None:
        terms: dict[str, set[str]] = {}
        prefixes: dict[str, set[str]] = {}
        pieces: set[str] = set()
        written: dict[str, str] = {}
        for item in files:
            for term, shown in zip(item.terms, item.written or item.terms, strict=True):
                written.setdefault(term, shown)
                if term.endswith("*"):
                    prefixes.setdefault(term[:-1], set()).add(item.name)
                else:
                    terms.setdefault(term, set()).add(item.name)
                if item.compound:
                    pieces.update(w for w in term.rstrip("*").split() if len(w) >= _MIN_PIECE)
        self._terms: Mapping[str, frozenset[str]] = MappingProxyType(
            {term: frozenset(names) for term, names in terms.items()}
        )
        self._written: Mapping[str, str] = MappingProxyType(written)
        self._words = frozenset(t for t in terms if " " not in t)
        self._pieces = frozenset(pieces)
        self._prefixes: Mapping[str, frozenset[str]] = MappingProxyType(
            {p: frozenset(names) for p, names in prefixes.items()}
        )
        self._all_prefixes = tuple(sorted(prefixes, key=len, reverse=True))
        self._span = max((t.count(" ") + 1 for t in terms), default=1)
        self._numbers: Mapping[str, int] = MappingProxyType(dict(ages.numbers))
        value = r"\d{1,2}" + "".join(f"|{re.escape(w)}" for w, _ in ages.numbers)
        self._ages = tuple(
            (re.compile(pattern), limit)
            for pattern, limit, words in (
                (rf"(?<![\w.])({value})\s*(?:{_alternation(ages.after)})(?!\w)", ADULT_AGE - 1,
                 ages.after),
                (rf"(?<!\w)(?:{_alternation(ages.before)})\s*({value})(?!\w)", ADULT_AGE - 1,
                 ages.before),
                (rf"(?<!\w)(?:{_alternation(ages.under)})\s*({value})(?!\w)", ADULT_AGE,
                 ages.under),
            )
            if words
        )  # fmt: skip

    @property
    def names(self) -> frozenset[str]:
        names = {n for group in self._terms.values() for n in group}
        names.update(n for group in self._prefixes.values() for n in group)
        return frozenset(names | {AGE_CLASS})

    def find(self, query: str) -> ClassHits:
        """The classes `query` holds, with the terms that showed each."""
        hits = ClassHits()
        text = _STAR.sub("", query) if "*" in query else query
        forms = textnorm.forms(text)
        for form in forms:
            self._scan(self._expand(form.text.split()), hits)
        self._find_ages(forms[0].raw.decode(), hits)
        return hits

    def _scan(self, tokens: list[str], hits: ClassHits) -> None:
        terms = self._terms
        count = len(tokens)
        for start in range(count):
            token = tokens[start]
            names = terms.get(token)
            if names is not None:
                hits.add(names, self._written[token])
            elif self._all_prefixes and token.startswith(self._all_prefixes):
                for prefix in self._all_prefixes:
                    if token.startswith(prefix):
                        hits.add(self._prefixes[prefix], self._written[prefix + "*"])
            for end in range(start + 2, min(count, start + self._span) + 1):
                phrase = " ".join(tokens[start:end])
                names = terms.get(phrase)
                if names is not None:
                    hits.add(names, self._written[phrase])
            if start + 1 < count:
                joined = token + tokens[start + 1]
                if joined in self._words:
                    hits.add(terms[joined], self._written[joined])

    def _expand(self, tokens: list[str]) -> list[str]:
        """Split the compounds among `tokens` into their terms."""
        out: list[str] = []
        for token in tokens:
            pieces = None
            if (
                _MIN_PIECE * 2 <= len(token) <= _MAX_COMPOUND
                and token not in self._terms
                and not token.startswith(self._all_prefixes or ("\0",))
            ):
                pieces = self._split(token)
            if pieces is None:
                out.append(token)
            else:
                out.extend(pieces)
        return out

    def _split(self, token: str) -> list[str] | None:
        """`token` as two or more compound pieces covering all of it, the last of which may
        be a prefix term's word ("child" + "pornography"), or None."""
        reached: dict[int, list[str]] = {0: []}
        size = len(token)
        for start in range(size):
            path = reached.get(start)
            if path is None:
                continue
            if start and self._all_prefixes and token.startswith(self._all_prefixes, start):
                return [*path, token[start:]]
            for end in range(start + _MIN_PIECE, size + 1):
                if end not in reached and token[start:end] in self._pieces:
                    reached[end] = [*path, token[start:end]]
        found = reached.get(size)
        return found if found is not None and len(found) > 1 else None

    def _find_ages(self, raw: str, hits: ClassHits) -> None:
        for pattern, limit in self._ages:
            for match in pattern.finditer(raw):
                found = match.group(1)
                age = int(found) if found.isdecimal() else self._numbers[found]
                if 0 < age <= limit:
                    hits.add((AGE_CLASS,), " ".join(match.group().split()))
