"""Term classes over generated spellings: ages, obfuscations, compounds, three scripts, and the
look-alikes that must stay out of every class (see filters/termclasses.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from abhaya.filters.searchrules import SearchRules
from abhaya.filters.termclasses import (
    AGE_CLASS,
    TermClassError,
    TermClasses,
    parse_ages,
    parse_class,
)

CLASSES: TermClasses = SearchRules.load_default().classes

AGES = (3, 9, 12, 15, 17)
AGE_SPELLINGS = (
    "{n}yo",
    "{n} yo",
    "{n} y/o",
    "{n} y.o.",
    "{n}-year-old",
    "{n} year old",
    "{n} years",
    "{n}yrs",
    "age {n}",
    "aged {n}",
    "under {n}",
    "{n} saal ki",
    "{n} साल",
    "उम्र {n}",
)
AGE_WORDS = ("twelve year old", "under sixteen", "barah saal", "solah saal", "बारह साल")
NOT_AGES = (
    "18yo",
    "21 year old",
    "under 25",
    "age 30",
    "100 yo",
    "2012 years",
    "12 reasons",
    "9 to 5",
)


@pytest.mark.parametrize(
    "text", [spelling.format(n=n) for n in AGES for spelling in AGE_SPELLINGS] + list(AGE_WORDS)
)
def test_an_age_under_18_in_any_common_spelling(text: str) -> None:
    assert CLASSES.find(f"photo {text} girl").has(AGE_CLASS), text


@pytest.mark.parametrize("text", NOT_AGES)
def test_adult_ages_and_other_numbers_are_no_age(text: str) -> None:
    assert not CLASSES.find(f"photo {text} girl").has(AGE_CLASS)


# One term of each class in each script: Latin English, Hinglish, Devanagari.
SCRIPTS = {
    "minor": ("child", "toddler", "schoolgirl", "nabalig", "bachchi", "बच्चा", "नाबालिग"),
    "sexual": ("porn", "nudes", "naked", "sexy", "nangi", "chudai", "पोर्न", "नंगी"),
    "seeking": ("video", "links", "telegram", "mms", "tasveer", "वीडियो", "लिंक"),
    "protective": ("law", "report", "helpline", "kanoon", "shikayat", "कानून", "रोकथाम"),
    "self_act": ("suicide", "kill yourself", "khudkushi", "aatmahatya", "आत्महत्या"),
    "self_method": ("how to", "easiest way", "kaise", "tarika", "कैसे", "तरीका"),
    "self_intent": ("want to die", "jeena nahi", "marna chahti", "मरना चाहता"),
}


@pytest.mark.parametrize(
    ("name", "term"), [(name, term) for name, terms in SCRIPTS.items() for term in terms]
)
def test_each_class_in_three_scripts(name: str, term: str) -> None:
    assert CLASSES.find(f"find {term} today").has(name)


def _leet(word: str) -> str:
    return word.replace("i", "1").replace("o", "0").replace("e", "3").replace("a", "@")


def _cyrillic(word: str) -> str:
    return word.translate(str.maketrans("aeiopc", "аеіорс"))  # look-alike Cyrillic letters


OBFUSCATIONS = {
    "leet": _leet,
    "dots": ".".join,
    "dashes": "-".join,
    "spaces": " ".join,
    "cyrillic": _cyrillic,
    "stretched": lambda w: w[0] + w[1] * 4 + w[2:],
    "upper": str.upper,
}


@pytest.mark.parametrize("how", sorted(OBFUSCATIONS))
@pytest.mark.parametrize(
    ("name", "word"),
    [("minor", "kid"), ("minor", "child"), ("sexual", "porno"), ("sexual", "nude")],
)
def test_obfuscated_terms_are_still_their_class(name: str, word: str, how: str) -> None:
    assert CLASSES.find(f"find {OBFUSCATIONS[how](word)} today").has(name)


def test_star_inside_a_word_is_dropped() -> None:
    assert CLASSES.find("p*rn").has("sexual")


@pytest.mark.parametrize("form", ["porn", "porno", "pornography", "pornographic", "pornos", "pr0n"])
def test_word_forms_of_a_prefix_term(form: str) -> None:
    assert CLASSES.find(form).has("sexual")


COMPOUNDS = [
    ("child", "porn"),
    ("kid", "nudes"),
    ("preteen", "sex"),
    ("toddler", "pornography"),
    ("young", "teen", "porn"),
    ("little", "girl", "nude"),
    ("school", "girl", "nude"),
]


@pytest.mark.parametrize("parts", COMPOUNDS, ids="".join)
def test_compounds_written_without_spaces(parts: tuple[str, ...]) -> None:
    found = CLASSES.find("".join(parts))
    assert found.has("minor") and found.has("sexual")


@pytest.mark.parametrize("words", [("pre", "teen"), ("jail", "bait")], ids=" ".join)
def test_a_one_word_term_written_as_two_words(words: tuple[str, ...]) -> None:
    assert CLASSES.find(" ".join(words)).classes()


LOOK_ALIKES = [
    "essex",
    "middlesex",
    "sussex",
    "scunthorpe",
    "cocktail",
    "therapist",
    "analysis",
    "kidney",
    "pedometer",
    "sextant",
    "nudge",
    "cpu",
    "skidding",
    "childish",
]


@pytest.mark.parametrize("word", LOOK_ALIKES)
def test_look_alikes_are_in_no_risky_class(word: str) -> None:
    found = CLASSES.find(f"{word} video")
    assert not {"minor", "sexual", "cp", "csam_actor", "csam_indicator"} & set(found.classes())


def _write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "line", "reason"),
    [
        ("# class: other\nword\n", 1, "does not match the file name"),
        ("alpha\nbeta\nAlpha\n", 3, "same as line 1"),
        ("alpha\npo*rn\n", 2, "'*' only at the end"),
        ("alpha\ntwo words*\n", 2, "a prefix term is one word"),
        ("alpha\n!!!\n", 2, "no letters or digits"),
        ("# compound: maybe\nalpha\n", 1, "compound is yes or no"),
        ("alpha\n" + "x" * 61 + "\n", 2, "longer than"),
        ("# only comments\n", 0, "no terms"),
    ],
)
def test_a_bad_class_file_is_refused_with_file_line_and_reason(
    tmp_path: Path, body: str, line: int, reason: str
) -> None:
    path = _write(tmp_path, "mine.txt", body)
    with pytest.raises(TermClassError) as err:
        parse_class(path)
    assert err.value.problem.file == str(path)
    assert err.value.problem.line == line
    assert reason in str(err.value)


def test_an_unreadable_class_file_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "mine.txt", "")
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(TermClassError, match="cannot read"):
        parse_class(path)


@pytest.mark.parametrize(
    ("body", "line", "reason"),
    [
        ("after: yo\nolder: x\n", 2, "expected one of"),
        ("after: yo, , yrs\n", 1, "words are letters"),
        ("numbers: twelve=12, thirteen\n", 1, "word=value"),
    ],
)
def test_a_bad_ages_file_is_refused(tmp_path: Path, body: str, line: int, reason: str) -> None:
    path = _write(tmp_path, "ages.txt", body)
    with pytest.raises(TermClassError) as err:
        parse_ages(path)
    assert (err.value.problem.line, err.value.problem.file) == (line, str(path))
    assert reason in str(err.value)
