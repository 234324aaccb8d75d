"""Canonical text form for keyword matching, robust against common obfuscation.

Keywords and search queries go through the same function, so a keyword matches however the child
happens to spell it: fullwidth or styled letters (NFKC), case (casefold), Latin diacritics,
zero-width characters hidden inside a word, Cyrillic/Greek look-alike letters, leetspeak
(``k1ll``, ``$ex``), spaced-out letters (``c.h.i.l.d``) and stretched letters (``chiiiild``).

Three modules share the work, in this order:

- `abhaya.filters.unicodefold` folds the text (Unicode normalisation, case, diacritics,
  invisible characters, homoglyphs) into tokens: runs of letters, digits and the leetspeak
  symbols ``@$!``;
- `abhaya.filters.leetspeak` undoes leetspeak per token;
- this module collapses stretched letters, joins spaced-out letters, and keeps the result
  (`NormalForm`, `forms`, `normalize`, `variants`, `collapse_repeats`).

The rules, per token:

- leetspeak is undone only in a token that also has a letter (``w1nter`` -> ``winter``, while
  ``2024`` stays); a trailing ``!`` there is punctuation.  In a token without letters the
  symbols become separators (``$5`` -> ``5``, ``!!!`` vanishes).  ``1`` reads as ``i`` or ``l``,
  so a text with such a token has a second reading (`forms`, `variants`);
- then every run of one repeated character collapses to one (``kiiill`` -> ``kil``, ``100`` ->
  ``10``);
- a run of two or more tokens that are single characters after that is joined
  (``c h i l d`` -> ``child``) and the joined token is read again from its raw spelling.

This runs on every search, so the text goes through a few whole-text passes in C (``str`` and
``bytes`` methods, compiled regexes, and Aho-Corasick automata from ``ahocorasick_rs``, in
Rust), and Python touches only the places that need work, never each character or each word
(folding and spelling say how in their modules).  Here:

- stretched letters: an automaton over the UTF-8 bytes finds runs of one ASCII character
  (leftmost-longest, runs of up to `_LONGEST_RUN` as patterns; longer runs arrive as adjacent
  matches); each run is cut to one character, runs of spaces to one space, and the positions of
  the letters that stood for a run are kept (`NormalForm.doubled_offsets`).  A regex handles
  runs of a non-ASCII character, only when the folded text has any;
- spaced-out letters: a byte table turns the canonical text into its "shape" (``x`` per
  character), where one regex finds two single-character tokens in a row; only texts with such
  a pair are split into tokens, and only as far as needed.

A `NormalForm` keeps the folded and the spelled text as bytes; token lists are built from them
only on request (building keyword patterns, or a second reading).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple

import ahocorasick_rs

from abhaya.filters.leetspeak import (
    LEET_DIGIT,
    LEET_I,
    LEET_L,
    SPELL_FINDER,
    spell,
    spell_matches,
    undo_leet,
)
from abhaya.filters.unicodefold import NON_ASCII_REPEAT, fold

__all__ = ["NormalForm", "collapse_repeats", "forms", "normalize", "variants"]

_SINGLE_RUN = re.compile(r" \S(?: \S)+ ")  # on space-padded text
# Runs of single-character tokens are found in the "shape" of the padded canonical UTF-8:
# every byte but the space becomes "x" and continuation bytes go, so each character is one
# byte (and shape offsets are character offsets).  Two single-character tokens in a row then
# show as " x x ".
_SHAPE = bytes(32 if code == 32 else 120 for code in range(256))
_CONTINUATION = bytes(range(0x80, 0xC0))
_SHAPE_RUN = re.compile(rb" x(?: x)+ ")
_PAIR = re.compile(rb" x x ")  # faster than a substring test on this two-letter alphabet
_REPEAT = re.compile(r"(.)\1+")  # a run of one repeated character, for the slow paths
# Runs of one non-ASCII character in UTF-8: a lead byte and all its continuation bytes make one
# character.
_UTF8_REPEAT = re.compile(rb"([\xc0-\xf7][\x80-\xbf]+)\1+")
# Runs of one character in spelled text: letters, digits (``100``) and spaces.  Longer runs
# come as several adjacent matches, so the bound only trades automaton size for match count.
_LONGEST_RUN = 16
_RUN_FINDER = ahocorasick_rs.BytesAhoCorasick(
    [
        c.encode() * length
        for c in "abcdefghijklmnopqrstuvwxyz0123456789 "
        for length in range(2, _LONGEST_RUN + 1)
    ],
    matchkind=ahocorasick_rs.MatchKind.LeftmostLongest,
    implementation=ahocorasick_rs.Implementation.DFA,
)


class NormalForm(NamedTuple):
    """One reading of a text.

    `text` is the canonical form that keywords are matched against.  `spelled_tokens` gives the
    same tokens before stretched letters were collapsed, which the matcher uses to tell ``as``
    from ``ass``: a doubled letter in a keyword must stay doubled (or longer) in the text.
    The same fact is kept by position, for the matcher: `doubled_offsets`.

    The other fields are the reading's working state, built by this module.  Token lists are
    built only when asked for, since most texts never need them.  A named tuple, because one is
    made for every search and a frozen dataclass takes three times as long to build.
    """

    text: str
    padded: bytes  # `text` as UTF-8 with a space at each end, for whole-word matching
    raw: bytes  # folded tokens, UTF-8, separated by one or more spaces
    spelled: bytes  # the same with leetspeak undone: `text` before runs were collapsed
    leet: dict[int, int]  # the leetspeak table of this reading
    aligned: bool  # each raw token spelled as exactly one token
    doubled: tuple[int, ...]  # see `doubled_offsets`; also offsets in `padded` minus one
    joins: tuple[tuple[int, int], ...] = ()  # joined runs of single-character tokens

    def doubled_offsets(self) -> frozenset[int]:
        """UTF-8 byte offsets in `text` of the characters that stand for a run of two or more
        in the spelled text (``kiill`` -> ``kil``: the offset of ``l``)."""
        return frozenset(self.doubled)

    def raw_tokens(self) -> list[str]:
        """The folded tokens, leetspeak still in place, joined runs as one token."""
        tokens = self.raw.decode().split()
        for first, count in reversed(self.joins):
            tokens[first : first + count] = ["".join(tokens[first : first + count])]
        return tokens

    def spelled_words(self) -> list[str]:
        """All spelled tokens, one for each token of `text`."""
        words = self.spelled.decode().split()
        if self.joins:
            raw = self.raw.decode().split()
            for first, count in reversed(self.joins):
                joined = "".join(raw[first : first + count])
                words[first : first + count] = spell(joined, self.leet).split()
        return words

    def spelled_tokens(self, first: int, count: int) -> list[str]:
        """Spelled forms of `count` canonical tokens starting at token index `first`."""
        return self.spelled_words()[first : first + count]


def _collapse_runs(
    spelled: bytes, runs: list[tuple[int, int, int]], non_ascii_runs: bool
) -> tuple[bytes, tuple[int, ...]]:
    """Collapse every run of one repeated character, spaces included, and pad with one space
    at each end; with the byte offsets (in the text without the padding) of the characters
    that stood for a run (see `NormalForm.doubled_offsets`).  `runs` are `_RUN_FINDER`'s
    matches in `spelled`."""
    # Runs of a non-ASCII character, shaped like the automaton's matches (index, start, end),
    # with the character's byte length, negated, in place of the pattern index.
    other = (
        [(m.start() - m.end(1), m.start(), m.end()) for m in _UTF8_REPEAT.finditer(spelled)]
        if non_ascii_runs
        else None
    )
    if other:
        runs = sorted(runs + other, key=itemgetter(1))
    elif not runs:
        return b" %b " % spelled.strip(b" "), ()
    pieces: list[bytes] = []
    doubled: list[int] = []
    done = size = 0
    for index, start, end in runs:
        # An ASCII run longer than the longest pattern arrives as adjacent matches.
        if start == done and start and spelled[start - 1] == spelled[start]:
            done = end
            continue
        kept = start + 1 if index >= 0 else start - index  # end of the kept character
        pieces.append(spelled[done:kept])
        size += kept - done
        if spelled[start] != 32:  # a run of spaces is no letter
            doubled.append(size - (kept - start))
        done = end
    pieces.append(spelled[done:])
    collapsed = b"".join(pieces)
    # Runs of spaces are down to one, so at most one leading space goes.
    if collapsed[:1] == b" ":
        return b" %b " % collapsed.strip(b" "), tuple(offset - 1 for offset in doubled)
    return b" %b " % collapsed.rstrip(b" "), tuple(doubled)


def _reading(raw: bytes, leet: dict[int, int]) -> NormalForm:
    """Read `raw` (folded tokens) with one leetspeak table.  Spelling never makes or breaks a
    run of a non-ASCII character, so whether there is one can be known from the folded text."""
    non_ascii_runs = not raw.isascii() and NON_ASCII_REPEAT.search(raw.decode()) is not None
    spelled, aligned, _, _ = undo_leet(raw, leet)
    runs = _RUN_FINDER.find_matches_as_indexes(spelled)
    padded, doubled = _collapse_runs(spelled, runs, non_ascii_runs)
    return NormalForm(padded[1:-1].decode(), padded, raw, spelled, leet, aligned, doubled)


def _join_singles(tokens: list[str]) -> list[str]:
    """Join runs of single-character tokens: "c h i l d" -> "child"."""
    padded = _SINGLE_RUN.sub(_join_run, f" {' '.join(tokens)} ")
    return padded.split()


def _join_run(match: re.Match[str]) -> str:
    """One `_SINGLE_RUN` match as one token, still space-padded."""
    return f" {match.group().replace(' ', '')} "


def _join_single_runs(form: NormalForm, shape: bytes, changed_single: bool) -> NormalForm:
    """Join runs of single-character tokens ("c h i l d" -> "child").

    Runs are found in the canonical text, which is cheaper than in the raw tokens; only the
    joined tokens are read again, from their raw spelling ("c h 1 l d" -> "ch1ld" -> "child").
    When no raw token of a run has a leetspeak character, that reading is the joined
    canonical characters with repeats collapsed, so the raw tokens are not even split.  A raw
    token with one either shows a leetspeak digit in its canonical character, or was changed
    by spelling (`changed_single` tells whether any such token became one character).
    """
    if not form.aligned:  # rare: a token of symbols only; start from the raw tokens
        rejoined = _join_singles(form.raw.decode().split())
        return _reading(" ".join(rejoined).encode(), form.leet)
    padded = form.padded
    spans: list[tuple[int, int]] = []
    pair = _PAIR.search(shape)
    while pair is not None:
        run = _SHAPE_RUN.match(shape, pair.start())
        assert run is not None  # a pair starts there, so a run does
        spans.append(run.span())
        pair = _PAIR.search(shape, run.end())
    if len(shape) != len(padded):
        spans = _byte_spans(f" {form.text} ", spans)
    places = [
        (padded.count(b" ", 0, start), padded.count(b" ", start, end) - 1) for start, end in spans
    ]
    tokens: list[bytes] | None = None
    if changed_single or any(LEET_DIGIT.search(padded, *span) for span in spans):
        first, count = places[-1]
        tokens = form.raw.split(None, first + count)
    old = form.doubled
    doubled: list[int] = []
    pieces: list[bytes] = []
    done = index = shift = 0
    for (run_start, run_end), (first, count) in zip(spans, places, strict=True):
        # The run's characters sit at text offsets [start, end); padded offsets are one more.
        start, end = run_start, run_end - 2
        before, index = index, bisect_left(old, start, index)
        doubled.extend(offset + shift for offset in old[before:index])
        before, index = index, bisect_left(old, end, index)
        inside = set(old[before:index])
        if tokens is None:
            chars = padded[run_start + 1 : run_end - 1].decode().split(" ")
            canonical, offsets = _join_plain(chars, start, inside)
        else:
            joined = b"".join(tokens[first : first + count]).decode()
            canonical, offsets = _run_offsets(spell(joined, form.leet))
        joined_bytes = canonical.encode()
        doubled.extend(start + shift + offset for offset in offsets)
        pieces.append(padded[done:run_start])
        pieces.append(b" %b " % joined_bytes)
        done = run_end
        shift += len(joined_bytes) - (end - start)
    doubled.extend(offset + shift for offset in old[index:])
    pieces.append(padded[done:])
    new = b"".join(pieces)
    return NormalForm(
        new[1:-1].decode(),
        new,
        form.raw,
        form.spelled,
        form.leet,
        True,
        tuple(doubled),
        tuple(places),
    )


def _byte_spans(chars: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Character spans in `chars` (in order, not overlapping) as UTF-8 byte spans."""
    out: list[tuple[int, int]] = []
    char = byte = 0
    for start, end in spans:
        byte += len(chars[char:start].encode())
        byte_end = byte + len(chars[start:end].encode())
        out.append((byte, byte_end))
        char, byte = end, byte_end
    return out


