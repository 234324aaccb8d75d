"""Whether a TLS connection is decrypted: `inspection()`, shared by the proxy and `abhaya check`.

A domain verdict needs only the connection's name (the TLS server name and the proxy's CONNECT
target); searches, safe search, URL-path rules, images and chats need the content.  Decrypting
costs a TLS handshake on each side in Python for every new host, so in the policy's `needed`
mode a connection is decrypted only where something must look inside.  Everything else is
passed through undecrypted and still filtered by its name.

The answer is decided once per connection from `InspectPlan` (compiled with the policy) and
the profile's `path_hosts`; it is an `Inspection` that carries its reason, so `abhaya check`
(through `filters.decide.inspection_of_url`) can tell a parent in words why a host's traffic
is or is not looked at.  Order, first match wins:

1. no server name, or a CONNECT target other than that name -> inspect (nothing to judge by
   name alone: fail closed);
2. the name's verdict is not a plain allow -> inspect (a block or warn page, or a safe-search
   rewrite, can only be served inside the connection; a rewrite counts as a search engine);
3. `[inspect] never` (and the older `passthrough`) -> pass through (banking, health, pinned
   OS services: privacy and pinned certificates);
4. mode `everything` -> inspect;
5. `[inspect] always` -> inspect;
6. a search engine (search text, body searches, safe search) -> inspect;
7. a host with URL-path rules in any list or the profile's allow or block -> inspect;
8. a chat site, while this profile's chats are read -> inspect;
9. an image site (`filters/data/inspect/image_sites.txt`), while this profile's images are
   screened or known-image hash lists are loaded -> inspect;
10. otherwise pass through.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from abhaya.filters.chatwire.sites import ChatSites
from abhaya.filters.domainset import DomainSet
from abhaya.filters.policy.model import InspectMode
from abhaya.filters.safesearch import SafeSearchRules
from abhaya.filters.search import HostPatterns, search_hosts
from abhaya.filters.urlnorm import UrlError, normalize_host
from abhaya.filters.verdict import Action, Verdict

if TYPE_CHECKING:
    from abhaya.filters.policy.compile import ProfileRules

__all__ = [
    "InspectPlan",
    "InspectReason",
    "Inspection",
    "image_sites",
    "inspection",
]

IMAGE_SITES_FILE = "data/inspect/image_sites.txt"


class InspectReason(StrEnum):
    """Why a connection is decrypted or passed through; `Inspection.sentence` says it in words."""

    NO_NAME = "no_name"
    NAME_MISMATCH = "name_mismatch"
    NOT_ALLOWED = "not_allowed"
    NEVER = "never"
    EVERYTHING = "everything"
    ALWAYS = "always"
    SEARCH = "search"
    PATH_RULES = "path_rules"
    CHAT = "chat"
    IMAGES = "images"
    NOT_NEEDED = "not_needed"
    ERROR = "error"


_SENTENCES = {
    InspectReason.NO_NAME: "the connection names no site, so it cannot be judged by name alone",
    InspectReason.NAME_MISMATCH: "the connection names another site than the one it goes to",
    InspectReason.NOT_ALLOWED: "the site is not simply allowed, so its warning page must be shown",
    InspectReason.NEVER: "the policy never looks inside this site's traffic (inspect.never)",
    InspectReason.EVERYTHING: "the policy looks inside all traffic (inspect mode everything)",
    InspectReason.ALWAYS: "the policy always looks inside this site's traffic (inspect.always)",
    InspectReason.SEARCH: "it is a search engine: searches are checked and safe search is set",
    InspectReason.PATH_RULES: "some of its pages are listed, so each address must be checked",
    InspectReason.CHAT: "it is a chat site and this child's chats are read",
    InspectReason.IMAGES: "its images are screened (social, forum and image-hosting sites)",
    InspectReason.NOT_NEEDED: "nothing needs to look inside; the site is still filtered by name",
    InspectReason.ERROR: "the decision failed, so it is looked inside to be safe",
}
_PASSED = frozenset({InspectReason.NEVER, InspectReason.NOT_NEEDED})


@dataclass(frozen=True, slots=True)
class Inspection:
    """Whether one connection is decrypted, and why."""

    reason: InspectReason

    @property
    def inspected(self) -> bool:
        return self.reason not in _PASSED

    @property
    def sentence(self) -> str:
        """What a parent reads: "inspected: it is a search engine: ..."."""
        state = "inspected" if self.inspected else "not inspected (passed through)"
        return f"{state}: {_SENTENCES[self.reason]}"


@dataclass(frozen=True, slots=True)
class InspectPlan:
    """`[inspect]` compiled, with every host set a connection's name is looked up in."""

    mode: InspectMode = InspectMode.EVERYTHING
    always: DomainSet = DomainSet.empty()
    never: DomainSet = DomainSet.empty()
    search: tuple[HostPatterns, ...] = ()
    """Search engines, body-search endpoints and safe-search hosts."""
    chat: tuple[HostPatterns, ...] = ()
    images: DomainSet = DomainSet.empty()
    known_images: bool = False
    """Known-image hash lists are loaded: they apply to every profile (no opt-out)."""

    @classmethod
    def build(
        cls,
        mode: InspectMode,
        always: DomainSet,
        never: DomainSet,
        chat: ChatSites,
        known_images: bool,
    ) -> InspectPlan:
        return cls(
            mode=mode,
            always=always,
            never=never,
            search=(*search_hosts(), *SafeSearchRules.load_default().hosts()),
            chat=chat.hosts(),
            images=image_sites(),
            known_images=known_images,
        )


