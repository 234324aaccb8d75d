"""Canonical text form for keyword matching, robust against common obfuscation.

Keywords and search queries go through the same function, so a keyword matches however the child
happens to spell it: fullwidth or styled letters (NFKC), case (casefold), Latin diacritics,
zero-width characters hidden inside a word, Cyrillic/Greek look-alike letters, leetspeak
(``k1ll``, ``$ex``), spaced-out letters (``c.h.i.l.d``) and stretched letters (``chiiiild``).

Hindi must keep working: Devanagari vowel signs, virama and nukta are marks that stay inside their
word; only the Latin combining blocks are dropped, and ZWJ/ZWNJ (which only change how a conjunct
is drawn) are removed so both spellings agree.

Every step is a C-level pass (``unicodedata.normalize``, ``str.casefold``, ``str.translate`` with
tables built once, compiled regexes) with an ASCII fast path, because this runs on every search
and every page phrase check.  Python-level loops touch only rare matches (a leetspeak token, a run
of single letters), never each character.

Homoglyph source: the Unicode confusables data (``confusables.txt``, UTS #39) as shipped in the
``confusable_homoglyphs`` package (``confusables.json``), restricted to letters of scripts used
to imitate Latin (Latin, Greek, Cyrillic, Armenian, Cherokee, Coptic, Lisu) whose confusable is a
single ASCII letter.  Digits and marks are excluded so that, e.g., Devanagari digit zero and
Telugu anusvara keep their meaning.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

__all__ = ["NormalForm", "collapse_repeats", "forms", "normalize", "variants"]

# Combining marks that only decorate Latin (and Greek/Cyrillic) letters.  Devanagari marks
# (U+0900-097F) are deliberately absent.
_LATIN_MARK_BLOCKS = (
    (0x0300, 0x036F),
    (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF),
    (0x20D0, 0x20FF),
    (0xFE20, 0xFE2F),
)
# Invisible characters besides the format (Cf) category: variation selectors, the combining
# grapheme joiner, Hangul fillers and the braille blank, which all render as nothing.
_EXTRA_INVISIBLE = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xE0100, 0xE01EF),
)
_HOMOGLYPH_SCRIPTS = frozenset(
    {"LATIN", "GREEK", "CYRILLIC", "ARMENIAN", "CHEROKEE", "COPTIC", "LISU"}
)
_LEET_CHARS = "0134578@$!"
# Leetspeak, applied only inside tokens that also contain a letter ("2024" stays).  "1" reads as
# either "i" or "l", so there are two tables; `variants` returns both readings.
_LEET_I = str.maketrans("0134578@$!", "oieastbasi")
_LEET_L = str.maketrans("0134578@$!", "oleastbasi")

# Letters, digits and the leetspeak symbols are token characters in ASCII text; everything else
# separates tokens.  Upper case folds to lower in the same pass.
_ASCII_MAP = str.maketrans(
    {c: (c.lower() if c.isalnum() or c in "@$!" else " ") for c in map(chr, range(128))}
)
_SINGLE_PAIR = re.compile(r" \S \S ")
_SINGLE_RUN = re.compile(r"(?<!\S)\S(?: \S)+(?!\S)")
_HAS_LEET = re.compile(r"[0134578@$!]")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_SYMBOLS = re.compile(r"[@$!]+")
_REPEAT = re.compile(r"(.)\1+")
# Tokens are memoised because text repeats a small vocabulary (Zipf): most tokens are cache
# hits, which keeps per-token work to one C-level lookup.  The bound caps memory.
_TOKEN_CACHE_SIZE = 1 << 15


@dataclass(frozen=True, slots=True)
class NormalForm:
    """One reading of a text.

    `text` is the canonical form that keywords are matched against.  `spelled_tokens` gives the
    same tokens before stretched letters were collapsed, which the matcher uses to tell ``as``
    from ``ass``: a doubled letter in a keyword must stay doubled (or longer) in the text.
    """

    text: str
    _tokens: Sequence[str]
    _leet: dict[int, int]
    _aligned: bool

    def spelled_tokens(self, first: int, count: int) -> list[str]:
        """Spelled forms of `count` canonical tokens starting at token index `first`."""
        if self._aligned:
            return [_spell(t, self._leet) for t in self._tokens[first : first + count]]
        spelled = " ".join(_spell(t, self._leet) for t in self._tokens).split()
        return spelled[first : first + count]


@dataclass(frozen=True, slots=True)
class _Tables:
    """Tables for non-ASCII text, built once on first use (about 0.1 s)."""

    translate: dict[int, str | None]
    separators: re.Pattern[str]


def _confusable_letters() -> dict[str, str]:
    """Map each homoglyph letter (after casefold) to the lowercase ASCII letter it imitates."""
    raw = resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    data: dict[str, list[dict[str, str]]] = json.loads(raw)
    direct: dict[str, str] = {}
    derived: dict[str, str] = {}
    for char, glyphs in data.items():
        if len(char) != 1 or char.isascii() or not unicodedata.category(char).startswith("L"):
            continue
        if unicodedata.name(char, "").split(" ", 1)[0] not in _HOMOGLYPH_SCRIPTS:
            continue
        targets = {g["c"].lower() for g in glyphs if len(g["c"]) == 1 and g["c"].isascii()}
        targets = {t for t in targets if t.isalpha()}
        if len(targets) != 1:
            continue
        target = targets.pop()
        folded = char.casefold()
        if folded == char:
            direct[char] = target
        elif len(folded) == 1 and not folded.isascii():
            # Text is casefolded before this table applies, so an upper-case homoglyph (Cyrillic
            # "В" for "B") is only seen in its folded form ("в"); a direct entry wins.
            derived.setdefault(folded, target)
    return derived | direct


@cache
def _tables() -> _Tables:
    table: dict[int, str | None] = {}
    mark_ranges: list[tuple[int, int]] = []
    sep_ranges: list[tuple[int, int]] = []
    for code in range(0x110000):
        major = unicodedata.category(chr(code))
        if major == "Cf":
            table[code] = None
        if major[0] == "M":
            _extend(mark_ranges, code)
        elif major[0] not in "LN":
            _extend(sep_ranges, code)
    for lo, hi in _LATIN_MARK_BLOCKS + _EXTRA_INVISIBLE:
        for code in range(lo, hi + 1):
            table[code] = None
    for char, ascii_letter in _confusable_letters().items():
        table[ord(char)] = ascii_letter
    # A separator is anything not a letter, mark or digit, except the leetspeak symbols.
    keep = {ord(c) for c in "@$!"}
    parts = []
    for lo, hi in sep_ranges:
        for a, b in _without(lo, hi, keep):
            parts.append(_class_range(a, b))
    return _Tables(table, re.compile("[" + "".join(parts) + "]+"))


def _extend(ranges: list[tuple[int, int]], code: int) -> None:
    if ranges and ranges[-1][1] == code - 1:
        ranges[-1] = (ranges[-1][0], code)
    else:
        ranges.append((code, code))


def _without(lo: int, hi: int, keep: set[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    start = lo
    for code in sorted(c for c in keep if lo <= c <= hi):
        if start <= code - 1:
            out.append((start, code - 1))
        start = code + 1
    if start <= hi:
        out.append((start, hi))
    return out


def _class_range(lo: int, hi: int) -> str:
    return re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"


def _prepare(text: str) -> tuple[str, list[str]]:
    """Fold, clean and split into tokens (leetspeak symbols still in place), with runs of
    single-character tokens joined; returns the tokens and their space-joined string."""
    if text.isascii():
        tokens = text.translate(_ASCII_MAP).split()
    else:
        folded = unicodedata.normalize("NFKD", text).casefold()
        if not unicodedata.is_normalized("NFKD", folded):
            folded = unicodedata.normalize("NFKD", folded)
        tables = _tables()
        folded = folded.translate(tables.translate)
        if folded.isascii():
            tokens = folded.translate(_ASCII_MAP).split()
        else:
            tokens = tables.separators.sub(" ", unicodedata.normalize("NFC", folded)).split()
    joined = " ".join(tokens)
    if _SINGLE_PAIR.search(f" {joined} "):
        joined = _SINGLE_RUN.sub(_join_run, joined)
        tokens = joined.split(" ")
    return joined, tokens


def _join_run(match: re.Match[str]) -> str:
    return match.group().replace(" ", "")


def _spell(token: str, leet: dict[int, int]) -> str:
    """Undo leetspeak in a token that also has a letter; drop stray symbols elsewhere."""
    if _HAS_LEET.search(token) is None:
        return token
    if _HAS_LETTER.search(token) is not None:
        return token.rstrip("!").translate(leet)  # a trailing "!" is punctuation
    return _SYMBOLS.sub(" ", token).strip()  # "2024" stays; "$5" -> "5"; "!!!" -> ""


@lru_cache(maxsize=_TOKEN_CACHE_SIZE)
def _canonical_i(token: str) -> str:
    return _REPEAT.sub(r"\1", _spell(token, _LEET_I))


@lru_cache(maxsize=_TOKEN_CACHE_SIZE)
def _canonical_l(token: str) -> str:
    return _REPEAT.sub(r"\1", _spell(token, _LEET_L))


def _reading(tokens: list[str], leet: dict[int, int]) -> NormalForm:
    canonical = _canonical_i if leet is _LEET_I else _canonical_l
    text = " ".join(map(canonical, tokens))
    # A token made only of symbols vanishes ("!!!") or splits ("5$5"); re-space once.
    aligned = text.count(" ") == len(tokens) - 1 and not (
        "  " in text or text[:1] == " " or text[-1:] == " "
    )
    if not aligned:
        text = " ".join(text.split())
    return NormalForm(text, tokens, leet, aligned)


def forms(text: str) -> tuple[NormalForm, ...]:
    """All readings of `text` to match, distinct, the ``1 -> i`` reading first."""
    joined, tokens = _prepare(text)
    first = _reading(tokens, _LEET_I)
    if "1" not in joined:
        return (first,)
    second = _reading(tokens, _LEET_L)
    if second.text != first.text:
        return (first, second)
    # Same canonical text, but the spelling can still differ ("ki1l": "kiil" or "kill"), and
    # the matcher's doubled-letter check needs the second spelling.
    ones = [t for t in tokens if "1" in t]
    if any(_spell(t, _LEET_I) != _spell(t, _LEET_L) for t in ones):
        return (first, second)
    return (first,)


def normalize(text: str) -> str:
    """The canonical form: tokens joined by single spaces, stretched letters collapsed."""
    return _reading(_prepare(text)[1], _LEET_I).text


def variants(text: str) -> tuple[str, ...]:
    """The distinct canonical forms to match; the first equals ``normalize(text)``."""
    return tuple(dict.fromkeys(form.text for form in forms(text)))


def collapse_repeats(text: str) -> str:
    """Collapse every run of one repeated character to a single one (``kiiill`` -> ``kil``)."""
    return _REPEAT.sub(r"\1", text)
