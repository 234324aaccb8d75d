"""Canonical text form: each obfuscation a child might use folds to the plain spelling."""

from __future__ import annotations

import re
import unicodedata

import pytest

from abhaya.filters.textnorm import collapse_repeats, forms, normalize, variants

ZWSP, ZWNJ, ZWJ, WJ, BOM, SHY = "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"
VIRAMA, NUKTA = "\u094d", "\u093c"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # plain text, spacing and punctuation
        ("weather in Delhi", "weather in delhi"),
        ("  weather,   in\tDelhi?! ", "weather in delhi"),
        ("hello_world/again", "helo world again"),
        ("", ""),
        ("   ...   ", ""),
        # NFKC: fullwidth, ligatures, styled letters
        ("Ｗｅａｔｈｅｒ", "weather"),
        ("ﬁre", "fire"),
        ("𝐰𝐞𝐚𝐭𝐡𝐞𝐫", "weather"),
        ("ⓦⓔⓐⓣⓗⓔⓡ", "weather"),
        # case and casefold
        ("WEATHER", "weather"),
        ("STRASSE Straße", "strase strase"),
        # Latin diacritics
        ("naïve café résumé", "naive cafe resume"),
        ("ẘëäťĥėŕ", "weather"),
        # invisible characters inside words
        (f"wea{ZWSP}ther", "weather"),
        (f"wea{ZWNJ}th{ZWJ}er", "weather"),
        (f"w{WJ}eather{BOM}", "weather"),
        (f"wea{SHY}ther", "weather"),
        ("wea\ufe0fther", "weather"),
        # homoglyphs from Cyrillic and Greek, lower and upper case
        ("wеаthеr", "weather"),  # Cyrillic е, а
        ("ΤΑΧΙ", "taxi"),  # Greek capitals, folded then mapped
        ("сосоа", "cocoa"),  # all Cyrillic
        # leetspeak only inside tokens with letters
        ("w3@th3r", "weather"),
        ("$n0w", "snow"),
        ("2024 w1nter", "2024 winter"),
        ("call 100 or 1098", "cal 10 or 1098"),
        ("snow!", "snow"),
        ("sn0w!!!", "snow"),
        ("!!! $$$", ""),
        # spaced-out letters
        ("s.n.o.w", "snow"),
        ("s n o w", "snow"),
        ("s-n-o-w day", "snow day"),
        ("a s n o w", "asnow"),
        # stretched letters
        ("snoooooow", "snow"),
        ("sooooo good", "so god"),
        ("kill kiiiill", "kil kil"),
        # Hindi: matras, virama and nukta stay; ZWJ/ZWNJ go
        ("मौसम कैसा है", "मौसम कैसा है"),
        (f"हत{VIRAMA}{ZWJ}या", f"हत{VIRAMA}या"),
        (f"हत{VIRAMA}{ZWNJ}या", f"हत{VIRAMA}या"),
        ("ज़हर", f"ज{NUKTA}हर"),  # precomposed U+095B
        (f"ज{NUKTA}हर", f"ज{NUKTA}हर"),
        ("मौसम, दिल्ली।", "मौसम दिल्ली"),
        ("२०२४ मौसम", "२०२४ मौसम"),
        # Hinglish stays Latin
        ("Mausam KAISA hai", "mausam kaisa hai"),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == unicodedata.normalize("NFC", expected)


@pytest.mark.parametrize(
    "text",
    ["weather in delhi", "w3@th3r", "मौसम कैसा है", "s.n.o.w", "ज़हर", "Ｗｅａｔｈｅｒ", "kill1"],
)
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@pytest.mark.parametrize(
    "text",
    ["मौसम कैसा है", "क्षत्रिय", "ज्ञान", "श्री", "हिन्दी", "प्रार्थना"],
)
def test_devanagari_marks_are_never_dropped(text: str) -> None:
    marks = [c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c)[0] == "M"]
    result = normalize(text)
    assert result == text
    assert all(m in unicodedata.normalize("NFD", result) for m in marks)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("snow", ("snow",)),
        ("w1nter", ("winter", "wlnter")),
        ("he11o", ("heio", "helo")),
        ("sn0w1", ("snowi", "snowl")),
        ("2024 only digits 11", ("2024 only digits 1",)),
        ("!ce", ("ice",)),
    ],
)
def test_variants(text: str, expected: tuple[str, ...]) -> None:
    result = variants(text)
    assert result == expected
    assert result[0] == normalize(text)


