"""Render the warning pages that the proxy serves in place of a stopped page.

The proxy builds one `PageRenderer` at start-up (`PageRenderer.load_default()`); that parses and
validates every locale and jurisdiction pack and compiles every template, so per request the
renderer only picks a template and fills it in.  Each page is one self-contained HTML document
(inline CSS, an inline SVG, no fetches), because it is served over whatever connection the child
opened, HTTPS included, and must work with nothing else reachable.

Safety properties the tests pin down:
- autoescape is on for every template and no template marks user data `|safe`;
- the `csam` page never receives the URL or the query, so it cannot reflect them, and never
  offers a way on;
- a way on appears only for `warn` with a `continue_url`: "Continue anyway" on a `blocked`
  page, "I am safe, continue" on the `self_harm` page; never on the `csam` page.

If the proxy sends a Content-Security-Policy with these pages, it must allow inline styles and
the inline `onclick="history.back()"` of the back button; the page still works without the
script (a plain link leaves the page).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import urlsplit

import jinja2

from abhaya.ui.pages.display import shorten
from abhaya.ui.pages.language import choose_language
from abhaya.ui.pages.packs import (
    FALLBACK_JURISDICTION,
    FALLBACK_LANGUAGE,
    WEEKDAYS,
    Jurisdiction,
    Locale,
    PageDataError,
    Role,
    load_jurisdictions,
    load_locales,
)

__all__ = ["Opening", "PageContext", "PageRenderer", "choose_language", "page_kind_for"]

KINDS: Final = ("csam", "self_harm", "blocked", "error", "upstream")
FAILURES: Final = ("dns", "refused", "timeout", "certificate", "closed", "other")
"""Why a site could not be reached (`upstream` pages); each has its sentence in the locales."""
ASK_STATES: Final = ("", "sent", "pending", "denied")
OPENING_DAYS: Final = ("today", "tomorrow", *WEEKDAYS)
"""How a page names the day browsing is allowed again (`Opening`)."""
REASON_LIMIT: Final = 500
"""Most characters a child may write when asking a parent (the form and the proxy agree)."""
URL_LIMIT: Final = 80
QUERY_LIMIT: Final = 60


def page_kind_for(category: str) -> str:
    """The page kind for a verdict category: csam and self_harm have their own pages."""
    if category in ("csam", "self_harm"):
        return category
    return "blocked"


def _check_continue_url(url: str) -> None:
    """A way on must lead to a web page: http(s) or a same-site path, never `javascript:`."""
    if not url:
        return
    if url.startswith("/") and not url.startswith("//"):
        return
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(f"continue_url must be an http(s) URL or a path: {url!r}")


@dataclass(frozen=True, slots=True)
class Opening:
    """When browsing is allowed again, as a page says it to a child: `day` is "today",
    "tomorrow" or a weekday (`WEEKDAYS`), `time` the family's local time as HH:MM."""

    day: str
    time: str

    def __post_init__(self) -> None:
        if self.day not in OPENING_DAYS:
            raise ValueError(f"unknown opening day {self.day!r}; expected one of {OPENING_DAYS}")
        if not re.fullmatch(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]", self.time):
            raise ValueError(f"an opening time is HH:MM, not {self.time!r}")

    @classmethod
    def at(cls, moment: dt.datetime, now: dt.datetime) -> Opening:
        """`moment` (aware, in the family's time zone) as seen from `now`."""
        days = (moment.date() - now.astimezone(moment.tzinfo).date()).days
        day = "today" if days == 0 else "tomorrow" if days == 1 else WEEKDAYS[moment.weekday()]
        return cls(day, f"{moment:%H:%M}")


