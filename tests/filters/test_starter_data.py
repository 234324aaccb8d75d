"""Checks on the starter lists that the embedded default policy ships.

These files are what a parent gets out of the box, so they are checked as data: every domain
line must be a hostname the list parser can take, the csam list must publish nothing but its
test entry, and no keyword may hit the everyday searches in `INNOCENT_QUERIES`.  The files are
read straight from `filters/data`, so these tests do not depend on the parsers or the matcher.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import idna
import pytest

DATA = Path(__file__).resolve().parents[2] / "filters" / "data"
CATEGORIES = ("csam", "adult", "self_harm", "gambling", "violence", "anonymizers")
KINDS = ("lists", "keywords")
CSAM_TEST_ENTRY = "abhaya-csam-test.invalid"
HEADER_KEYS = ("category", "description", "licence", "last-reviewed")
KEYWORD_GROUPS = ("en", "hi-Latn", "hi")
MAX_KEYWORD_LEN = 60

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")

# Words and phrases that must never be a keyword line: each is an innocent search that a
# careless list would block (place names, food, school subjects, health and help searches).
INNOCENT_WORDS = (
    "essex",
    "sussex",
    "middlesex",
    "scunthorpe",
    "cocktail",
    "analysis",
    "therapist",
    "assassin",
    "grape",
    "title",
    "shitake",
    "sex education",
    "breast cancer",
    "child development",
    "suicide prevention helpline",
)

# Everyday searches, some of which share words with listed terms; no keyword may match any of
# them as whole words.
INNOCENT_QUERIES = (
    "sex education class 8",
    "sex ratio in india",
    "breast cancer symptoms",
    "breastfeeding tips",
    "child development stages",
    "suicide prevention helpline india",
    "how to help a friend who self harms",
    "i cut myself while cooking what to do",
    "how to kill a process in linux",
    "machhar marne ka tarika",
    "paper bandook kaise banaye",
    "how to make a bath bomb",
    "order 21 rule 34 cpc",
    "lolita novel nabokov",
    "cp full form",
    "naked mole rat",
    "nude lipstick shades",
    "teen patti rules",
    "matka painting ideas",
    "stake meaning in hindi",
    "what is a vpn",
    "what is a proxy server",
    "history of the gunpowder plot",
    "essex county map",
    "सत्ता पक्ष और विपक्ष",
    "स्तन कैंसर के लक्षण",
    "यौन शिक्षा",
    "आत्महत्या रोकथाम हेल्पलाइन",
)


def _lines(kind: str, category: str) -> list[str]:
    return (DATA / kind / f"{category}.txt").read_text(encoding="utf-8").splitlines()


def _header(lines: list[str]) -> dict[str, str]:
    """The `# key: value` fields of the leading comment block."""
    fields: dict[str, str] = {}
    for line in lines:
        if not line.startswith("#"):
            break
        key, sep, value = line.lstrip("# ").partition(": ")
        if sep and key in HEADER_KEYS:
            fields[key] = value
    return fields


def _entries(lines: list[str]) -> list[str]:
    return [line for line in lines if not line.startswith("#")]


def _groups(lines: list[str]) -> dict[str, list[str]]:
    """Keyword entries by their `# en` / `# hi-Latn` / `# hi` group, in file order."""
    groups: dict[str, list[str]] = {}
    current = ""
    for line in lines:
        if line.startswith("#"):
            name = line.removeprefix("#").strip()
            if name in KEYWORD_GROUPS:
                current = name
                groups[current] = []
            continue
        groups.setdefault(current, []).append(line)
    return groups


def _is_hostname(name: str) -> bool:
    labels = name.split(".")
    return (
        len(name) <= 253
        and len(labels) >= 2
        and all(_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )


def _matches_whole_words(keyword: str, query: str) -> bool:
    """Whether the keyword's words appear in the query as a run of whole words."""
    words, tokens = keyword.split(), query.lower().split()
    return any(tokens[i : i + len(words)] == words for i in range(len(tokens) - len(words) + 1))


def _all_keywords() -> list[tuple[str, str]]:
    return [(c, kw) for c in CATEGORIES for kw in _entries(_lines("keywords", c))]


ALL_FILES = [(kind, category) for kind in KINDS for category in CATEGORIES]


@pytest.mark.parametrize(("kind", "category"), ALL_FILES)
def test_file_exists(kind: str, category: str) -> None:
    assert (DATA / kind / f"{category}.txt").is_file()


