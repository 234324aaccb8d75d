"""Which hosts are chat sites, and how each is read: `data/chat_sites.toml` and the policy.

The data file lists the chat sites Abhaya knows (host patterns, the adapter that reads them,
the request paths whose bodies carry messages, the WebSocket paths that carry them), each with
its evidence.  A policy adds sites of its own (`[[chat.sites]]`, generic JSON only); those are
matched first, so a parent's entry wins for its host.  Everything is compiled once at load;
per request only host and path patterns are matched (`for_request`, `for_websocket`).

A file that is not valid is refused whole with its name, the line and the reason: a chat site
half read would be read wrongly.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from abhaya.filters.chatwire.generic import DEFAULT_FIELDS, JsonFields
from abhaya.filters.search import HostPatterns, PathPatterns, describe_rule_error

Adapter = Literal["discord", "json"]
DEFAULT_SITES_FILE = "data/chat_sites.toml"


class ChatSitesError(ValueError):
    """The chat sites file is not valid; the message names the file, line and reason."""


@dataclass(frozen=True, slots=True)
class ChatSite:
    """One chat site: its name (what messages carry), adapter, and where its messages go."""

    name: str
    adapter: Adapter
    hosts: HostPatterns
    paths: PathPatterns
    """Requests whose bodies are read (POST, PUT, PATCH)."""
    websocket_paths: PathPatterns
    """WebSocket connections whose messages are read."""
    fields: JsonFields = DEFAULT_FIELDS
    """For the json adapter: the field names it reads."""

    @classmethod
    def make(
        cls,
        name: str,
        adapter: Adapter,
        hosts: Iterable[str],
        paths: Iterable[str],
        websocket_paths: Iterable[str],
        fields: JsonFields = DEFAULT_FIELDS,
    ) -> ChatSite:
        """Compile the patterns; raises ValueError naming a bad one."""
        return cls(
            name,
            adapter,
            HostPatterns.compile(tuple(hosts)),
            PathPatterns.compile(tuple(paths)),
            PathPatterns.compile(tuple(websocket_paths)),
            fields,
        )


@dataclass(frozen=True, slots=True)
class ChatSites:
    """Every chat site in force, matched in order (the policy's first)."""

    sites: tuple[ChatSite, ...] = ()

    def for_request(self, host: str, path: str) -> ChatSite | None:
        """The site whose bodies are read for this request (`path` without the query)."""
        host = host.lower().rstrip(".")
        for site in self.sites:
            if site.hosts.matches(host) and site.paths.matches(path):
                return site
        return None

    def for_websocket(self, host: str, path: str) -> ChatSite | None:
        """The site whose messages are read on this WebSocket (`path` without the query)."""
        host = host.lower().rstrip(".")
        for site in self.sites:
            if site.hosts.matches(host) and site.websocket_paths.matches(path):
                return site
        return None

    def hosts(self) -> tuple[HostPatterns, ...]:
        """The hosts of every site: where chat traffic may be read, on some path."""
        return tuple(site.hosts for site in self.sites)

    def with_first(self, sites: Sequence[ChatSite]) -> ChatSites:
        return ChatSites((*sites, *self.sites))

    @staticmethod
    @cache
    def load_default() -> ChatSites:
        """The sites that ship with Abhaya (read once per process)."""
        data = resources.files("abhaya.filters").joinpath(DEFAULT_SITES_FILE)
        return parse_sites(data.read_text("utf-8"), str(data))


@dataclass(frozen=True, slots=True)
class ChatRules:
    """The policy's `[chat]` section, compiled: shared by every profile (`Rulebook.chat`)."""

    enabled: bool = True
    sites: ChatSites = field(default_factory=ChatSites)


class _SiteModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    adapter: Adapter
    hosts: tuple[str, ...] = Field(min_length=1)
    paths: tuple[str, ...] = ()
    websocket_paths: tuple[str, ...] = ()
    evidence: Literal["documented", "observed", "unverified"]
    note: str = Field(min_length=10)


class _FileModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    site: tuple[_SiteModel, ...]


def parse_sites(text: str, name: str) -> ChatSites:
    """Parse and compile a chat sites file; every error names the file and, where it can be
    found, the line."""
    try:
        model = _FileModel.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as err:
        raise ChatSitesError(f"{name}: not valid TOML: {err}") from err
    except ValidationError as err:
        problems = []
        for issue in err.errors():
            loc = issue["loc"]
            line = _line_of(text, loc)
            where = ".".join(str(part) for part in loc) or "file"
            problems.append(
                f"{name}:{line}: {where}: {issue['msg']}"
                if line
                else f"{name}: {where}: {issue['msg']}"
            )
        raise ChatSitesError("; ".join(problems)) from err
    sites = []
    for index, entry in enumerate(model.site):
        if not entry.paths and not entry.websocket_paths:
            raise ChatSitesError(
                f"{name}:{_line_of(text, ('site', index))}: site {entry.name!r} reads nothing: "
                "give paths or websocket_paths"
            )
        try:
            sites.append(
                ChatSite.make(
                    entry.name, entry.adapter, entry.hosts, entry.paths, entry.websocket_paths
                )
            )
        except ValueError as err:
            line = _line_of(text, ("site", index))
            raise ChatSitesError(
                f"{name}:{line}: site {entry.name!r}: {describe_rule_error(err)}"
            ) from err
    return ChatSites(tuple(sites))


_HEADER = re.compile(r"^\s*\[\[\s*site\s*\]\]")


def _line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """The line of ``[[site]]`` number loc[1], or of its key loc[2] when given; None when the
    layout does not show it (an inline table)."""
    if len(loc) < 2 or loc[0] != "site" or not isinstance(loc[1], int):
        return None
    headers = [n for n, line in enumerate(text.splitlines(), 1) if _HEADER.match(line)]
    if loc[1] >= len(headers):
        return None
    start = headers[loc[1]]
    if len(loc) < 3 or not isinstance(loc[2], str):
        return start
    key = re.compile(rf"^\s*{re.escape(loc[2])}\s*=")
    lines = text.splitlines()
    end = headers[loc[1] + 1] if loc[1] + 1 < len(headers) else len(lines) + 1
    for number in range(start + 1, end):
        if key.match(lines[number - 1]):
            return number
    return start
