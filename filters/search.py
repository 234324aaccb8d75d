"""Find the search text in a request URL or body, so it can be checked against the keyword lists.

Which engines exist, on which hosts and paths, and which parameter (or path segment, for sites
such as Dailymotion that put the text in the path) holds the text is data
(``filters/data/search_engines.toml``), parsed once into frozen rules.  The request path only
matches compiled host patterns and looks parameters up; a request with no query string is
looked at only when its path contains one of the few path-search prefixes.  Hostile input (a
64 kB query, invalid UTF-8, ``%00``) is decoded leniently and never raises: the URL comes from
the network.

Some search boxes send the text in a request body instead (YouTube's in-page search posts JSON
to ``/youtubei/v1/search``).  ``[[body]]`` rules in the same file name those endpoints:
`body_search_rule` matches a request's method, host and path before its body has arrived (the
proxy must know at ``requestheaders`` whether to wait for the body), and `extract_body_query`
reads the text out of the body once it is there, as leniently as the URL is read.

`HostPatterns` is shared with `safesearch`, whose rule files use the same host syntax.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal
from urllib.parse import parse_qsl, unquote_plus

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from abhaya.filters.urlnorm import normalize_path

__all__ = [
    "GENERIC_ENGINE",
    "MAX_BODY_BYTES",
    "MAX_BODY_QUERY_CHARS",
    "BodyRule",
    "HostPatterns",
    "PathPatterns",
    "SearchQuery",
    "SearchRulesError",
    "body_search_rule",
    "describe_rule_error",
    "extract_body_query",
    "extract_query",
    "parse_rules",
    "search_hosts",
]

GENERIC_ENGINE = "generic"
# Second-level labels under which country domains are registered (google.co.in, google.com.au).
_COUNTRY_SLDS = "co|com|org|net|ac|edu|gov|gob|go|ne|or|mil|nic"
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_PATTERN = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*(?:\.\*)?$")
MAX_BODY_BYTES = 256 * 1024
"""A search body larger than this is not read (a search box sends a few kB)."""
MAX_BODY_QUERY_CHARS = 32 * 1024
"""Search text read from a body is cut here, the size the limits addon allows a whole URL."""


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """The engine (``google``, ..., or ``generic``) and the decoded search text.

    `clipped` says the text was longer than `MAX_BODY_QUERY_CHARS` and was cut (body searches
    only: a URL that long is refused before it is read), so a caller can refuse it rather than
    judge a part.
    """

    engine: str
    query: str
    clipped: bool = False


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
    path_text: tuple[str, ...] = ()
    when: dict[str, str] = {}
    evidence: Literal["documented", "observed", "unverified"]


class _BodyModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    hosts: tuple[str, ...] = Field(min_length=1)
    paths: tuple[str, ...] = Field(min_length=1)
    methods: tuple[Literal["POST", "PUT", "PATCH"], ...] = Field(min_length=1)
    json_field: str = Field(min_length=1)
    evidence: Literal["documented", "observed", "unverified"]


class _GenericModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    params: tuple[str, ...]
    search_path_params: tuple[str, ...] = ()


class _FileModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    engine: tuple[_EngineModel, ...]
    body: tuple[_BodyModel, ...] = ()
    generic: _GenericModel


@dataclass(frozen=True, slots=True)
class _EngineRule:
    name: str
    hosts: HostPatterns
    paths: PathPatterns
    params: tuple[str, ...]
    path_text: tuple[str, ...]
    when: tuple[tuple[str, str], ...]

    def text_in_path(self, path: str) -> str:
        """The path segment right after one of `path_text` (``/search/<text>/videos``)."""
        lowered = path.lower()
        for prefix in self.path_text:
            if lowered.startswith(prefix):
                segment = path[len(prefix) :].partition("/")[0]
                return unquote_plus(segment, errors="replace").strip()
        return ""


@dataclass(frozen=True, slots=True)
class BodyRule:
    """A search box that sends its text in a JSON request body: where, and under which key."""

    name: str
    hosts: HostPatterns
    paths: PathPatterns
    methods: frozenset[str]
    json_field: str
    """A top-level key of the JSON object."""


@dataclass(frozen=True, slots=True)
class _Rules:
    engines: tuple[_EngineRule, ...]
    generic_params: tuple[str, ...]
    search_path_params: tuple[str, ...]
    path_prefixes: re.Pattern[str]
    """Every engine's `path_text`: a request without a query is looked at only under these."""
    any_engine: HostPatterns
    """Every engine's hosts in one pattern, so that other hosts skip the engine loop."""
    bodies: tuple[BodyRule, ...]
    body_methods: frozenset[str]
    """Every body rule's methods: a GET (most requests) skips the body rules at once."""


