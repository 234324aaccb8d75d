"""The console's words: every key in both languages, with the same blanks to fill."""

from __future__ import annotations

import string

import pytest

from abhaya.client import contract
from abhaya.filters.verdict import Action
from abhaya.ui.console.texts import LANGUAGES, Texts, load_locale


def _blanks(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_keys_and_blanks() -> None:
    english, hindi = load_locale("en"), load_locale("hi")
    assert set(english) == set(hindi)
    for key, text in english.items():
        assert _blanks(text) == _blanks(hindi[key]), key
        assert text != hindi[key] or key.startswith("signin.pin"), f"{key} is not translated"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_event_kind_and_action_has_words(language: str) -> None:
    texts = Texts(language)
    for kind in contract.EVENT_KINDS:
        assert texts.has(f"kind.{kind}"), kind
    for action in Action:
        assert texts.has(f"action.{action}"), action


def test_names_the_console_does_not_know_are_shown_as_they_are() -> None:
    texts = Texts("hi")
    assert texts.category("adult") == "वयस्क सामग्री"
    assert texts.category("a-newer-category") == "a-newer-category"
    assert texts.reason("a-newer-reason") == "a-newer-reason"
    assert texts.kind("a-newer-kind") == "a-newer-kind"


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="no console language 'fr'"):
        load_locale("fr")