@pytest.mark.parametrize(("kind", "category"), ALL_FILES)
def test_file_has_header_naming_its_category(kind: str, category: str) -> None:
    lines = _lines(kind, category)
    assert lines[0] == f"# category: {category}"
    header = _header(lines)
    assert tuple(header) == HEADER_KEYS
    assert header["description"]
    assert header["licence"] == "Apache-2.0, written for Abhaya"
    assert header["last-reviewed"] == "2026-11"


@pytest.mark.parametrize(("kind", "category"), ALL_FILES)
def test_entries_are_clean_lines(kind: str, category: str) -> None:
    text = (DATA / kind / f"{category}.txt").read_text(encoding="utf-8")
    assert text.endswith("\n")
    assert "\t" not in text and "\r" not in text
    entries = _entries(text.splitlines())
    assert entries
    for entry in entries:
        assert entry and entry == entry.strip() and "  " not in entry, repr(entry)
        assert "#" not in entry, f"trailing comment in {entry!r}"
    assert len(entries) == len(set(entries)), "duplicate entries"


@pytest.mark.parametrize("category", CATEGORIES)
def test_domain_lines_are_lowercase_hostnames(category: str) -> None:
    for domain in _entries(_lines("lists", category)):
        assert _is_hostname(domain), f"{domain!r} is not a lowercase hostname"
        assert idna.encode(domain).decode("ascii") == domain


@pytest.mark.parametrize("category", CATEGORIES)
def test_no_domain_is_a_subdomain_of_another(category: str) -> None:
    """A domain blocks its subdomains, so a listed subdomain of a listed domain is dead weight."""
    domains = set(_entries(_lines("lists", category)))
    redundant = sorted(
        d for d in domains if any(d.endswith("." + parent) for parent in domains - {d})
    )
    assert redundant == []


@pytest.mark.parametrize("kind", KINDS)
def test_no_entry_is_in_two_categories(kind: str) -> None:
    """Each entry names one category, so the warning page and the log agree on why."""
    seen: dict[str, str] = {}
    for category in CATEGORIES:
        for entry in _entries(_lines(kind, category)):
            assert entry not in seen, f"{entry!r} is in {seen.get(entry)} and {category}"
            seen[entry] = category


def test_csam_list_holds_only_the_test_entry() -> None:
    assert _entries(_lines("lists", "csam")) == [CSAM_TEST_ENTRY]


@pytest.mark.parametrize("category", CATEGORIES)
def test_keywords_are_short_lowercase_nfc(category: str) -> None:
    for keyword in _entries(_lines("keywords", category)):
        assert len(keyword) <= MAX_KEYWORD_LEN, keyword
        assert keyword == keyword.lower(), keyword
        assert unicodedata.is_normalized("NFC", keyword), keyword


@pytest.mark.parametrize("category", CATEGORIES)
def test_keywords_are_grouped_by_language(category: str) -> None:
    groups = _groups(_lines("keywords", category))
    assert tuple(groups) == KEYWORD_GROUPS
    for group, keywords in groups.items():
        assert keywords, f"group {group} is empty"
        for keyword in keywords:
            in_devanagari = bool(_DEVANAGARI.search(keyword))
            assert in_devanagari == (group == "hi"), f"{keyword!r} is in group {group}"
            if group != "hi":
                assert keyword.isascii(), keyword


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("word", INNOCENT_WORDS)
def test_innocent_word_is_not_a_keyword(category: str, word: str) -> None:
    assert word not in _entries(_lines("keywords", category))


@pytest.mark.parametrize("query", INNOCENT_QUERIES)
def test_no_keyword_hits_an_innocent_query(query: str) -> None:
    hits = [(c, kw) for c, kw in _all_keywords() if _matches_whole_words(kw, query)]
    assert hits == []


@pytest.mark.parametrize(
    ("keyword", "query", "expected"),
    [
        ("sex video", "sex video", True),
        ("sex video", "free sex video hd", True),
        ("sex video", "sex education video", False),
        ("porn", "pornography", False),
        ("सट्टा", "सट्टा मटका", True),
    ],
)
def test_whole_word_helper(keyword: str, query: str, expected: bool) -> None:
    """The innocent-query check above is only as good as this helper."""
    assert _matches_whole_words(keyword, query) is expected