def _check_path_text(prefixes: tuple[str, ...]) -> tuple[str, ...]:
    for prefix in prefixes:
        if not (prefix.startswith("/") and prefix.endswith("/") and len(prefix) > 2):
            raise ValueError(f"bad path_text {prefix!r}: must look like '/search/'")
    return tuple(p.lower() for p in prefixes)


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
                _check_path_text(e.path_text),
                tuple(e.when.items()),
            )
            for e in model.engine
        )
        bodies = tuple(
            BodyRule(
                b.name,
                HostPatterns.compile(b.hosts),
                PathPatterns.compile(b.paths),
                frozenset(b.methods),
                b.json_field,
            )
            for b in model.body
        )
    except (tomllib.TOMLDecodeError, ValidationError, ValueError) as exc:
        raise SearchRulesError(f"{name}: {describe_rule_error(exc)}") from exc
    prefixes = sorted({p for e in engines for p in e.path_text}) or ["\x00never"]
    path_prefixes = re.compile("|".join(re.escape(p) for p in prefixes), re.IGNORECASE)
    any_engine = HostPatterns.compile(sorted({h for e in model.engine for h in e.hosts}))
    return _Rules(
        engines,
        model.generic.params,
        model.generic.search_path_params,
        path_prefixes,
        any_engine,
        bodies,
        frozenset(m for b in bodies for m in b.methods),
    )


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

    `host` is lower-case (punycode, no port); `path` is percent-encoded as on the wire; `query`
    is the raw query string without ``?``.
    """
    rules = _default_rules()
    if not query and rules.path_prefixes.search(path) is None:
        return None
    pairs = parse_qsl(query, keep_blank_values=False, errors="replace") if query else []
    engines = rules.engines if rules.any_engine.matches(host) else ()
    for rule in engines:
        if not (rule.hosts.matches(host) and rule.paths.matches(path)):
            continue
        if rule.when and not all((k, v) in pairs for k, v in rule.when):
            continue
        text = _first_value(pairs, rule.params) or rule.text_in_path(path)
        return SearchQuery(rule.name, text) if text else None
    names = rules.generic_params
    if "search" in path.lower():
        names = names + rules.search_path_params
    text = _first_value(pairs, names)
    return SearchQuery(GENERIC_ENGINE, text) if text else None


def search_hosts() -> tuple[HostPatterns, ...]:
    """The hosts of every engine and body rule: where search text can be found other than by
    the generic parameters (which apply to any host, so name none)."""
    rules = _default_rules()
    return (rules.any_engine, *(rule.hosts for rule in rules.bodies))


def body_search_rule(host: str, path: str, method: str) -> BodyRule | None:
    """The body rule for a request, known from its head alone; None for nearly every request.

    `host` is the request's host (any case, no port); `path` is as on the wire, with or without
    its query, and is normalised as URL rules see it (``/youtubei/v1/%73earch`` is the search).
    """
    rules = _default_rules()
    if method.upper() not in rules.body_methods:
        return None
    host = host.lower().rstrip(".")
    normalised = ""
    for rule in rules.bodies:
        if method.upper() not in rule.methods or not rule.hosts.matches(host):
            continue
        normalised = normalised or normalize_path(path.partition("?")[0] or "/")
        if rule.paths.matches(normalised):
            return rule
    return None


class _JsonObject(tuple[tuple[str, object], ...]):
    """A JSON object as its (key, value) pairs in order, repeated keys kept."""

    __slots__ = ()


def extract_body_query(rule: BodyRule, body: bytes) -> SearchQuery | None:
    """The search text in a request body, or None when the body carries none.

    The body comes from the network and is read leniently: bytes that are not UTF-8 become
    U+FFFD, and anything that is not a JSON object holding the key as a non-empty string is no
    search (a continuation page of results sends none).  A key given more than once is read in
    every copy, joined, since the server may read either.  Never raises on any input; a body
    over `MAX_BODY_BYTES` is not parsed at all.
    """
    if len(body) > MAX_BODY_BYTES:
        return None
    try:
        document = json.loads(
            body.decode("utf-8-sig", errors="replace"), object_pairs_hook=_JsonObject
        )
    except (ValueError, RecursionError):  # not JSON, a number too long, nesting too deep
        return None
    if not isinstance(document, _JsonObject):
        return None
    values = [
        value.strip()
        for key, value in document
        if key == rule.json_field and isinstance(value, str) and value.strip()
    ]
    text = " ".join(values)
    if not text:
        return None
    clipped = len(text) > MAX_BODY_QUERY_CHARS
    return SearchQuery(rule.name, text[:MAX_BODY_QUERY_CHARS], clipped)
