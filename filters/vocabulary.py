"""The words a parent reads for each `Category` and `Reason`, from `data/vocabulary.toml`.

Labels are data so that a translation or a better wording is an edit to one file, and so the
console, the CLI and exports all say the same thing.  The file is read once and checked as a
whole: a category or reason without a label in every language is a packaging error, caught by
the tests rather than shown to a parent as a bare identifier.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import TypeVar

from abhaya.filters.verdict import Category, Reason

DEFAULT_LANGUAGE = "en"
_E = TypeVar("_E", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    categories: Mapping[str, Mapping[Category, str]]
    reasons: Mapping[str, Mapping[Reason, str]]

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.categories)

    def category(self, category: Category, language: str = DEFAULT_LANGUAGE) -> str:
        return self.categories.get(language, self.categories[DEFAULT_LANGUAGE])[category]

    def reason(self, reason: Reason, language: str = DEFAULT_LANGUAGE) -> str:
        return self.reasons.get(language, self.reasons[DEFAULT_LANGUAGE])[reason]


def _labels(table: object, enum: type[_E], where: str) -> Mapping[str, Mapping[_E, str]]:
    if not isinstance(table, dict) or DEFAULT_LANGUAGE not in table:
        raise ValueError(f"{where}: needs a [{where}.{DEFAULT_LANGUAGE}] table")
    result: dict[str, Mapping[_E, str]] = {}
    for language, labels in table.items():
        if not isinstance(labels, dict):
            raise ValueError(f"{where}.{language}: expected a table of labels")
        names = {member.value for member in enum}
        missing = sorted(names - set(labels))
        unknown = sorted(set(labels) - names)
        if missing or unknown:
            raise ValueError(f"{where}.{language}: missing {missing}, unknown {unknown}")
        result[str(language)] = MappingProxyType(
            {enum(key): str(text) for key, text in labels.items()}
        )
    return MappingProxyType(result)


def parse_vocabulary(text: str) -> Vocabulary:
    """Parse and check the vocabulary file's text; ValueError naming what is wrong."""
    data = tomllib.loads(text)
    return Vocabulary(
        categories=_labels(data.get("categories"), Category, "categories"),
        reasons=_labels(data.get("reasons"), Reason, "reasons"),
    )


@cache
def vocabulary() -> Vocabulary:
    """The packaged vocabulary, read once."""
    resource = files("abhaya.filters").joinpath("data/vocabulary.toml")
    return parse_vocabulary(resource.read_text(encoding="utf-8"))
