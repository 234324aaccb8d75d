"""Canonical text form for keyword matching, robust against common obfuscation.

Keywords and search queries go through the same function, so a keyword matches however the child
happens to spell it: fullwidth or styled letters (NFKC), case (casefold), Latin diacritics,
zero-width characters hidden inside a word, Cyrillic/Greek look-alike letters, leetspeak
(``k1ll``, ``$ex``), spaced-out letters (``c.h.i.l.d``) and stretched letters (``chiiiild``).

Hindi must keep working: Devanagari vowel signs, virama and nukta are marks that stay inside their
word; only the Latin combining blocks are dropped, and ZWJ/ZWNJ (which only change how a conjunct
is drawn) are removed so both spellings agree.

Every step over the whole text is a C-level pass (``unicodedata.normalize``, ``str.casefold``,
``str.translate`` with tables built once, compiled regexes, ``str.split``) with an ASCII fast path,
because this runs on every search.  Leetspeak and stretched letters are undone per token through a
memoised function mapped in C (``map`` over an ``lru_cache``), since text repeats a small
vocabulary; Python-level loops touch only rare matches (a run of single letters), never each
character.  The NFKC of the brief is done as NFKD, cleaning, then NFC (which is what NFKC is),
so that Latin combining marks can be dropped in between.

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
from itertools import groupby

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
_SINGLE_RUN = re.compile(r" \S(?: \S)+ ")  # on space-padded text
_SEGMENT_MIN = 1024
_ONE_THEN_LETTER = re.compile(r"1\S*?[^\W\d_]")
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
    """Tables for non-ASCII text, built once on first use (a few tenths of a second).

    Each regex is one character class.  `re` compiles a class of Basic Multilingual Plane
    characters to a bitmap, which scans fast; a single astral range would turn it into a slow
    list of ranges, so astral characters have their own regexes, used only when the text has
    any.  Whitespace is left to `str.split`, so the separator regex fires only on punctuation.
    """

    replace: dict[str, str]  # removed characters map to ""
    specials: re.Pattern[str]
    separators: re.Pattern[str]
    astral_specials: re.Pattern[str]
    astral_separators: re.Pattern[str]


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


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


# Astral symbol blocks (emoji, pictographs, musical and mahjong symbols) separate tokens; other
# astral characters (historic scripts, CJK extensions) are kept as word characters.
_ASTRAL_SEPARATORS = ((0x1D000, 0x1D24F), (0x1F000, 0x1FBFF))


@cache
def _tables() -> _Tables:
    replace: dict[str, str] = {}
    sep_ranges: list[tuple[int, int]] = []
    for code in range(0x10000):
        char = chr(code)
        major = unicodedata.category(char)
        if major == "Cf":
            replace[char] = ""
        elif major[0] not in "LMN" and not char.isspace() and char not in "@$!":
            _extend(sep_ranges, code)
    for code in range(0x10000, 0x110000):
        if unicodedata.category(chr(code)) == "Cf":
            replace[chr(code)] = ""
    for lo, hi in _LATIN_MARK_BLOCKS + _EXTRA_INVISIBLE:
        for code in range(lo, hi + 1):
            replace[chr(code)] = ""
    replace.update(_confusable_letters())
    special_ranges: list[tuple[int, int]] = []
    for code in sorted(map(ord, replace)):
        _extend(special_ranges, code)
    bmp = [r for r in special_ranges if r[1] < 0x10000]
    astral = [r for r in special_ranges if r[0] >= 0x10000]
    return _Tables(
        replace,
        re.compile(_char_class(bmp)),
        re.compile(_char_class(sep_ranges) + "+"),
        re.compile(_char_class(astral)),
        re.compile(_char_class(list(_ASTRAL_SEPARATORS)) + "+"),
    )


def _extend(ranges: list[tuple[int, int]], code: int) -> None:
    if ranges and ranges[-1][1] == code - 1:
        ranges[-1] = (ranges[-1][0], code)
    else:
        ranges.append((code, code))


def _char_class(ranges: list[tuple[int, int]]) -> str:
    parts = (
        re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"
        for lo, hi in ranges
    )
    return "[" + "".join(parts) + "]"


def _fold(text: str) -> str:
    """Fold and clean; separators become whitespace, leetspeak symbols stay in place."""
    if text.isascii():
        return text.translate(_ASCII_MAP)
    if len(text) > _SEGMENT_MIN and "\n" in text:
        # A long text of mostly-ASCII lines (a batch of queries, a page) takes the fast ASCII
        # path line group by line group; only groups with other characters pay for Unicode.
        return "\n".join(
            _fold_group(ascii_only, "\n".join(group))
            for ascii_only, group in groupby(text.split("\n"), str.isascii)
        )
    return _fold_unicode(text)


def _fold_group(ascii_only: bool, text: str) -> str:
    return text.translate(_ASCII_MAP) if ascii_only else _fold_unicode(text)


def _fold_unicode(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).casefold()
    if not unicodedata.is_normalized("NFKD", folded):
        folded = unicodedata.normalize("NFKD", folded)
    tables = _tables()
    astral = _ASTRAL.search(folded) is not None
    if tables.specials.search(folded):
        folded = tables.specials.sub(lambda m: tables.replace[m.group()], folded)
    if astral:
        folded = tables.astral_specials.sub(lambda m: tables.replace[m.group()], folded)
    if folded.isascii():
        return folded.translate(_ASCII_MAP)
    if not unicodedata.is_normalized("NFC", folded):
        folded = unicodedata.normalize("NFC", folded)
    folded = tables.separators.sub(" ", folded)
    if astral:
        folded = tables.astral_separators.sub(" ", folded)
    return folded


def _join_singles(tokens: list[str]) -> list[str]:
    """Join runs of single-character tokens: "c h i l d" -> "child"."""
    padded = _SINGLE_RUN.sub(_join_run, f" {' '.join(tokens)} ")
    return padded.split()


def _join_run(match: re.Match[str]) -> str:
    return f" {match.group().replace(' ', '')} "


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


def _first_reading(text: str) -> tuple[NormalForm, bool]:
    """The ``1 -> i`` reading, and whether a token has a "1" and a letter (so a second
    reading may differ)."""
    folded = _fold(text)
    first = _reading(folded.split(), _LEET_I)
    if _SINGLE_PAIR.search(f" {first.text} "):
        first = _join_single_runs(first)
    return first, _has_mixed_one(folded)


def _join_single_runs(form: NormalForm) -> NormalForm:
    """Join runs of single-character tokens ("c h i l d" -> "child").

    Runs are found in the canonical text, which is cheaper than in the raw tokens; only the
    joined tokens are read again, from their raw spelling ("c h 1 l d" -> "ch1ld" -> "child").
    """
    tokens = list(form._tokens)
    if not form._aligned:  # rare: a token of symbols only; start from the raw tokens
        return _reading(_join_singles(tokens), form._leet)
    canonical = _canonical_i if form._leet is _LEET_I else _canonical_l
    padded = f" {form.text} "
    pieces: list[str] = []
    new_tokens: list[str] = []
    done_pos = done_token = 0
    for match in _SINGLE_RUN.finditer(padded):
        first = padded.count(" ", 0, match.start())
        count = match.group().count(" ") - 1
        joined = "".join(tokens[first : first + count])
        pieces.append(padded[done_pos : match.start()])
        pieces.append(f" {canonical(joined)} ")
        new_tokens.extend(tokens[done_token:first])
        new_tokens.append(joined)
        done_pos, done_token = match.end(), first + count
    pieces.append(padded[done_pos:])
    new_tokens.extend(tokens[done_token:])
    return NormalForm("".join(pieces).strip(), new_tokens, form._leet, True)


def _has_mixed_one(folded: str) -> bool:
    """Whether a token holds both a "1" and a letter ("k1ll", "x21"), so the ``1 -> l`` reading
    can differ.  Two scans that start at a literal "1" (fast), forwards and over the reversed
    text, find a letter after or before it in the same token; "2024" and "10" do not count."""
    if "1" not in folded:
        return False
    return bool(_ONE_THEN_LETTER.search(folded) or _ONE_THEN_LETTER.search(folded[::-1]))


def forms(text: str) -> tuple[NormalForm, ...]:
    """All readings of `text` to match, distinct, the ``1 -> i`` reading first."""
    first, has_one = _first_reading(text)
    if not has_one:
        return (first,)
    tokens = list(first._tokens)
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
    return _first_reading(text)[0].text


def variants(text: str) -> tuple[str, ...]:
    """The distinct canonical forms to match; the first equals ``normalize(text)``."""
    return tuple(dict.fromkeys(form.text for form in forms(text)))


def collapse_repeats(text: str) -> str:
    """Collapse every run of one repeated character to a single one (``kiiill`` -> ``kil``)."""
    return _REPEAT.sub(r"\1", text)
