"""Typed, validated page data: locale strings and jurisdiction packs.

Every visible word on a warning page comes from a locale file (`locales/<lang>.toml`), and every
law, phone number and reporting address from a jurisdiction pack (`jurisdictions/<code>.toml`).
Both are parsed once into frozen pydantic models, so a missing string, a misspelt key or a pack
that lacks a language is refused when the renderer is built (with the file and the field), never
discovered by a child looking at a half-empty page.  `extra="forbid"` makes every locale carry
exactly the same keys: a key added to one language and not the other fails at load.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from enum import StrEnum
from importlib.resources.abc import Traversable
from types import MappingProxyType
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

FALLBACK_LANGUAGE = "en"
FALLBACK_JURISDICTION = "intl"
OTHER_CATEGORY = "other"

_V = TypeVar("_V")


def _freeze(value: Mapping[str, _V]) -> Mapping[str, _V]:
    return MappingProxyType(dict(value))


_PHONE = re.compile(r"^[0-9][0-9 -]{1,20}[0-9]$")
_CODE = re.compile(r"^[a-z]{2,8}$")


def _check_phone(value: str) -> str:
    if not _PHONE.fullmatch(value):
        raise ValueError(f"not a phone number (digits, spaces, hyphens): {value!r}")
    return value


def _check_web(value: str) -> str:
    if value and not value.startswith("https://"):
        raise ValueError(f"web address must start with https://: {value!r}")
    return value


Phone = Annotated[str, AfterValidator(_check_phone)]
WebAddress = Annotated[str, AfterValidator(_check_web)]
Text = Annotated[str, Field(min_length=1)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- locale strings -------------------------------------------------------------------------


class MetaText(_Frozen):
    language_name: Text
    direction: Literal["ltr", "rtl"]


class CommonText(_Frozen):
    brand: Text
    protected_by: Text
    go_back: Text
    leave_page: Text
    emergency_heading: Text
    website_label: Text
    phone_label: Text


class CsamText(_Frozen):
    title: Text
    heading: Text
    lead: Text
    accident: Text
    """Said first, for a child who typed a term without knowing what it means."""
    harm: Text
    law_heading: Text
    consequences: Text
    report_heading: Text
    report_text: Text
    help_heading: Text
    help_text: Text
    self_help_heading: Text
    self_help_text: Text


class SelfHarmText(_Frozen):
    title: Text
    heading: Text
    lead: Text
    talk_text: Text
    helplines_heading: Text
    helplines_text: Text
    emergency_heading: Text
    safe_heading: Text
    safe_text: Text
    continue_label: Text
    """The self-harm page's own "continue", shown only where the policy allows it."""
    continue_note: Text
    closing: Text


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""The weekday keys of `BlockedText.weekdays`, Monday first (`datetime.weekday()` order)."""


def _weekday_names(value: Mapping[str, str]) -> Mapping[str, str]:
    if set(value) != set(WEEKDAYS):
        raise ValueError(f"weekdays must name exactly {', '.join(WEEKDAYS)}")
    return MappingProxyType(dict(value))


def _placeholders(*names: str) -> AfterValidator:
    """A sentence that must hold each `{name}` (and no other) for `str.format`."""

    def check(value: str) -> str:
        found = set(re.findall(r"\{(\w*)\}", value))
        if found != set(names):
            raise ValueError(f"must hold {', '.join('{' + n + '}' for n in names)}: {value!r}")
        return value

    return AfterValidator(check)


class BlockedText(_Frozen):
    title: Text
    heading: Text
    heading_warn: Text
    lead: Text
    lead_warn: Text
    reason_heading: Text
    address_label: Text
    search_label: Text
    continue_label: Text
    continue_note: Text
    upset_text: Text
    opens_today: Annotated[Text, _placeholders("time")]
    """Said on a page stopped by the schedule: when browsing is allowed again."""
    opens_tomorrow: Annotated[Text, _placeholders("time")]
    opens_on: Annotated[Text, _placeholders("day", "time")]
    weekdays: Annotated[Mapping[str, Text], AfterValidator(_weekday_names)]


class AskParentText(_Frozen):
    heading: Text
    text: Text
    reason_label: Text
    reason_hint: Text
    send_label: Text
    sent: Text
    pending: Text
    denied: Text


class ErrorText(_Frozen):
    title: Text
    heading: Text
    lead: Text
    status_label: Text
    hint: Text


class UpstreamText(_Frozen):
    """The page for a site that could not be reached: plainly not a block."""

    title: Text
    heading: Text
    lead: Text
    address_label: Text
    what_label: Text
    dns: Text
    refused: Text
    timeout: Text
    certificate: Text
    closed: Text
    other: Text
    hint: Text

    def failure_text(self, failure: str) -> str:
        text: str = getattr(self, failure)
        return text


class Locale(_Frozen):
    """All strings of one language.  `categories` must hold `other`, the wording for any
    category that has no message of its own."""

    meta: MetaText
    common: CommonText
    csam: CsamText
    self_harm: SelfHarmText
    blocked: BlockedText
    ask_parent: AskParentText
    error: ErrorText
    upstream: UpstreamText
    categories: Annotated[Mapping[str, Text], AfterValidator(_freeze)]

    def category_text(self, category: str) -> str:
        return self.categories.get(category, self.categories[OTHER_CATEGORY])


# --- jurisdiction packs ---------------------------------------------------------------------


class Role(StrEnum):
    """Which part of which page a contact belongs to."""

    REPORT = "report"  # csam: where to report the material
    CHILD_HELP = "child_help"  # csam: help for a child who is being hurt
    BEHAVIOUR_HELP = "behaviour_help"  # csam: help for someone worried about their own urges
    CRISIS = "crisis"  # self_harm: someone to talk to now


class ContactText(_Frozen):
    name: Text
    note: str = ""


class Contact(_Frozen):
    roles: tuple[Role, ...] = Field(min_length=1)
    phones: tuple[Phone, ...] = ()
    web: WebAddress = ""
    text: Annotated[Mapping[str, ContactText], AfterValidator(_freeze)]


class PackText(_Frozen):
    """Per-language text of a pack.  `law` may be empty (the generic pack names no law).

    `filing` tells a parent, step by step, where to file an evidence report (`abhaya report`)
    with the authorities of this place; every pack must say it, since a report that ends
    without telling where it goes is of no use.
    """

    name: Text
    law: tuple[Text, ...] = ()
    emergency: Text
    filing: tuple[Text, ...] = Field(min_length=1)


class Jurisdiction(_Frozen):
    code: str
    emergency_number: Annotated[str, AfterValidator(lambda v: v and _check_phone(v))] = ""
    text: Annotated[Mapping[str, PackText], AfterValidator(_freeze)]
    contacts: tuple[Contact, ...] = Field(min_length=1)

    def with_role(self, role: Role) -> tuple[Contact, ...]:
        return tuple(c for c in self.contacts if role in c.roles)


# --- loading --------------------------------------------------------------------------------


class PageDataError(ValueError):
    """A locale file or jurisdiction pack is missing, malformed or inconsistent."""


_M = TypeVar("_M", bound=BaseModel)


def _load_model(model: type[_M], file: Traversable, extra: Mapping[str, Any]) -> _M:
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
        return model.model_validate({**raw, **extra})
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise PageDataError(f"{file.name}: {exc}") from exc


def _toml_files(folder: Traversable) -> list[Traversable]:
    files = sorted(
        (f for f in folder.iterdir() if f.is_file() and f.name.endswith(".toml")),
        key=lambda f: f.name,
    )
    if not files:
        raise PageDataError(f"no .toml files in {folder}")
    return files


def _stem(file: Traversable) -> str:
    stem = file.name.removesuffix(".toml")
    if not _CODE.fullmatch(stem):
        raise PageDataError(f"{file.name}: file name must be a lower-case code like 'en' or 'in'")
    return stem


def load_locales(folder: Traversable) -> Mapping[str, Locale]:
    locales = {_stem(f): _load_model(Locale, f, {}) for f in _toml_files(folder)}
    if FALLBACK_LANGUAGE not in locales:
        raise PageDataError(f"locale {FALLBACK_LANGUAGE!r} is required as the fallback")
    for lang, locale in locales.items():
        if OTHER_CATEGORY not in locale.categories:
            raise PageDataError(f"{lang}.toml: [categories] needs {OTHER_CATEGORY!r}")
    base = set(locales[FALLBACK_LANGUAGE].categories)
    for lang, locale in locales.items():
        if set(locale.categories) != base:
            diff = sorted(base.symmetric_difference(locale.categories))
            raise PageDataError(f"{lang}.toml: [categories] differ from en.toml: {diff}")
    return MappingProxyType(locales)


def load_jurisdictions(folder: Traversable, languages: Iterable[str]) -> Mapping[str, Jurisdiction]:
    """Load every pack and check that each one speaks every language of the locales."""
    wanted = set(languages)
    packs: dict[str, Jurisdiction] = {}
    for file in _toml_files(folder):
        code = _stem(file)
        pack = _load_model(Jurisdiction, file, {"code": code})
        _check_languages(file.name, "[text]", pack.text, wanted)
        for index, contact in enumerate(pack.contacts):
            _check_languages(file.name, f"contacts[{index}].text", contact.text, wanted)
        packs[code] = pack
    if FALLBACK_JURISDICTION not in packs:
        raise PageDataError(f"jurisdiction {FALLBACK_JURISDICTION!r} is required as the fallback")
    return MappingProxyType(packs)


def _check_languages(name: str, where: str, table: Mapping[str, object], wanted: set[str]) -> None:
    if set(table) != wanted:
        missing, extra = sorted(wanted - set(table)), sorted(set(table) - wanted)
        raise PageDataError(f"{name}: {where} languages missing {missing}, unexpected {extra}")
