"""The one decision type that every caller shares, and the words it is made of.

A `Verdict` carries its own explanation so that the proxy, the event log, `abhaya check` and
the parent console can say *why* without re-deriving anything:

- `category` says what the page or search is (`Category`: csam, adult, gambling, ...), or
  None when no category list was involved (an allow list, a schedule, an error);
- `reason` says why the agent acted (`Reason`: a list, a keyword, the schedule, a custom rule,
  an error, a model score, ...);
- `override` says why a request that would have been stopped went through (a parent's
  approval, a pause, "continue anyway").

The words a parent reads for each category and reason are data (`filters/data/vocabulary.toml`,
read by `filters.vocabulary`); the child-facing wording is chosen by the warning page.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from abhaya.filters.search import SearchQuery


class Action(StrEnum):
    """What the proxy does with a request."""

    ALLOW = "allow"
    REWRITE = "rewrite"  # safe-search enforcement: the request goes on, changed
    WARN = "warn"  # interstitial with a way back (and, where the policy allows, a way on)
    BLOCK = "block"  # interstitial, no way on
    BLUR = "blur"  # images (content addon, later)


class Category(StrEnum):
    """What a page, a search, an image or a conversation is about.

    The set is closed on purpose: policies, lists, keyword files and classifiers all speak of
    these, so the console can count and filter by them.  `csam` is zero tolerance.
    """

    CSAM = "csam"
    ADULT = "adult"
    SELF_HARM = "self_harm"
    GAMBLING = "gambling"
    VIOLENCE = "violence"
    WEAPONS = "weapons"
    DRUGS = "drugs"
    HATE = "hate"
    ANONYMIZERS = "anonymizers"
    PHISHING = "phishing"
    MALWARE = "malware"
    DATING = "dating"
    SOCIAL = "social"
    CHAT = "chat"
    GAMES = "games"
    GROOMING = "grooming"
    SEXTORTION = "sextortion"
    BULLYING = "bullying"


ZERO_TOLERANCE = Category.CSAM
"""The category no allow list, override, schedule or pause ever turns off."""


class Reason(StrEnum):
    """Why the agent acted on a request (or let it through)."""

    NO_MATCH = "no_match"  # nothing matched: a plain allow
    ALLOW_LIST = "allow_list"  # the profile's allow list or an [[allowlist]] file
    LIST = "list"  # a domain or URL on a category list
    KEYWORD = "keyword"  # a search for a term on a category keyword list
    SEARCH_RULE = "search_rule"  # a search matched a combination rule over term classes
    SCHEDULE = "schedule"  # outside the profile's browsing hours
    CUSTOM_RULE = "custom_rule"  # the profile's own `block` entries
    SAFE_SEARCH = "safe_search"  # the search was rewritten to the engine's strict setting
    APPROVAL = "approval"  # a parent approved the site (an override)
    PAUSE = "pause"  # protection was paused by a parent (an override)
    CONTINUE = "continue"  # the child went on past a warning (an override)
    INVALID = "invalid"  # the address could not be understood
    ERROR = "error"  # something in Abhaya failed; the request was blocked to be safe
    LIMITS = "limits"  # the request was too large to check (URL, headers, a search body)
    LOCAL_ADDRESS = "local_address"  # a destination on this computer (the control API)
    MODEL = "model"  # an on-device classifier's score
    HASH_MATCH = "hash_match"  # a known image hash
    UNSCANNABLE = "unscannable"  # an image that could not be checked (broken, too large, late)


OVERRIDE_REASONS = frozenset({Reason.APPROVAL, Reason.PAUSE, Reason.CONTINUE})
NEVER_OVERRIDDEN = frozenset({Reason.INVALID, Reason.ERROR, Reason.LIMITS, Reason.LOCAL_ADDRESS})
"""Verdicts no approval, pause or "continue" may turn into an allow: what could not be
checked is never let through."""


@dataclass(frozen=True, slots=True)
class Override:
    """Why a request that would have been stopped was let through.

    `ref` names the grant: the access request's id, the end of the pause, the continue token's
    expiry.  `stopped` is the action the request had before (block or warn).
    """

    reason: Reason
    ref: str
    stopped: Action

    def __post_init__(self) -> None:
        if self.reason not in OVERRIDE_REASONS:
            raise ValueError(f"{self.reason} is not an override")


@dataclass(frozen=True, slots=True)
class Rewrite:
    """Changes that safe-search enforcement makes to a request that is otherwise allowed."""

    url: str
    set_headers: tuple[tuple[str, str], ...] = ()
    engine: str = ""


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of `decide()` (or of an addon) for one request.

    - `detail`: one sentence for the parent, e.g. "domain is on the adult block list".
    - `rule`: the rule that matched, e.g. `example.com`, `example.com/path`, `keyword:...`.
    - `source`: where that rule came from: a list file, `policy:profiles.child.block`, `default`.
    - `query`: the search query that was checked, when the URL was a search.
    """

    action: Action
    reason: Reason
    category: Category | None = None
    detail: str = ""
    rule: str = ""
    source: str = ""
    query: str = ""
    rewrite: Rewrite | None = None
    ask_parent: bool = False
    override: Override | None = None

    @property
    def zero_tolerance(self) -> bool:
        return self.category is ZERO_TOLERANCE

    @property
    def stops(self) -> bool:
        """Whether the request is answered with a page instead of going on."""
        return self.action in (Action.BLOCK, Action.WARN)


ALLOW = Verdict(Action.ALLOW, Reason.NO_MATCH, detail="no rule matched")


def error_verdict(detail: str, source: str = "agent") -> Verdict:
    """The verdict for a request that met an error in Abhaya: blocked, never passed."""
    return Verdict(Action.BLOCK, Reason.ERROR, detail=detail, rule="error", source=source)


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What `decide()` needs to know about a request; built by the proxy or by `abhaya check`."""

    url: str
    method: str = "GET"
    search: SearchQuery | None = None
    """The search text when the caller found it elsewhere than in the URL (a request body, see
    `filters.search.extract_body_query`); None reads it from the URL."""
