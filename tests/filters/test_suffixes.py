"""Sites and platforms from the Public Suffix List."""

from __future__ import annotations

import pytest

from abhaya.filters.suffixes import is_public_suffix, registrable_domain


@pytest.mark.parametrize(
    ("host", "site"),
    [
        ("www.bet365.com", "bet365.com"),
        ("sports.bet365.com", "bet365.com"),
        ("bet365.com", "bet365.com"),
        ("news.bbc.co.uk", "bbc.co.uk"),
        ("someone.blogspot.com", "someone.blogspot.com"),
        ("a.b.github.io", "b.github.io"),
        ("blogspot.com", "blogspot.com"),
        ("co.uk", "co.uk"),
        ("localhost", "localhost"),
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8::1", "2001:db8::1"),
        ("abhaya-csam-test.invalid", "abhaya-csam-test.invalid"),
    ],
)
def test_registrable_domain(host: str, site: str) -> None:
    assert registrable_domain(host) == site


@pytest.mark.parametrize(
    ("host", "public"),
    [
        ("com", True),
        ("co.uk", True),
        ("blogspot.com", True),
        ("github.io", True),
        ("someone.blogspot.com", False),
        ("bet365.com", False),
        ("192.0.2.7", False),
        ("", False),
    ],
)
def test_is_public_suffix(host: str, public: bool) -> None:
    assert is_public_suffix(host) is public
