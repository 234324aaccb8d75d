"""The one decision type that every caller shares.

A `Verdict` carries its own explanation (`reason`, `rule`, `source`) so that the proxy, the
event log and `abhaya check` can say *why* without re-deriving anything.  `reason` is the detail
for the parent; the child-facing wording is chosen by the warning page from `category`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Action(StrEnum):
    """What the proxy does with a request."""

    ALLOW = "allow"
    REWRITE = "rewrite"  # safe-search enforcement: the request goes on, changed
    WARN = "warn"  # interstitial with a way back (and, where the policy allows, a way on)
    BLOCK = "block"  # interstitial, no way on
    BLUR = "blur"  # images (content addon, later)


@dataclass(frozen=True, slots=True)
class Rewrite:
    """Changes that safe-search enforcement makes to a request that is otherwise allowed."""

    url: str
    set_headers: tuple[tuple[str, str], ...] = ()
    engine: str = ""


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of `decide()` for one request.

    - `category`: the category that matched (`csam`, `adult`, ..., or `allowlist`, `schedule`,
      `custom` for rules that are not category lists); empty for a plain allow.
    - `reason`: one sentence for the parent, e.g. "domain is on the adult block list".
    - `rule`: the rule that matched, e.g. `example.com`, `example.com/path`, `keyword:...`.
    - `source`: where that rule came from: a list file, `policy:profiles.child.block`, `default`.
    - `query`: the search query that was checked, when the URL was a search.
    """

    action: Action
    category: str = ""
    reason: str = ""
    rule: str = ""
    source: str = ""
    query: str = ""
    rewrite: Rewrite | None = None
    ask_parent: bool = False
    details: tuple[tuple[str, str], ...] = field(default=())


ALLOW = Verdict(Action.ALLOW, reason="no rule matched")


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What `decide()` needs to know about a request; built by the proxy or by `abhaya check`."""

    url: str
    method: str = "GET"
