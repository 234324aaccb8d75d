"""Validate and normalise one domain from a block list, fast for the common case.

A UT1 category holds millions of lines, nearly all plain lowercase ASCII names, so those take a
fast path: one C-level regex match.  Anything else (Unicode, upper case that needs IDNA mapping,
IP addresses in any spelling, names that end in a number) goes through
`urlnorm.normalize_host`, so a list entry and a URL host always end up in the same form.

List entries are held to a stricter standard than URL hosts: letters, digits, `-` and `_` only,
labels of 1 to 63 characters, at most 253 in all.  A browser would accept `a*b.example`, but in a
block list it is a mistake worth reporting.
"""

from __future__ import annotations

import ipaddress
import re

from abhaya.filters.urlnorm import UrlError, normalize_host

__all__ = ["normalize_domain"]

_DOMAIN = re.compile(r"[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*")
_MAX_LENGTH = 253


def normalize_domain(text: str) -> str:
    """The canonical form of a listed domain or IP address; raises `UrlError` saying what is wrong.

    `text` must be stripped of surrounding whitespace and of list syntax (`*.`, `||`, `^`).
    """
    if text.isascii():
        domain = text.lower()
        if domain.endswith("."):
            domain = domain[:-1]
        if (
            _DOMAIN.fullmatch(domain)
            and len(domain) <= _MAX_LENGTH
            and not domain[-1].isdigit()
            and not domain.startswith("0x")
            and ".0x" not in domain
        ):
            return domain
    if "/" in text:
        raise UrlError("a URL or path, not a domain")
    domain = normalize_host(text)
    if _is_ip(domain):
        return domain
    if len(domain) > _MAX_LENGTH:
        raise UrlError(f"domain longer than {_MAX_LENGTH} characters")
    if not _DOMAIN.fullmatch(domain):
        if any(len(label) > 63 for label in domain.split(".")):
            raise UrlError("label longer than 63 characters")
        raise UrlError("invalid character in domain")
    return domain


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
