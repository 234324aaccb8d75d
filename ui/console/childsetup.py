"""The walk-through's edits to the policy: one new profile per child, and its refusals placed.

Each child becomes `[profiles.KEY]` with the age band's settings (`agebands`), the language of
its warning pages and its OS account (`users`, which `agent/who` matches against the account
that opened each connection).  The rest of the file, its comments and `default_profile` (the
profile of every account no profile names) stay as they are: the walk-through adds, it does not
rearrange.  Nothing is validated here but what only the console can know (two children with one
name or one account); the agent checks the policy whole and its refusal is split by child and
field (`refusal_fields`).  Pure, Qt-free and API-free.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

import tomlkit
from tomlkit.container import Container
from tomlkit.items import Table

from abhaya.ui.console.agebands import band
from abhaya.ui.console.policyedit import PolicyEditError, write_rules

LANGUAGES = ("en", "hi")


class Field(StrEnum):
    """A field of one child's form, where a refusal is shown."""

    NAME = "name"
    BAND = "band"
    LANGUAGE = "language"
    ACCOUNT = "account"


@dataclass(frozen=True, slots=True)
class ChildInput:
    name: str
    band: str
    """An `agebands.AgeBand.id`."""
    language: str
    account: str = ""
    """The child's OS account; "" when none is chosen yet (the default profile applies)."""

    @property
    def key(self) -> str:
        """The profile's name in the policy: the child's name, lower case, spaces as "_"."""
        return "_".join(self.name.strip().lower().split())


@dataclass(frozen=True, slots=True)
class PolicyFacts:
    """What the walk-through must know of the policy in force."""

    profiles: tuple[str, ...]
    categories: frozenset[str]
    claimed: Mapping[str, str]
    """OS account -> the profile that names it ("" for `[device] unfiltered_accounts`)."""

    @property
    def has_children(self) -> bool:
        """Whether any profile names an OS account: without one, every account browses with
        the default profile and the walk-through has not been done."""
        return any(self.claimed.values())


def _table(value: object) -> Mapping[str, Any]:
    return cast(Mapping[str, Any], value) if isinstance(value, Mapping) else {}


def policy_facts(text: str) -> PolicyFacts:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyEditError(f"the policy file is not valid TOML: {error}") from None
    profiles = _table(raw.get("profiles")) if "profiles" in raw else {"child": {}}
    claimed = {str(a): "" for a in _table(raw.get("device")).get("unfiltered_accounts", ())}
    for name, profile in profiles.items():
        for account in _table(profile).get("users", ()):
            claimed[str(account)] = str(name)
    return PolicyFacts(
        profiles=tuple(str(n) for n in profiles),
        categories=frozenset(str(c) for c in _table(raw.get("categories"))),
        claimed=claimed,
    )


def local_problems(
    children: Sequence[ChildInput], facts: PolicyFacts
) -> dict[int, dict[Field, str]]:
    """What the console refuses before asking the agent, by child and field, as keys of words:
    an empty name, a name given twice or already a profile's, an account given twice."""
    problems: dict[int, dict[Field, str]] = {}
    keys: dict[str, int] = {}
    accounts: dict[str, int] = {}
    for number, child in enumerate(children):
        if not child.key:
            problems.setdefault(number, {})[Field.NAME] = "walkthrough.name_missing"
        elif child.key in keys or child.key in facts.profiles:
            problems.setdefault(number, {})[Field.NAME] = "walkthrough.name_taken"
        keys.setdefault(child.key, number)
        if child.account and child.account in accounts:
            problems.setdefault(number, {})[Field.ACCOUNT] = "walkthrough.account_twice"
        accounts.setdefault(child.account, number)
    return problems


def write_children(text: str, children: Sequence[ChildInput], facts: PolicyFacts) -> str:
    """`text` with a new profile for each child; the rest of the file untouched."""
    for child in children:
        settings = band(child.band).profile(child.key, facts.categories)
        text = write_rules(text, (), settings)
    doc = tomlkit.parse(text)
    profiles = cast(Table | Container, doc["profiles"])
    for child in children:
        profile = cast(Table, profiles[child.key])
        profile["language"] = child.language
        if child.account:
            profile["users"] = [child.account]
    return tomlkit.dumps(doc)


_PROBLEM = re.compile(r"(?:line \d+: )?(profiles\.\S+?|categories\.\S+?|\(top level\)): ")
_PYDANTIC_PREFIX = re.compile(r"^(Value error|Assertion failed), ")
_FIELDS = {
    "[key]": Field.NAME,
    "language": Field.LANGUAGE,
    "users": Field.ACCOUNT,
    "categories": Field.BAND,
    "safe_search": Field.BAND,
    "schedule": Field.BAND,
    "images": Field.BAND,
    "chat": Field.BAND,
}


@dataclass(frozen=True, slots=True)
class Refusal:
    fields: Mapping[int, Mapping[Field, str]]
    """Child number -> field -> the agent's words about it."""
    rest: tuple[str, ...]
    """What names no child's field (another profile, the file as a whole)."""


def refusal_fields(message: str, children: Sequence[ChildInput]) -> Refusal:
    """The agent's refusal ("policy refused, ...: FILE: line N: profiles.KEY.users: why; ...")
    split by the child and field each problem names; the rest is kept whole, never lost."""
    numbers = {child.key: n for n, child in enumerate(children)}
    found = list(_PROBLEM.finditer(message))
    if not found:
        return Refusal({}, (message.strip(),))
    fields: dict[int, dict[Field, str]] = {}
    rest: list[str] = []
    for index, match in enumerate(found):
        end = found[index + 1].start() if index + 1 < len(found) else len(message)
        why = _PYDANTIC_PREFIX.sub("", message[match.end() : end].strip().rstrip(";").strip())
        parts = match.group(1).split(".", 2)
        number = numbers.get(parts[1]) if parts[0] == "profiles" and len(parts) > 1 else None
        field = _FIELDS.get(parts[2].split(".")[0]) if len(parts) > 2 else Field.NAME
        if number is None or field is None:
            rest.append(f"{match.group(1)}: {why}")
            continue
        shown = fields.setdefault(number, {})
        shown[field] = f"{shown[field]}\n{why}" if field in shown else why
    return Refusal(fields, tuple(rest))
