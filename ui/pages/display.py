"""Make reflected values safe to *look at* on a warning page.

HTML escaping is Jinja's job (autoescape is on); this module deals with what escaping cannot:
very long addresses that would swamp a small screen, and invisible control characters (bidi
overrides such as U+202E) that could make an address read as something it is not.
"""

from __future__ import annotations

import unicodedata

ELLIPSIS = "\u2026"


def _visible(text: str) -> str:
    """Drop control and format characters (C0/C1 controls, bidi overrides, zero-width marks)."""
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))


def shorten(text: str, limit: int) -> str:
    """Keep the start and the end of `text` with an ellipsis between, at most `limit` chars.

    Both ends are kept because the start names the site and the end often names the page.
    """
    clean = _visible(text).strip()
    if len(clean) <= limit:
        return clean
    tail = limit // 4
    head = limit - tail - 1
    return clean[:head] + ELLIPSIS + clean[-tail:]
