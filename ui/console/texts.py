"""The console's words in English and Hindi, from `locales/<language>.toml`.

A small dictionary rather than Qt's .ts/.qm files: the warning pages (ui/pages/locales) and the
vocabulary of categories and reasons (filters/data/vocabulary.toml) are already TOML that a
translator edits directly, with no build step (lrelease) between the edit and the program; the
console follows suit.  Both files are read and checked once: a key missing from one language is
a packaging error caught by the tests, never a bare key shown to a parent.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from types import MappingProxyType

from abhaya.filters.verdict import Category, Reason
from abhaya.filters.vocabulary import vocabulary

LANGUAGES = ("en", "hi")
DEFAULT_LANGUAGE = "en"


def _flatten(table: Mapping[str, object], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, str):
            flat[name] = value
        else:
            raise ValueError(f"{name}: expected text, found {type(value).__name__}")
    return flat


@cache
def load_locale(language: str) -> Mapping[str, str]:
    """The flat `section.key -> text` table of one language."""
    if language not in LANGUAGES:
        raise ValueError(f"no console language {language!r}; expected one of {LANGUAGES}")
    resource = files("abhaya.ui.console").joinpath(f"locales/{language}.toml")
    return MappingProxyType(_flatten(tomllib.loads(resource.read_text(encoding="utf-8"))))


@dataclass(frozen=True, slots=True)
class Texts:
    """The words of one language; `texts("dashboard.paused", time="18:30")`."""

    language: str

    def __call__(self, key: str, **values: object) -> str:
        text = load_locale(self.language)[key]
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in load_locale(self.language)

    def category(self, name: str) -> str:
        """A category's label; an unknown name (a newer agent's) is shown as it is."""
        try:
            return vocabulary().category(Category(name), self.language)
        except ValueError:
            return name

    def reason(self, name: str) -> str:
        try:
            return vocabulary().reason(Reason(name), self.language)
        except ValueError:
            return name

    def kind(self, name: str) -> str:
        key = f"kind.{name}"
        return self(key) if self.has(key) else name

    def action(self, name: str) -> str:
        key = f"action.{name}"
        return self(key) if self.has(key) else name