@pytest.mark.parametrize(
    ("text", "spelled"),
    [
        ("snoooow daaay", ["snoooow", "daaay"]),
        ("a$$ort", ["assort"]),
        ("x !!! y", ["x", "y"]),  # a token of symbols vanishes; positions still line up
        ("5$5 tall", ["5", "5", "tal"]),
    ],
)
def test_spelled_tokens_line_up_with_canonical_tokens(text: str, spelled: list[str]) -> None:
    form = forms(text)[0]
    count = form.text.count(" ") + 1
    got = form.spelled_tokens(0, count)
    assert [collapse_repeats(t) for t in got] == form.text.split(" ")
    assert [collapse_repeats(t) for t in spelled] == form.text.split(" ")


def test_second_reading_kept_when_only_spelling_differs() -> None:
    readings = forms("ki1l")
    assert [r.text for r in readings] == ["kil", "kil"]
    assert [r.spelled_tokens(0, 1) for r in readings] == [["kiil"], ["kill"]]


def test_long_hostile_text_is_handled() -> None:
    text = ("x" * 70_000) + " " + ("\u200b" * 1000) + ("w3ather " * 2000) + "\x00" * 10
    result = normalize(text)
    assert result.startswith("x weather weather")
    assert "\x00" not in result


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # runs longer than the longest run the automaton knows as one pattern
        ("a" + "b" * 50 + "c", "abc"),
        ("x" * 40, "x"),
        # tokens of digits are never spelled; their repeats collapse like any other
        ("2024 1000 3.5", "2024 10 35"),
        # a token changed by spelling that reads as one character is joined from its raw form
        ("$2 a b", "s2ab"),
        ("x! y", "xiy"),
        ("a s s", "as"),
        # repeated non-ASCII characters
        ("ककख", "कख"),
        ("ii ा ा ख", "iाख"),
    ],
)
def test_normalize_more(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "offsets"),
    [
        ("kiiill", {1, 2}),
        ("a$$", {1}),
        ("snoooow daaay", {2, 6}),
        ("k k i i l l", {0, 1, 2}),  # joined single letters: each joined letter is doubled
        ("a s s", {1}),
        ("a s", set()),
        ("x" * 40, {0}),
        ("ककख", {0}),  # byte offsets: क is three bytes
        ("sn00w 1nn", {2, 6}),
        ("weather", set()),
    ],
)
def test_doubled_offsets(text: str, offsets: set[int]) -> None:
    form = forms(text)[0]
    assert form.doubled_offsets() == offsets
    # The same fact as the spelled tokens: a character stands for a run of two or more.
    expected: set[int] = set()
    offset = 0
    for word in form.spelled_words():
        for char, run in ((m.group(1), m.group()) for m in re.finditer(r"(.)\1*", word)):
            if len(run) > 1:
                expected.add(offset)
            offset += len(char.encode())
        offset += 1
    assert expected == offsets


def test_spelled_tokens_line_up_when_a_joined_token_splits() -> None:
    # "०!" and "ु" are single characters that join to "०!ु", which spells as two tokens.
    form = forms("०! - ु 5$5")[0]
    words = form.spelled_words()
    assert [collapse_repeats(w) for w in words] == form.text.split(" ")


def lines_of(count: int) -> list[str]:
    samples = [
        "weather in Delhi today",
        "मौसम कैसा है",
        "naïve café résumé",
        "ＷＥＡＴＨＥＲ ﬁre",
        "wеаthеr k1ll",
        "s.n.o.w day",
        "\u200b\u200b",
        "\u0301 starts with a mark",
        "ककख aaa!!",
        "2024, 100% — “quotes”",
        "😀 emoji 𝐰𝐞𝐚𝐭𝐡𝐞𝐫",
        "x\u2028y\u3000z\x85w",
    ]
    return [samples[n % len(samples)] for n in range(count)]


@pytest.mark.parametrize("count", [12, 200])  # a short text, and one folded line by line
def test_long_text_of_lines_folds_like_one_line(count: int) -> None:
    text = "\n".join(lines_of(count))
    whole = [(f.text, f.spelled_words(), f.doubled_offsets()) for f in forms(text)]
    one_line = [
        (f.text, f.spelled_words(), f.doubled_offsets()) for f in forms(text.replace("\n", " "))
    ]
    assert whole == one_line
