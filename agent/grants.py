"""Short allowances to continue past a `warn` page ("Continue anyway").

Where a category is `warn` with `allow_continue`, the warning page links to the same address
with a signed token (`agent.signing`).  Following the link grants that profile that host, for
that one category, for a short time: "I am safe, continue" past a self-harm warning on a search
engine must not also wave through the next violence warning there.  A link works once.  Grants
live in memory only: a restart asks again, which errs on the careful side.
"""

from __future__ import annotations

import datetime as dt
import threading
from urllib.parse import parse_qsl, urlencode

from abhaya.agent.signing import PageTokens
from abhaya.filters.verdict import Category

TOKEN_PARAM = "abhaya-continue"
_PURPOSE = "continue"
LINK_LIFETIME = dt.timedelta(minutes=10)
"""How long a continue link on a page stays usable."""
GRANT_LIFETIME = dt.timedelta(minutes=15)
"""How long a used link lets the host through."""
MAX_GRANTS = 10_000


class ContinueGrants:
    def __init__(self, tokens: PageTokens | None = None) -> None:
        self._tokens = tokens or PageTokens()
        self._grants: dict[tuple[str, str, Category], dt.datetime] = {}
        self._lock = threading.Lock()

    def continue_path(
        self, path: str, profile: str, host: str, category: Category, now: dt.datetime
    ) -> str:
        """`path` (with its query) plus a token that grants `host` for `category` when
        followed."""
        signed = self._tokens.issue(_purpose(category), profile, host, now, LINK_LIFETIME)
        token = f"{category}~{signed}"
        base, _, query = path.partition("?")
        pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != TOKEN_PARAM]
        return f"{base}?{urlencode([*pairs, (TOKEN_PARAM, token)])}"

    def redeem(self, path: str, profile: str, host: str, now: dt.datetime) -> str | None:
        """If `path` carries a valid token for this host, grant it and return the path
        without the token; otherwise None (a wrong or expired token grants nothing)."""
        base, _, query = path.partition("?")
        pairs = parse_qsl(query, keep_blank_values=True)
        tokens = [value for key, value in pairs if key == TOKEN_PARAM]
        if len(tokens) != 1:
            return None
        name, _, signed = tokens[0].partition("~")
        try:
            category = Category(name)
        except ValueError:
            return None
        if not self._tokens.redeem(signed, _purpose(category), profile, host, now):
            return None
        with self._lock:
            if len(self._grants) >= MAX_GRANTS:
                self._grants = {k: v for k, v in self._grants.items() if v > now}
            self._grants[(profile, host, category)] = now + GRANT_LIFETIME
        rest = [(key, value) for key, value in pairs if key != TOKEN_PARAM]
        return f"{base}?{urlencode(rest)}" if rest else base

    def granted(self, profile: str, host: str, category: Category, now: dt.datetime) -> bool:
        until = self._grants.get((profile, host, category))
        return until is not None and now < until


def _purpose(category: Category) -> str:
    return f"{_PURPOSE}:{category}"
