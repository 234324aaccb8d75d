"""Pick the language of a warning page.

A parent's choice for the child's profile wins; otherwise the browser's `Accept-Language` header
decides; otherwise English.  The header comes from the network, so it is parsed with Werkzeug's
tested parser (q-values, wildcards, region subtags such as `hi-IN` matching `hi`) and garbage only
ever leads to the fallback, never to an exception on the request path.
"""

from __future__ import annotations

from collections.abc import Sequence

from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from abhaya.ui.pages.packs import FALLBACK_LANGUAGE

# A real browser sends well under 200 characters; anything longer is not worth parsing.
_MAX_HEADER = 1024


def _primary(tag: str) -> str:
    return tag.strip().replace("_", "-").split("-", 1)[0].lower()


def choose_language(
    accept_language: str | None, preferred: str | None, available: Sequence[str]
) -> str:
    """Return the language to render in: one of `available`, or `en`."""
    if preferred:
        wanted = _primary(preferred)
        if wanted in available:
            return wanted
    if accept_language and len(accept_language) <= _MAX_HEADER:
        accepted = parse_accept_header(accept_language, LanguageAccept)
        best = accepted.best_match(list(available))
        if best is not None:
            return best
    return FALLBACK_LANGUAGE
