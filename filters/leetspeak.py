"""Leetspeak spelling for keyword matching: ``k1ll`` -> ``kill``, ``$ex`` -> ``sex``.

Works on the folded text of `abhaya.filters.unicodefold` (tokens separated by spaces); the rest
of the canonical form is built in `abhaya.filters.textnorm`.

Leetspeak is undone only in a token that also has a letter (``w1nter`` -> ``winter``, while
``2024`` stays); a trailing ``!`` there is punctuation.  In a token without letters the symbols
become separators (``$5`` -> ``5``, ``!!!`` vanishes).  ``1`` reads as ``i`` or ``l``, so there
are two tables, `LEET_I` and `LEET_L`, one per reading.

This runs on every search: an Aho-Corasick automaton (`SPELL_FINDER`, from ``ahocorasick_rs``,
in Rust) finds the tokens that may need spelling (a symbol, or a digit next to a letter); only
those are spelled, through a memoised function.  Tokens of digits (``2024``) are never touched.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import ahocorasick_rs

__all__ = [
    "LEET_DIGIT",
    "LEET_I",
    "LEET_L",
    "SPELL_FINDER",
    "Spelling",
    "spell",
    "spell_matches",
    "undo_leet",
]

_LEET_CHARS = "0134578@$!"
# The two readings of leetspeak, one table each, since "1" reads as either "i" or "l";
# `abhaya.filters.textnorm` makes a reading with each where they can differ.
LEET_I = str.maketrans(_LEET_CHARS, "oieastbasi")
LEET_L = str.maketrans(_LEET_CHARS, "oleastbasi")
# The leetspeak digits, over UTF-8: a single-character token showing one may come from a token
# that spelling changed, which `abhaya.filters.textnorm` must read again when it joins tokens.
LEET_DIGIT = re.compile(rb"[0134578]")
_HAS_LEET = re.compile(r"[0134578@$!]")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_SYMBOLS = re.compile(r"[@$!]+")
# A token needs spelling only if it has a leetspeak symbol, or a leetspeak digit and a letter;
# such a token has a symbol or a digit next to a letter (ASCII, or any byte of a non-ASCII
# character).  Tokens of digits only ("2024", "100"), the common case, never match.  The finder
# may also yield tokens that spell as they are ("x2"); spelling them is a no-op.  Public so
# that `abhaya.filters.textnorm` can skip all spelling calls for a text with no match.
SPELL_FINDER = ahocorasick_rs.BytesAhoCorasick(
    [b"@", b"$", b"!"]
    + [
        pair
        for digit in b"0123456789"
        for other in [*b"abcdefghijklmnopqrstuvwxyz", *range(0x80, 0x100)]
        for pair in (bytes([digit, other]), bytes([other, digit]))
    ],
    implementation=ahocorasick_rs.Implementation.DFA,
)
# Tokens are memoised because text repeats a small vocabulary (Zipf): most tokens are cache
# hits, which keeps per-token work to one C-level lookup.  The bound caps memory.
_TOKEN_CACHE_SIZE = 1 << 15


def spell(token: str, leet: dict[int, int]) -> str:
    """Undo leetspeak in a token that also has a letter; drop stray symbols elsewhere."""
    if _HAS_LEET.search(token) is None:
        return token
    if _HAS_LETTER.search(token) is not None:
        return token.rstrip("!").translate(leet)  # a trailing "!" is punctuation
    return _SYMBOLS.sub(" ", token).strip()  # "2024" stays; "$5" -> "5"; "!!!" -> ""


@lru_cache(maxsize=_TOKEN_CACHE_SIZE)
def _spell_i(token: bytes) -> bytes:
    """`spell` with `LEET_I` on UTF-8, memoised; one function per table keeps the key small."""
    return spell(token.decode(), LEET_I).encode()


@lru_cache(maxsize=_TOKEN_CACHE_SIZE)
def _spell_l(token: bytes) -> bytes:
    """`spell` with `LEET_L` on UTF-8, memoised."""
    return spell(token.decode(), LEET_L).encode()


class Spelling(NamedTuple):
    """Raw text with leetspeak undone, and what the spelling found on the way."""

    spelled: bytes
    aligned: bool  # every token stayed one token (``!!!`` vanishes, ``5$5`` splits)
    # A token holds a "1" and a letter (``k1ll``), so the ``1 -> l`` reading may differ.  Such a
    # token always needs spelling, so only spelled tokens are looked at.
    mixed_one: bool
    changed_single: bool  # a changed token reads as one character (``$2``, ``x!``)


def undo_leet(raw: bytes, leet: dict[int, int]) -> Spelling:
    """`raw` (folded tokens) with each token that needs it spelled (see `SPELL_FINDER`)."""
    matches = SPELL_FINDER.find_matches_as_indexes(raw)
    return spell_matches(raw, matches, leet) if matches else Spelling(raw, True, False, False)


def spell_matches(
    raw: bytes, matches: list[tuple[int, int, int]], leet: dict[int, int]
) -> Spelling:
    """`undo_leet` given `SPELL_FINDER`'s matches in `raw`."""
    spell_token = _spell_i if leet is LEET_I else _spell_l
    pieces: list[bytes] = []
    aligned = True
    mixed_one = changed_single = False
    done = token_end = 0
    for _, start, _ in matches:
        if start < token_end:
            continue  # another match in a token already spelled
        token_start = raw.rfind(b" ", 0, start) + 1
        token_end = raw.find(b" ", start)
        if token_end < 0:
            token_end = len(raw)
        token = raw[token_start:token_end]
        spelled = spell_token(token)
        if spelled == token:
            continue  # nothing to undo ("x2")
        if not spelled or b" " in spelled:
            aligned = False
        elif not changed_single and len(set(spelled.decode())) == 1:
            changed_single = True
        if not mixed_one and b"1" in token:
            mixed_one = _HAS_LETTER.search(token.decode()) is not None
        pieces.append(raw[done:token_start])
        pieces.append(spelled)
        done = token_end
    if not pieces:
        return Spelling(raw, True, False, False)
    pieces.append(raw[done:])
    return Spelling(b"".join(pieces), aligned, mixed_one, changed_single)