def inspection(
    name: str | None, target: str | None, profile: ProfileRules, verdict: Verdict
) -> Inspection:
    """Whether a connection is decrypted for `profile`.

    `name` is the TLS server name (SNI), `target` the proxy's CONNECT host (None when there
    was none), `verdict` the decision for `https://<name>/` (the name's own verdict)."""
    if not name:
        return Inspection(InspectReason.NO_NAME)
    try:
        host = normalize_host(name.rstrip("."))
        if target is not None and normalize_host(target.rstrip(".")) != host:
            return Inspection(InspectReason.NAME_MISMATCH)
    except UrlError:
        return Inspection(InspectReason.NO_NAME)
    if verdict.action is Action.REWRITE:  # safe search on every page of the site
        return Inspection(InspectReason.SEARCH)
    if verdict.action is not Action.ALLOW:
        return Inspection(InspectReason.NOT_ALLOWED)
    book = profile.book
    plan = book.inspect
    if plan.never.match(host) is not None:
        return Inspection(InspectReason.NEVER)
    if plan.mode is InspectMode.EVERYTHING:
        return Inspection(InspectReason.EVERYTHING)
    if plan.always.match(host) is not None:
        return Inspection(InspectReason.ALWAYS)
    if _any(plan.search, host):
        return Inspection(InspectReason.SEARCH)
    if profile.path_hosts.match(host) is not None:
        return Inspection(InspectReason.PATH_RULES)
    if book.chat.enabled and profile.chat.enabled and _any(plan.chat, host):
        return Inspection(InspectReason.CHAT)
    screened = profile.images.enabled or plan.known_images
    if screened and plan.images.match(host) is not None:
        return Inspection(InspectReason.IMAGES)
    return Inspection(InspectReason.NOT_NEEDED)


def _any(patterns: tuple[HostPatterns, ...], host: str) -> bool:
    return any(pattern.matches(host) for pattern in patterns)


@cache
def image_sites() -> DomainSet:
    """The image sites shipped with Abhaya (read once per process); a bad line is a bug in
    the shipped data and raises."""
    text = resources.files("abhaya.filters").joinpath(IMAGE_SITES_FILE).read_text("utf-8")
    hosts = []
    for number, line in enumerate(text.splitlines(), 1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        try:
            hosts.append(normalize_host(entry))
        except UrlError as err:
            raise ValueError(f"{IMAGE_SITES_FILE}:{number}: {err}") from err
    return DomainSet.build(hosts)
