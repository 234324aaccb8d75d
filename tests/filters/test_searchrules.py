"""Combination rules over term classes, on generated queries (see filters/searchrules.py).

Queries are built from short indicator terms of each class, in Latin English, Hinglish and
Devanagari; nothing here is a real search."""

from __future__ import annotations

from itertools import product
from pathlib import Path

import pytest

from abhaya.filters.searchrules import NO_JUDGEMENT, SearchRules, parse_rules
from abhaya.filters.termclasses import TermClassError
from abhaya.filters.verdict import Category

RULES = SearchRules.load_default()

MINORS = {
    "en": ("kid", "preteen", "toddler"),
    "hi-Latn": ("nabalig", "bachchi"),
    "hi": ("नाबालिग", "बच्ची"),
}
SEXUAL = {"en": ("nudes", "pornographic"), "hi-Latn": ("nangi", "sexy"), "hi": ("नंगी", "पोर्न")}
SEEKING = {"en": "links", "hi-Latn": "tasveer", "hi": "वीडियो"}
PROTECTIVE = {"en": "laws", "hi-Latn": "kanoon", "hi": "कानून"}
LANGS = tuple(MINORS)


def _categories(query: str) -> set[Category]:
    return {match.category for match in RULES.judge(query).matches}


CSAM_QUERIES = [
    f"{minor} {sexual}" for lang in LANGS for minor, sexual in product(MINORS[lang], SEXUAL[lang])
] + [f"{sexual} {age}" for age in ("13yo", "age 11", "under 16") for sexual in ("nude", "नंगी")]


@pytest.mark.parametrize("query", CSAM_QUERIES)
def test_a_minor_or_an_age_with_a_sexual_word_is_csam(query: str) -> None:
    assert Category.CSAM in _categories(query)


@pytest.mark.parametrize("lang", LANGS)
def test_protective_context_passes_but_seeking_words_win(lang: str) -> None:
    base = f"{MINORS[lang][0]} {SEXUAL[lang][0]}"
    protected = RULES.judge(f"{base} {PROTECTIVE[lang]}")
    assert protected.matches == () and protected.lists_held_by
    sought = RULES.judge(f"{base} {SEEKING[lang]} {PROTECTIVE[lang]}")
    assert Category.CSAM in {m.category for m in sought.matches}
    assert sought.lists_held_by == ()


@pytest.mark.parametrize("seeking", ["links", "telegram group", "mega", "videos", "download"])
def test_cp_is_csam_only_next_to_seeking_words(seeking: str) -> None:
    assert _categories(f"cp {seeking}") == {Category.CSAM}
    assert _categories(f"c.p. {seeking}") == {Category.CSAM}
    assert _categories(f"cerebral palsy cp {seeking}") == set()
    assert _categories(f"cp therapy {seeking}") == set()


@pytest.mark.parametrize("query", ["cp", "cp calculator", "cp grade", "cp in kids symptoms"])
def test_cp_alone_or_in_health_is_innocent(query: str) -> None:
    assert _categories(query) == set()


SELF_HARM = {
    "en": ("how to kill yourself", "easiest way suicide", "want to die", "lethal how much"),
    "hi-Latn": (
        "suicide kaise",
        "khudkushi ka tarika",
        "marna chahti",
        "khud ko kaise khatam",
        "khud ko kaise maare",
    ),
    "hi": ("आत्महत्या कैसे", "मरने का तरीका", "मरना चाहती", "खुद को कैसे खत्म", "खुद को कैसे मारें"),
}
SUPPORT = {"en": "prevention", "hi-Latn": "helpline", "hi": "रोकथाम"}


@pytest.mark.parametrize(
    ("lang", "query"), [(lang, q) for lang, queries in SELF_HARM.items() for q in queries]
)
def test_self_harm_in_three_scripts_and_support_context_passes(lang: str, query: str) -> None:
    assert _categories(query) == {Category.SELF_HARM}
    assert _categories(f"{query} {SUPPORT[lang]}") == set()


@pytest.mark.parametrize(
    "query", ["kill process", "how to cut onions", "how many people die in winter", "dead end"]
)
def test_dying_and_killing_words_without_oneself_pass(query: str) -> None:
    assert _categories(query) == set()


@pytest.mark.parametrize(
    ("sexual", "seeking"), [("nude", "pics"), ("nangi", "video"), ("सेक्सी", "वीडियो")]
)
def test_a_sexual_word_with_a_seeking_word_is_adult(sexual: str, seeking: str) -> None:
    assert _categories(f"{sexual} {seeking}") == {Category.ADULT}
    assert _categories(f"{sexual} education {seeking}") == set()
    assert _categories(sexual) == set()


