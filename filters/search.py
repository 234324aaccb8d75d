"""Find the search text in a request URL, so it can be checked against the keyword lists.

Which engines exist, on which hosts and paths, and which parameter holds the text is data
(``filters/data/search_engines.toml``), parsed once into frozen rules.  The request path only
matches compiled host patterns and looks parameters up.  Hostile input (a 64 kB query, invalid
UTF-8, ``%00``) is decoded leniently and never raises: the URL comes from the network.

`HostPatterns` is shared with `safesearch`, whose rule files use the same host syntax.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, ValidationError

__all__ = [
    "GENERIC_ENGINE",
    "HostPatterns",
    "PathPatterns",
    "SearchQuery",
    "SearchRulesError",
    "describe_rule_error",
    "extract_query",
    "parse_rules",
]

GENERIC_ENGINE = "generic"
# Second-level labels under which country domains are registered (google.co.in, google.com.au).
_COUNTRY_SLDS = "co|com|org|net|ac|edu|gov|gob|go|ne|or|mil|nic"
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_PATTERN = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*(?:\.\*)?$")


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """The engine (``google``, ..., or ``generic``) and the decoded search text."""

    engine: str
    query: str


class SearchRulesError(ValueError):
    """A search or safe-search rule file is malformed; the message names the file."""


@dataclass(frozen=True, slots=True)
class HostPatterns:
    """A compiled set of host patterns.

    ``example.com`` matches that host and its subdomains; ``google.*`` matches ``google.<tld>``
    and ``google.<sld>.<cc>`` (``google.co.in``) and their subdomains.
    """

    regex: re.Pattern[str]

    @classmethod
    def compile(cls, patterns: tuple[str, ...] | list[str]) -> HostPatterns:
        parts = []
        for pattern in patterns:
            if not _PATTERN.match(pattern):
                raise ValueError(f"bad host pattern {pattern!r}")
            if pattern.endswith(".*"):
                stem = re.escape(pattern[:-2])
                parts.append(rf"{stem}\.(?:{_LABEL}|(?:{_COUNTRY_SLDS})\.[a-z]{{2}})")
            else:
                parts.append(re.escape(pattern))
        return cls(re.compile(rf"(?:.+\.)?(?:{'|'.join(parts)})"))

    def matches(self, host: str) -> bool:
        return self.regex.fullmatch(host) is not None


@dataclass(frozen=True, slots=True)
class PathPatterns:
    """``*`` is any path, ``/`` the root only, ``/a`` matches ``/a`` and ``/a/...``."""

    any_path: bool
    exact: frozenset[str]
    prefixes: tuple[str, ...]

    @classmethod
    def compile(cls, patterns: tuple[str, ...] | list[str]) -> PathPatterns:
        for pattern in patterns:
            if pattern != "*" and not pattern.startswith("/"):
                raise ValueError(f"bad path pattern {pattern!r}: must be '*' or start with '/'")
        cleaned = {p.lower().rstrip("/") or "/" for p in patterns if p != "*"}
        prefixes = tuple(sorted(p + "/" for p in cleaned if p != "/"))
        return cls("*" in patterns, frozenset(cleaned), prefixes)

    def matches(self, path: str) -> bool:
        if self.any_path:
            return True
        lowered = path.lower()
        return lowered in self.exact or lowered.startswith(self.prefixes)


class _EngineModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    hosts: tuple[str, ...]
    paths: tuple[str, ...]
    params: tuple[str, ...]
    when: dict[str, str] = {}


class _GenericModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    params: tuple[str, ...]
    search_path_params: tuple[str, ...] = ()


class _FileModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    engine: tuple[_EngineModel, ...]
    generic: _GenericModel


@dataclass(frozen=True, slots=True)
class _EngineRule:
    name: str
    hosts: HostPatterns
    paths: PathPatterns
    params: tuple[str, ...]
    when: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class _Rules:
    engines: tuple[_EngineRule, ...]
    generic_params: tuple[str, ...]
    search_path_params: tuple[str, ...]


def parse_rules(text: str, name: str) -> _Rules:
    """Parse and compile a search-engine rule file; errors name the file."""
    try:
        model = _FileModel.model_validate(tomllib.loads(text))
        engines = tuple(
            _EngineRule(
                e.name,
                HostPatterns.compile(e.hosts),
                PathPatterns.compile(e.paths),
                e.params,
                tuple(e.when.items()),
            )
            for e in model.engine
        )
    except (tomllib.TOMLDecodeError, ValidationError, ValueError) as exc:
        raise SearchRulesError(f"{name}: {describe_rule_error(exc)}") from exc
    return _Rules(engines, model.generic.params, model.generic.search_path_params)


def describe_rule_error(exc: Exception) -> str:
    """One line per problem, "where: what", instead of pydantic's multi-line report."""
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or 'file'}: {err['msg']}"
            for err in exc.errors()
        )
    return str(exc)


@cache
def _default_rules() -> _Rules:
    data = resources.files("abhaya.filters").joinpath("data/search_engines.toml")
    return parse_rules(data.read_text("utf-8"), str(data))


def _first_value(pairs: list[tuple[str, str]], names: tuple[str, ...]) -> str:
    for name in names:
        for key, value in pairs:
            if key == name and value.strip():
                return value.strip()
    return ""


def extract_query(host: str, path: str, query: str) -> SearchQuery | None:
    """The search text of a request, or None when the URL carries none.

    `host` is lower-case (punycode, no port); `query` is the raw query string without ``?``.
    """
    if not query:
        return None
    rules = _default_rules()
    pairs = parse_qsl(query, keep_blank_values=False, errors="replace")
    for rule in rules.engines:
        if not (rule.hosts.matches(host) and rule.paths.matches(path)):
            continue
        if rule.when and not all((k, v) in pairs for k, v in rule.when):
            continue
        text = _first_value(pairs, rule.params)
        return SearchQuery(rule.name, text) if text else None
    names = rules.generic_params
    if "search" in path.lower():
        names = names + rules.search_path_params
    text = _first_value(pairs, names)
    return SearchQuery(GENERIC_ENGINE, text) if text else None