@dataclass(frozen=True, slots=True)
class PageContext:
    """What the proxy knows about the stopped request; checked on construction.

    `kind` is one of csam, self_harm, blocked, error, upstream (see `page_kind_for`).  `url`
    is shown (escaped, shortened) on `blocked` and `upstream` pages, `query` on `blocked` only.
    """

    kind: str  # csam|self_harm|blocked|error|upstream
    category: str
    action: str
    url: str = ""
    query: str = ""
    ask_parent: bool = False
    continue_url: str = ""
    status_text: str = ""
    ask_action: str = ""
    """Where the ask-a-parent form posts (a path on the same host); empty: no form."""
    ask_page: str = ""
    """The stopped page's path (without its query), sent with the form."""
    ask_state: str = ""
    """The child's request for this page: "" (none), sent, pending or denied."""
    failure: str = ""
    """Why the site could not be reached (one of FAILURES); `upstream` pages only."""
    opens: Opening | None = None
    """When browsing is allowed again, for a page stopped by the schedule (`blocked` only)."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown page kind {self.kind!r}; expected one of {KINDS}")
        if self.category == "csam" and self.kind != "csam":
            raise ValueError("category 'csam' is always shown with the 'csam' page")
        _check_continue_url(self.continue_url)
        if (self.kind == "upstream") != (self.failure in FAILURES):
            raise ValueError(f"an upstream page needs a failure, one of {FAILURES}")
        if self.opens is not None and self.kind != "blocked":
            raise ValueError("only a blocked page says when browsing is allowed again")
        if self.ask_state not in ASK_STATES:
            raise ValueError(f"unknown ask_state {self.ask_state!r}; expected one of {ASK_STATES}")
        if (self.ask_action or self.ask_state) and not self.ask_parent:
            raise ValueError("asking a parent is offered only where the category allows it")
        if self.ask_action and not (
            self.ask_action.startswith("/") and not self.ask_action.startswith("//")
        ):
            raise ValueError(f"ask_action must be a path on the same site: {self.ask_action!r}")


def _tel(number: str) -> str:
    """`tel:` link target for a displayed number such as 1-800-891-4416."""
    return "tel:" + "".join(ch for ch in number if ch.isdigit())


def _package_root() -> Traversable:
    return files("abhaya.ui.pages")


class PageRenderer:
    """Renders warning pages; immutable once built, safe to share between threads."""

    __slots__ = ("_locales", "_packs", "_templates")

    def __init__(self, root: Traversable) -> None:
        """Load and validate everything under `root` (templates/, locales/, jurisdictions/)."""
        self._locales: Mapping[str, Locale] = load_locales(root / "locales")
        self._packs: Mapping[str, Jurisdiction] = load_jurisdictions(
            root / "jurisdictions", self._locales
        )
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(Path(str(root / "templates"))),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["tel"] = _tel
        self._templates: Mapping[str, jinja2.Template] = MappingProxyType(
            {kind: env.get_template(f"{kind}.html") for kind in KINDS}
        )
        self._self_check()

    def _self_check(self) -> None:
        """Render every kind in every language with every pack once, so that a template that
        names a missing string (StrictUndefined) fails here, at start-up, and so that every
        included template is compiled before the first request."""
        samples = [
            PageContext(kind=page_kind_for(category), category=category, action="warn")
            for category in ("csam", "self_harm")
        ] + [
            PageContext(kind="self_harm", category="self_harm", action="warn", continue_url="/"),
            PageContext(
                kind="blocked",
                category="other",
                action="warn",
                url="https://example.org/",
                query="q",
                ask_parent=True,
                continue_url="https://example.org/",
            ),
            *(
                PageContext(
                    kind="blocked",
                    category="other",
                    action="block",
                    ask_parent=True,
                    ask_action="/ask",
                    ask_page="/",
                    ask_state=state,
                )
                for state in ASK_STATES
            ),
            *(
                PageContext(
                    kind="blocked", category="schedule", action="block", opens=Opening(day, "16:00")
                )
                for day in OPENING_DAYS
            ),
            PageContext(kind="error", category="", action="block", status_text="413"),
            *(
                PageContext(
                    kind="upstream",
                    category="",
                    action="",
                    url="https://example.org/",
                    failure=failure,
                )
                for failure in FAILURES
            ),
        ]
        for ctx in samples:
            for lang in self._locales:
                for code in self._packs:
                    try:
                        self.render(ctx, lang, code)
                    except (jinja2.TemplateError, KeyError, IndexError, ValueError) as exc:
                        raise PageDataError(
                            f"template {ctx.kind}.html ({lang}, {code}): {exc}"
                        ) from exc

    @classmethod
    def load_default(cls) -> PageRenderer:
        """The renderer over the templates and data shipped with Abhaya."""
        return cls(_package_root())

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self._locales))

    @property
    def jurisdictions(self) -> tuple[str, ...]:
        return tuple(sorted(self._packs))

    def check_jurisdiction(self, code: str) -> str:
        """Validate a configured jurisdiction code; raise ValueError naming the known ones."""
        if code not in self._packs:
            known = ", ".join(self.jurisdictions)
            raise ValueError(f"unknown jurisdiction {code!r}; known: {known}")
        return code

    def render(self, ctx: PageContext, lang: str, jurisdiction: str) -> str:
        """Render one page.  Unknown `lang` falls back to English and an unknown `jurisdiction`
        to the generic pack, so a request is always answered with a page."""
        primary = lang.split("-", 1)[0].lower()
        locale_code = primary if primary in self._locales else FALLBACK_LANGUAGE
        pack = self._packs.get(jurisdiction) or self._packs[FALLBACK_JURISDICTION]
        variables = self._common(locale_code, pack, ctx.kind)
        variables.update(self._for_kind(ctx, self._locales[locale_code]))
        return self._templates[ctx.kind].render(variables)

    def _common(self, lang: str, pack: Jurisdiction, kind: str) -> dict[str, Any]:
        return {
            "lang": lang,
            "t": self._locales[lang],
            "pack": pack,
            "ptext": pack.text[lang],
            "kind": kind,
            "Role": Role,
        }

    @staticmethod
    def _for_kind(ctx: PageContext, locale: Locale) -> dict[str, Any]:
        """Only what each kind may show: the csam page never sees the URL or the query, and
        neither page reflects what was searched."""
        if ctx.kind == "csam":
            return {}
        if ctx.kind == "self_harm":
            return {"continue_url": ctx.continue_url if ctx.action == "warn" else ""}
        if ctx.kind == "error":
            return {"status_text": shorten(ctx.status_text, URL_LIMIT)}
        if ctx.kind == "upstream":
            return {
                "failure_text": locale.upstream.failure_text(ctx.failure),
                "display_url": shorten(ctx.url, URL_LIMIT),
            }
        warn = ctx.action == "warn"
        return {
            "warn": warn,
            "reason_text": locale.category_text(ctx.category),
            "display_url": shorten(ctx.url, URL_LIMIT),
            "display_query": shorten(ctx.query, QUERY_LIMIT),
            "ask_parent": ctx.ask_parent,
            "ask_action": ctx.ask_action,
            "ask_page": ctx.ask_page,
            "ask_state": ctx.ask_state,
            "reason_limit": REASON_LIMIT,
            "continue_url": ctx.continue_url if warn else "",
            "opens_text": _opens_text(ctx.opens, locale),
        }


def _opens_text(opens: Opening | None, locale: Locale) -> str:
    """The sentence saying when browsing is allowed again, in the page's language."""
    if opens is None:
        return ""
    text = locale.blocked
    if opens.day == "today":
        return text.opens_today.format(time=opens.time)
    if opens.day == "tomorrow":
        return text.opens_tomorrow.format(time=opens.time)
    return text.opens_on.format(day=text.weekdays[opens.day], time=opens.time)
