"""Canonical text form: each obfuscation a child might use folds to the plain spelling."""

from __future__ import annotations

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
