"""Sites and platforms, from the Public Suffix List (the `publicsuffixlist` package ships it).

Two questions depend on where one site ends and the next begins:

- A parent approving `www.bet365.com` means the site, so `bet365.com` and `sports.bet365.com`
  are approved too: `registrable_domain()` names the site.
- A crawled block list that names `blogspot.com` or `github.io` names a platform on which every
  blog or page is someone else's site.  The list's private section names exactly these
  multi-tenant platforms, so `is_public_suffix()` tells a list loader to block that host alone.

IP addresses and single labels (`localhost`) are their own site.  The list is read once, at
first use, from the package's data; nothing is fetched.
"""

from __future__ import annotations

import ipaddress
from functools import cache

from publicsuffixlist import PublicSuffixList


@cache
def _list() -> PublicSuffixList:
    return PublicSuffixList()


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def is_public_suffix(host: str) -> bool:
    """Whether `host` (normalised, lower case, no trailing dot) is itself a public suffix:
    a TLD (`com`, `co.uk`) or a platform under which others own sites (`blogspot.com`)."""
    if not host or _is_ip(host):
        return False
    return bool(_list().is_public(host))


def registrable_domain(host: str) -> str:
    """The site `host` belongs to: `sports.bet365.com` -> `bet365.com`,
    `a.github.io` -> `a.github.io`.  A public suffix, an IP address or a single label is
    returned as it is, so the answer is never wider than the host itself."""
    if not host or _is_ip(host):
        return host
    site = _list().privatesuffix(host)
    return str(site) if site else host