def test_one_word_cannot_fill_two_parts_of_a_rule() -> None:
    assert _categories("mms") == set()  # mms is both sexual and seeking


def test_a_match_names_its_rule_terms_and_source() -> None:
    (match,) = [m for m in RULES.judge("k1d nud3s").matches if m.category is Category.CSAM]
    assert match.rule == "minor-sexual"
    assert dict(match.terms) == {"minor": "kid", "sexual": "nudes"}
    assert match.source.endswith(".txt:" + match.source.rsplit(":", 1)[1])
    assert "kid" in match.describe() and "nudes" in match.describe()


KNOWN = frozenset({"alpha", "beta", "gamma"})


@pytest.mark.parametrize(
    ("body", "line", "reason"),
    [
        ("one: adult = alpha + beta\nnonsense here\n", 2, "not a rule"),
        ("one: adult = alpha + delta\n", 1, "unknown class delta"),
        ("one: adult = alpha unless delta\n", 1, "unknown class delta"),
        ("one: fun = alpha + beta\n", 1, "unknown category"),
        ("one: adult = alpha\none: csam = beta\n", 2, "a second rule named"),
        ("@lists: unless omega\n", 1, "unknown class omega"),
    ],
)
def test_a_bad_rules_file_is_refused_with_file_line_and_reason(
    tmp_path: Path, body: str, line: int, reason: str
) -> None:
    path = tmp_path / "rules.txt"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(TermClassError) as err:
        parse_rules(path, KNOWN)
    assert (err.value.problem.file, err.value.problem.line) == (str(path), line)
    assert reason in str(err.value)


def test_a_rules_file_parses_alternatives_and_guards(tmp_path: Path) -> None:
    path = tmp_path / "rules.txt"
    path.write_text(
        "# comment\n@lists: unless gamma\n"
        "one: csam = alpha|beta + gamma unless beta even with alpha\n",
        encoding="utf-8",
    )
    parsed = parse_rules(path, KNOWN)
    (rule,) = parsed.rules
    assert rule.needs == (frozenset({"alpha", "beta"}), frozenset({"gamma"}))
    assert rule.guard.unless == {"beta"} and rule.guard.even_with == {"alpha"}
    assert parsed.lists.unless == {"gamma"} and rule.source == f"{path}:3"


def test_empty_rules_judge_nothing() -> None:
    assert SearchRules.empty().judge("k1d nud3s") == NO_JUDGEMENT


@pytest.mark.parametrize(
    ("query", "lang"),
    [
        ("i want to commit suicide", "en"),
        ("khudkushi karna chahti", "hi-Latn"),
        ("आत्महत्या करना है", "hi"),
    ],
)
def test_wanting_a_self_harm_act_is_self_harm(query: str, lang: str) -> None:
    assert _categories(query) == {Category.SELF_HARM}
    assert _categories(f"{query} {SUPPORT[lang]}") == set()


@pytest.mark.parametrize(
    ("explicit", "people"), [("naked", "women"), ("nangi", "ladkiyan"), ("नंगी", "भाभी")]
)
def test_a_nudity_word_with_people_is_adult_but_not_in_art(explicit: str, people: str) -> None:
    assert _categories(f"{people} {explicit}") == {Category.ADULT}
    assert _categories(f"{people} {explicit} painting") == set()
    assert _categories(f"sexy {people}") == set()  # "sexy" alone is not explicit


@pytest.mark.parametrize("other", ["eye", "lipstick", "colour palette"])
def test_a_nudity_word_in_another_sense_passes_even_next_to_a_minor(other: str) -> None:
    assert _categories(f"kids naked {other}") == set()
    assert _categories("kid nude painting") == {Category.CSAM}  # art never lets a minor pass


GRADES = ("class 8", "8th class", "grade 7", "12th standard", "class 12")


@pytest.mark.parametrize("grade", GRADES)
def test_a_school_grade_is_a_minor_next_to_a_sexual_word_only(grade: str) -> None:
    assert Category.CSAM in _categories(f"{grade} girl nude")
    assert _categories(f"{grade} maths notes") == set()
    assert _categories(f"{grade} board exam result") == set()


@pytest.mark.parametrize("query", ["blue film video", "desi blue film", "ब्लू फिल्म वीडियो"])
def test_blue_film_is_indian_slang_for_porn(query: str) -> None:
    assert _categories(query) == {Category.ADULT}


@pytest.mark.parametrize("challenge", ["blue whale challenge", "blackout challenge"])
def test_self_harm_challenges_show_the_help_page(challenge: str) -> None:
    assert _categories(challenge) == {Category.SELF_HARM}
    assert _categories(f"{challenge} helpline") == set()  # support words hold it back
