"""Unicode folding for keyword matching: one spelling per look of a character.

`fold` turns any text into lower-case tokens separated by spaces, with leetspeak symbols left in
place for `abhaya.filters.leetspeak`; `abhaya.filters.textnorm` builds the canonical form on
top.  It undoes fullwidth or styled letters (NFKC), case (casefold), Latin diacritics,
zero-width and other invisible characters hidden inside a word, and Cyrillic/Greek look-alike
letters; punctuation, symbols and emoji become separators.

Hindi must keep working: Devanagari vowel signs, virama and nukta are marks that stay inside their
word; only the Latin combining blocks are dropped, and ZWJ/ZWNJ (which only change how a conjunct
is drawn) are removed so both spellings agree.

This runs on every search.  ASCII text is one ``str.translate`` with a table built once; other
text takes ``unicodedata.normalize``, ``str.casefold`` and compiled one-class regexes (see
`_Tables`).  The NFKC is done as NFKD, cleaning, then NFC (which is what NFKC is), so that Latin
combining marks can be dropped in between.  In a long text of lines only the non-ASCII lines pay
for that, folded together in one pass (`_fold_lines`).

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
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import compress
from operator import not_

__all__ = ["NON_ASCII_REPEAT", "fold"]

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
# Astral symbol blocks (emoji, pictographs, musical and mahjong symbols) separate tokens; other
# astral characters (historic scripts, CJK extensions) are kept as word characters.
_ASTRAL_SEPARATORS = ((0x1D000, 0x1D24F), (0x1F000, 0x1FBFF))

# Letters, digits and the leetspeak symbols are token characters in ASCII text; everything else
# (whitespace included) becomes a space.  Upper case folds to lower in the same pass.
_ASCII_MAP = str.maketrans(
    {c: (c.lower() if c.isalnum() or c in "@$!" else " ") for c in map(chr, range(128))}
)
# The same for UTF-8 bytes; bytes of non-ASCII characters stay as they are.
_ASCII_BYTES = bytes(ord(_ASCII_MAP[code]) if code < 128 else code for code in range(256))
_ASCII_LINES_MAP = _ASCII_MAP | {ord("\n"): "\n"}  # for `_fold_unicode`, which keeps lines
# Whether the folded text repeats a non-ASCII character, so that collapsing stretched letters
# needs its regex (`abhaya.filters.textnorm`).  It starts with a character class, so `re` skips
# ASCII text in its fast prefix scan.
NON_ASCII_REPEAT = re.compile(r"([^\x00-\x7f])\1")
# A text longer than this with line breaks is folded by lines (`_fold_lines`): only long texts
# (a batch of queries, a page) have enough ASCII lines for the split to pay off.
_FOLD_LINES_MIN = 1024


@dataclass(frozen=True, slots=True)
class _Tables:
    """Tables for non-ASCII text, built once on first use (a few tenths of a second).

    Each regex is one character class.  `re` compiles a class of Basic Multilingual Plane
    characters to a bitmap, which scans fast; a single astral range would turn it into a slow
    list of ranges, so astral characters have their own regexes, used only when the text has
    any.  A pattern that is one class (no ``+``) lets `re` skip non-matching text in its fast
    prefix scan.  Separators include whitespace other than the space, so tokens end up separated
    by spaces only.
    """

    replace: dict[str, str]  # homoglyph -> ASCII letter; removed characters map to ""
    specials: re.Pattern[str]  # the BMP keys of `replace`
    separators: re.Pattern[str]  # BMP characters that end a token
    astral_specials: re.Pattern[str]  # the astral keys of `replace`
    astral_separators: re.Pattern[str]  # `_ASTRAL_SEPARATORS`


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
    """Build the tables once per process: scanning all of Unicode is too slow for each text."""
    replace: dict[str, str] = {}
    sep_ranges: list[tuple[int, int]] = []
    for code in range(0x10000):
        char = chr(code)
        category = unicodedata.category(char)
        if category == "Cf":
            replace[char] = ""
        elif category[0] not in "LMN" and char not in " \n@$!":
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
        re.compile(_char_class(sep_ranges)),
        re.compile(_char_class(astral)),
        re.compile(_char_class(list(_ASTRAL_SEPARATORS))),
    )


def _extend(ranges: list[tuple[int, int]], code: int) -> None:
    """Add `code` (at or after the last range) to `ranges`, growing the last one if adjacent."""
    if ranges and ranges[-1][1] == code - 1:
        ranges[-1] = (ranges[-1][0], code)
    else:
        ranges.append((code, code))


def _char_class(ranges: list[tuple[int, int]]) -> str:
    """A regex character class matching every code point in `ranges`."""
    parts = (
        re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"
        for lo, hi in ranges
    )
    return "[" + "".join(parts) + "]"


def fold(text: str) -> tuple[bytes, bool]:
    """Fold and clean, as UTF-8: tokens separated by spaces (one or more), leetspeak symbols in
    place; and whether a non-ASCII character may be repeated (worth the collapsing regex).

    The first step of `abhaya.filters.textnorm`, which reads tokens from the result."""
    if text.isascii():
        return text.translate(_ASCII_MAP).encode(), False
    if len(text) > _FOLD_LINES_MIN and "\n" in text:
        return _fold_lines(text)
    folded = _fold_unicode(text)
    return folded.encode().translate(_ASCII_BYTES), NON_ASCII_REPEAT.search(folded) is not None


def _fold_lines(text: str) -> tuple[bytes, bool]:
    """A long text of mostly-ASCII lines (a batch of queries, a page): the lines with other
    characters are folded together in one Unicode pass, which keeps line breaks, and put back
    in place; then one byte table folds the ASCII lines (and changes nothing in folded ones).
    Every step is local to a character or a combining sequence, so a line break is a boundary
    and the result is the same as folding the whole text."""
    lines = text.split("\n")
    other = list(compress(range(len(lines)), map(not_, map(str.isascii, lines))))
    folded = _fold_unicode("\n".join([lines[index] for index in other]))
    for index, line in zip(other, folded.split("\n"), strict=True):
        lines[index] = line
    merged = "\n".join(lines)
    return merged.encode().translate(_ASCII_BYTES), NON_ASCII_REPEAT.search(folded) is not None


def _fold_unicode(text: str) -> str:
    """Fold non-ASCII text: separators (other whitespace included) become spaces, except line
    breaks, which stay so that `_fold_lines` can put lines back; `_ASCII_BYTES` then turns
    them into spaces as well."""
    folded = unicodedata.normalize("NFKD", text).casefold()
    if not unicodedata.is_normalized("NFKD", folded):
        folded = unicodedata.normalize("NFKD", folded)
    tables = _tables()
    # UTF-16 needs two units for an astral character; cheaper than a regex scan.
    astral = len(folded.encode("utf-16-le", "surrogatepass")) != 2 * len(folded)
    if tables.specials.search(folded):
        folded = tables.specials.sub(lambda m: tables.replace[m.group()], folded)
    if astral:
        folded = tables.astral_specials.sub(lambda m: tables.replace[m.group()], folded)
    if folded.isascii():
        return folded.translate(_ASCII_LINES_MAP)
    if not unicodedata.is_normalized("NFC", folded):
        folded = unicodedata.normalize("NFC", folded)
    if tables.separators.search(folded):
        folded = tables.separators.sub(" ", folded)
    if astral:
        folded = tables.astral_separators.sub(" ", folded)
    return folded
