"""Safe-search enforcement: the parameters and headers that switch an engine to its strict mode.

Rules are data, one file per engine in ``filters/data/safesearch/<engine>.toml`` (each says in a
header comment what the engine documents and where).  They are parsed once into frozen rules;
`rewrite` only matches hosts and paths and edits the query string.

The query is edited piece by piece so that every parameter Abhaya does not own keeps its
position and its exact encoding: the engine sees the request the browser sent, plus
``safe=active`` (or the like) set once, overriding any ``safe=off``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from urllib.parse import quote_plus, unquote_plus

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from abhaya.filters.search import HostPatterns, PathPatterns, describe_rule_error
from abhaya.filters.urlnorm import DEFAULT_PORTS, bracketed
from abhaya.filters.verdict import Rewrite

__all__ = ["SafeSearchRuleError", "SafeSearchRules"]


class SafeSearchRuleError(ValueError):
    """A safe-search rule file is malformed; the message names the file."""


class _RuleModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    engine: str
    hosts: tuple[str, ...]
    paths: tuple[str, ...]
    set_params: dict[str, str] = {}
    set_headers: dict[str, str] = {}

    @model_validator(mode="after")
    def _changes_something(self) -> _RuleModel:
        if not self.hosts or not self.paths:
            raise ValueError("hosts and paths must not be empty")
        if not self.set_params and not self.set_headers:
            raise ValueError("a rule must set at least one parameter or header")
        return self


@dataclass(frozen=True, slots=True)
class _Rule:
    engine: str
    hosts: HostPatterns
    paths: PathPatterns
    params: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]


def _parse(text: str, name: str) -> _Rule:
    try:
        model = _RuleModel.model_validate(tomllib.loads(text))
        return _Rule(
            model.engine,
            HostPatterns.compile(model.hosts),
            PathPatterns.compile(model.paths),
            tuple(model.set_params.items()),
            tuple(model.set_headers.items()),
        )
    except (tomllib.TOMLDecodeError, ValidationError, ValueError) as exc:
        raise SafeSearchRuleError(f"{name}: {describe_rule_error(exc)}") from exc


def _set_params(query: str, params: tuple[tuple[str, str], ...]) -> str:
    """Set each parameter once (first occurrence replaced, later ones dropped, missing ones
    appended); every other piece of the query is kept verbatim."""
    wanted = dict(params)
    done: set[str] = set()
    out: list[str] = []
    for piece in query.split("&") if query else ():
        key = unquote_plus(piece.partition("=")[0], errors="replace")
        if key not in wanted:
            out.append(piece)
        elif key not in done:
            out.append(f"{quote_plus(key)}={quote_plus(wanted[key])}")
            done.add(key)
    out.extend(f"{quote_plus(k)}={quote_plus(v)}" for k, v in params if k not in done)
    return "&".join(out)


@dataclass(frozen=True, slots=True)
class SafeSearchRules:
    """Immutable set of safe-search rules; the first rule whose host and path match applies."""

    rules: tuple[_Rule, ...]

    @classmethod
    def load_default(cls) -> SafeSearchRules:
        """The rules shipped in ``filters/data/safesearch/`` (parsed once, then shared)."""
        return _default_rules()

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> SafeSearchRules:
        return cls(tuple(_read(p) for p in paths))

    def hosts(self) -> tuple[HostPatterns, ...]:
        """The hosts the rules cover: where a request may need rewriting."""
        return tuple(rule.hosts for rule in self.rules)

    def rewrite(self, scheme: str, host: str, port: int, path: str, query: str) -> Rewrite | None:
        """The changed request for a search engine, or None when `host` is no engine or the
        request already has every parameter set (and the engine needs no header)."""
        for rule in self.rules:
            if rule.hosts.matches(host) and rule.paths.matches(path):
                break
        else:
            return None
        new_query = _set_params(query, rule.params) if rule.params else query
        if new_query == query and not rule.headers:
            return None
        netloc = bracketed(host)
        if DEFAULT_PORTS.get(scheme) != port:
            netloc = f"{netloc}:{port}"
        url = f"{scheme}://{netloc}{path or '/'}"
        if new_query:
            url = f"{url}?{new_query}"
        return Rewrite(url=url, set_headers=rule.headers, engine=rule.engine)


def _read(source: Path | Traversable) -> _Rule:
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SafeSearchRuleError(f"{source}: cannot read safe-search rules: {exc}") from exc
    return _parse(text, str(source))


@cache
def _default_rules() -> SafeSearchRules:
    folder = resources.files("abhaya.filters").joinpath("data/safesearch")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name)
    return SafeSearchRules(tuple(_read(f) for f in files))
