"""The parent-facing words for categories and reasons: complete, and checked when read."""

from __future__ import annotations

import pytest

from abhaya.filters.verdict import Category, Reason
from abhaya.filters.vocabulary import parse_vocabulary, vocabulary


@pytest.mark.parametrize("language", ["en", "hi"])
def test_every_category_and_reason_has_a_label(language: str) -> None:
    words = vocabulary()
    assert language in words.languages
    for category in Category:
        assert words.category(category, language).strip()
    for reason in Reason:
        assert words.reason(reason, language).strip()


def test_labels_differ_between_languages() -> None:
    words = vocabulary()
    assert words.category(Category.GAMBLING, "hi") != words.category(Category.GAMBLING, "en")


def test_an_unknown_language_falls_back_to_english() -> None:
    words = vocabulary()
    assert words.reason(Reason.PAUSE, "xx") == words.reason(Reason.PAUSE, "en")


def _file(drop: str = "", extra: str = "") -> str:
    categories = "\n".join(f'{c} = "x"' for c in Category if c != drop)
    reasons = "\n".join(f'{r} = "x"' for r in Reason if r != drop)
    return f"[categories.en]\n{categories}\n{extra}\n[reasons.en]\n{reasons}\n"


def test_a_complete_file_parses() -> None:
    assert parse_vocabulary(_file()).reason(Reason.ERROR) == "x"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_file(drop="gambling"), "missing ['gambling']"),
        (_file(drop="pause"), "missing ['pause']"),
        (_file(extra='sports = "x"'), "unknown ['sports']"),
        ("[reasons.en]\n", "needs a [categories.en] table"),
    ],
)
def test_an_incomplete_file_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_vocabulary(text)