def _join_plain(chars: list[str], start: int, doubled: set[int]) -> tuple[str, list[int]]:
    """Join single characters whose tokens had no leetspeak (each token was one character,
    stretched or not), at text offset `start`: equal neighbours merge into one run, and a run
    stands for two or more if it merged several tokens or one of them was stretched (its byte
    offset is in `doubled`)."""
    pieces: list[str] = []
    offsets: list[int] = []
    size = 0
    for char, group in groupby(_with_offsets(chars, start), key=itemgetter(0)):
        stretched = [offset in doubled for _, offset in group]
        if len(stretched) > 1 or stretched[0]:
            offsets.append(size)
        pieces.append(char)
        size += len(char.encode())
    return "".join(pieces), offsets


def _with_offsets(chars: list[str], start: int) -> list[tuple[str, int]]:
    """Each character of a space-separated run with its byte offset."""
    out: list[tuple[str, int]] = []
    for char in chars:
        out.append((char, start))
        start += len(char.encode()) + 1
    return out


def _run_offsets(spelled: str) -> tuple[str, list[int]]:
    """`spelled` with runs collapsed, and the byte offsets of characters that stood for a run
    of two or more (spaces excepted)."""
    offsets: list[int] = []
    removed = 0
    for match in _REPEAT.finditer(spelled):
        char = match.group(1)
        width = len(char.encode())
        if char != " ":
            offsets.append(len(spelled[: match.start()].encode()) - removed)
        removed += (len(match.group()) - 1) * width
    return _REPEAT.sub(r"\1", spelled), offsets


