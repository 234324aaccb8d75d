"""Keyword matcher: obfuscated spellings match, innocent words that contain a keyword do not.

The keywords are short indicator terms of the kind the lists need, plus invented words; the
texts are generated for the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from abhaya.filters.keywords import (
    KeywordEntry,
    KeywordHit,
    KeywordLoadError,
    KeywordMatcher,
    KeywordProblem,
    parse_keyword_file,
)

TERMS = {
    "violence": ["kill", "child abuse", "हत्या", "ज़हर", "maar dalo", "gun shop"],
    "adult": ["sex", "cock", "anal", "rape", "rapist", "ass", "tit", "dick", "shit", "butt"],
    "invented": ["zorblat", "quokka zanzibar", "cunt"],
}


@pytest.fixture(scope="module")
def matcher() -> KeywordMatcher:
    entries = [
        KeywordEntry(term, category, f"{category}.txt:{n}")
        for category, terms in TERMS.items()
        for n, term in enumerate(terms, start=1)
    ]
    return KeywordMatcher.build(entries)


def terms(matcher: KeywordMatcher, text: str) -> list[str]:
    return [hit.term for hit in matcher.find(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("how to kill", ["kill"]),
        ("KILL", ["kill"]),
        ("ｋｉｌｌ", ["kill"]),  # fullwidth
        ("kíll", ["kill"]),  # diacritic
        ("ki\u200bll", ["kill"]),  # zero-width space inside
        ("k\u00adi\u200dll", ["kill"]),  # soft hyphen, ZWJ
        ("zоrblаt", ["zorblat"]),  # Cyrillic о and а
        ("ZОRBLАТ", ["zorblat"]),  # Cyrillic capitals
        ("k1ll", ["kill"]),  # 1 read as i
        ("ki1l", ["kill"]),  # 1 read as l
        ("z0rbl@t", ["zorblat"]),
        ("$3x", ["sex"]),
        ("a$$", ["ass"]),
        ("k.i.l.l", ["kill"]),
        ("k i l l", ["kill"]),
        ("k-i-l-l", ["kill"]),
        ("kiiiiilll", ["kill"]),
        ("zoooorblaaaat", ["zorblat"]),
        ("asssss", ["ass"]),
        ("kill!", ["kill"]),
        # Hindi, with and without joiners, precomposed and decomposed nukta
        ("उसकी हत्या", ["हत्या"]),
        ("हत्\u200dया", ["हत्या"]),
        ("हत्\u200cया", ["हत्या"]),
        ("ज़हर", ["ज़हर"]),
        ("ज\u093cहर", ["ज़हर"]),
        # Hinglish
        ("usko MAAR DALO", ["maar dalo"]),
        ("usko maaaar daloooo", ["maar dalo"]),
    ],
)
def test_obfuscations_match(matcher: KeywordMatcher, text: str, expected: list[str]) -> None:
    assert terms(matcher, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Essex",
        "Scunthorpe",
        "cocktail recipes",
        "data analysis",
        "find a therapist",
        "Sussex",
        "Middlesex",
        "grape juice",
        "assassin creed",
        "title of the book",
        "Charles Dickens",
        "shitake mushrooms",
        "as good as new",  # "ass" needs its double s
        "but why",  # "butt" needs its double t
        "kil",
        "skill",
        "killer whale",
        "gun",
        "shop",
        "हत्याकांड",  # a longer word is another word
        "maar",
        "quokka",
        "",
        "!!! ??? ...",
    ],
)
def test_innocent_words_do_not_match(matcher: KeywordMatcher, text: str) -> None:
    assert terms(matcher, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("report child abuse now", ["child abuse"]),
        ("c h i l d a b u s e", ["child abuse"]),
        ("c.h.i.l.d a.b.u.s.e", ["child abuse"]),
        ("c h i l d abuse", ["child abuse"]),
        ("childabuse", ["child abuse"]),
        ("child-abuse", ["child abuse"]),
        ("child and abuse", []),
        ("gun shop near me", ["gun shop"]),
        ("gunshop", ["gun shop"]),
        ("quokka zanzibar", ["quokka zanzibar"]),
        ("quokka, zanzibar!", ["quokka zanzibar"]),
    ],
)
def test_phrases(matcher: KeywordMatcher, text: str, expected: list[str]) -> None:
    assert terms(matcher, text) == expected


def test_hits_are_distinct_in_order_of_first_occurrence(matcher: KeywordMatcher) -> None:
    hits = matcher.find("zorblat then kill then z0rblat and k1ll and gun shop")
    assert hits == [
        KeywordHit("zorblat", "invented", "invented.txt:1"),
        KeywordHit("kill", "violence", "violence.txt:1"),
        KeywordHit("gun shop", "violence", "violence.txt:6"),
    ]


def test_same_term_in_two_categories_gives_two_hits() -> None:
    m = KeywordMatcher.build(
        [KeywordEntry("zorblat", "a", "a.txt:1"), KeywordEntry("zorblat", "b", "b.txt:3")]
    )
    assert [(h.category, h.source) for h in m.find("ZORBLAT")] == [
        ("a", "a.txt:1"),
        ("b", "b.txt:3"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("kil", ["kil"]), ("kill", ["kill", "kil"]), ("kiiil", ["kil"]), ("k1ll", ["kill", "kil"])],
)
def test_keywords_that_differ_only_in_doubled_letters(text: str, expected: list[str]) -> None:
    m = KeywordMatcher.build([KeywordEntry("kill", "a", "a:1"), KeywordEntry("kil", "b", "b:1")])
    assert sorted(h.term for h in m.find(text)) == sorted(expected)


def test_keyword_written_obfuscated_matches_plain_text() -> None:
    m = KeywordMatcher.build([KeywordEntry("Z0RBL@T", "x", "x.txt:1")])
    assert [h.term for h in m.find("zorblat")] == ["Z0RBL@T"]


def test_empty_matcher() -> None:
    assert KeywordMatcher.empty().find("kill") == []
    assert len(KeywordMatcher.empty()) == 0
    assert KeywordMatcher.build([]).find("kill") == []


def test_len_counts_entries(matcher: KeywordMatcher) -> None:
    assert len(matcher) == sum(len(t) for t in TERMS.values())


def test_long_text(matcher: KeywordMatcher) -> None:
    text = "weather in delhi " * 5000 + "zorblat"
    assert terms(matcher, text) == ["zorblat"]


# --- keyword files ---------------------------------------------------------------------------


def write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "list.txt"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def test_parse_keyword_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "# category: invented\n\nzorblat\n  quokka zanzibar  \nहत्या\ngun shop   # an inline note\n",
    )
    entries, problems = parse_keyword_file(path, "invented")
    assert problems == []
    assert entries == [
        KeywordEntry("zorblat", "invented", f"{path}:3"),
        KeywordEntry("quokka zanzibar", "invented", f"{path}:4"),
        KeywordEntry("हत्या", "invented", f"{path}:5"),
        KeywordEntry("gun shop", "invented", f"{path}:6"),
    ]


def test_bom_is_tolerated(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeffzorblat\n".encode())
    entries, problems = parse_keyword_file(path, "x")
    assert [e.term for e in entries] == ["zorblat"]
    assert problems == []


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("!!! ???", "no letters or digits left after normalisation"),
        ("\u200b\u200d", "no letters or digits left after normalisation"),
        ("word " * 30, "longer than 100 characters"),
        ("ZORBLAT", "same as line 1 after normalisation"),
    ],
)
def test_bad_lines_are_reported_with_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = write(tmp_path, f"zorblat\n# comment\n{line}\nquokka\n")
    entries, problems = parse_keyword_file(path, "x")
    assert [e.term for e in entries] == ["zorblat", "quokka"]
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.file, problem.line, problem.message) == (str(path), 3, message)
    assert str(problem).startswith(f"{path}:3: {message}: ")


def test_problem_str() -> None:
    problem = KeywordProblem("a.txt", 7, "!!!", "no letters or digits left after normalisation")
    assert str(problem) == "a.txt:7: no letters or digits left after normalisation: !!!"


@pytest.mark.parametrize("content", [None, b"zorblat\n\xff\xfe broken\n"])
def test_unreadable_file_raises_naming_the_path(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "missing.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(KeywordLoadError, match="missing.txt"):
        parse_keyword_file(path, "x")


def test_shipped_keyword_lists_parse_and_match_their_own_terms() -> None:
    folder = Path(__file__).parents[2] / "filters" / "data" / "keywords"
    files = sorted(folder.glob("*.txt"))
    assert files
    entries: list[KeywordEntry] = []
    for path in files:
        found, _problems = parse_keyword_file(path, path.stem)
        entries.extend(found)
    m = KeywordMatcher.build(entries)
    for entry in entries:
        assert entry in {
            KeywordEntry(h.term, h.category, h.source) for h in m.find(f"about {entry.term} now")
        }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a s s", ["ass"]),  # spaced-out letters keep their doubled letter
        ("a s", []),
        ("a.s.s", ["ass"]),
        ("ki" + "l" * 40, ["kill"]),  # stretched beyond any single run pattern
        ("a" + "s" * 30, ["ass"]),
        ("bu" + "t" * 20 + " but", ["butt"]),
        ("2024 kill 100", ["kill"]),
    ],
)
def test_doubled_letters_more(matcher: KeywordMatcher, text: str, expected: list[str]) -> None:
    assert terms(matcher, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("ककख", ["ककख"]), ("कककख", ["ककख"]), ("कख", []), ("क क ख", ["ककख"])],
)
def test_doubled_non_ascii_letter(text: str, expected: list[str]) -> None:
    m = KeywordMatcher.build([KeywordEntry("ककख", "x", "x.txt:1")])
    assert [h.term for h in m.find(text)] == expected


def test_long_document_of_mixed_lines(matcher: KeywordMatcher) -> None:
    lines = ["weather in delhi", "मौसम कैसा है", "naïve café", "as good as new"] * 60
    lines[37] = "how to k1ll time"
    lines[101] = "उसकी हत्या"
    lines[150] = "z o r b l a t"
    lines[190] = "a$$ and bu" + "t" * 3
    text = "\n".join(lines)
    assert len(text) > 1024
    assert terms(matcher, text) == ["kill", "हत्या", "zorblat", "ass", "butt"]
    assert terms(matcher, text) == terms(matcher, text.replace("\n", " "))