def _first_reading(text: str) -> tuple[NormalForm, bool]:
    """The ``1 -> i`` reading, and whether a token has a "1" and a letter (so a second
    reading may differ)."""
    raw, non_ascii_runs = fold(text)
    # `undo_leet` inlined: the common short query has nothing to spell and no run, so it makes
    # no further calls.
    matches = SPELL_FINDER.find_matches_as_indexes(raw)
    if matches:
        spelled, aligned, mixed_one, changed_single = spell_matches(raw, matches, LEET_I)
    else:
        spelled, aligned, mixed_one, changed_single = raw, True, False, False
    runs = _RUN_FINDER.find_matches_as_indexes(spelled)
    if runs or non_ascii_runs:
        padded, doubled = _collapse_runs(spelled, runs, non_ascii_runs)
    else:
        padded, doubled = b" %b " % spelled.strip(b" "), ()
    first = NormalForm(padded[1:-1].decode(), padded, raw, spelled, LEET_I, aligned, doubled)
    shape = padded.translate(_SHAPE, _CONTINUATION)
    if _PAIR.search(shape):
        first = _join_single_runs(first, shape, changed_single)
    return first, mixed_one


def forms(text: str) -> tuple[NormalForm, ...]:
    """All readings of `text` to match, distinct, the ``1 -> i`` reading first."""
    first, mixed_one = _first_reading(text)
    if not mixed_one:
        return (first,)
    raw = " ".join(first.raw_tokens()).encode() if first.joins else first.raw
    second = _reading(raw, LEET_L)
    if second.text != first.text:
        return (first, second)
    # Same canonical text, but the spelling can still differ ("ki1l": "kiil" or "kill"), and
    # the matcher's doubled-letter check needs the second spelling.
    if first.spelled_words() != second.spelled_words():
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
