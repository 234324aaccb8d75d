"""Signed "continue anyway" links: bound to one profile, host and category, short-lived,
single-use, unforgeable."""

from __future__ import annotations

import datetime as dt

from abhaya.agent.grants import GRANT_LIFETIME, LINK_LIFETIME, TOKEN_PARAM, ContinueGrants
from abhaya.filters.verdict import Category

NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)
GAMES = Category.GAMES


def test_link_grants_its_host_and_comes_back_clean() -> None:
    grants = ContinueGrants()
    link = grants.continue_path("/play?level=2", "child", "games.example", GAMES, NOW)
    assert link.startswith("/play?level=2&" + TOKEN_PARAM + "=")
    assert not grants.granted("child", "games.example", GAMES, NOW)
    assert grants.redeem(link, "child", "games.example", NOW) == "/play?level=2"
    assert grants.granted("child", "games.example", GAMES, NOW + GRANT_LIFETIME / 2)
    assert not grants.granted("child", "games.example", GAMES, NOW + GRANT_LIFETIME)


def test_link_is_bound_to_host_profile_and_category() -> None:
    grants = ContinueGrants()
    link = grants.continue_path("/", "child", "games.example", GAMES, NOW)
    assert grants.redeem(link, "child", "other.example", NOW) is None
    assert grants.redeem(link, "teen", "games.example", NOW) is None
    assert not grants.granted("child", "other.example", GAMES, NOW)
    assert grants.redeem(link, "child", "games.example", NOW) == "/"
    # Continuing past one category's warning lets that category through, no other.
    assert grants.granted("child", "games.example", GAMES, NOW)
    assert not grants.granted("child", "games.example", Category.VIOLENCE, NOW)


def test_a_link_works_once() -> None:
    grants = ContinueGrants()
    link = grants.continue_path("/", "child", "games.example", Category.SELF_HARM, NOW)
    assert grants.redeem(link, "child", "games.example", NOW) == "/"
    assert grants.redeem(link, "child", "games.example", NOW) is None


def test_a_link_cannot_be_moved_to_another_category() -> None:
    grants = ContinueGrants()
    link = grants.continue_path("/", "child", "games.example", GAMES, NOW)
    moved = link.replace(f"{TOKEN_PARAM}=games", f"{TOKEN_PARAM}=violence")
    assert moved != link
    assert grants.redeem(moved, "child", "games.example", NOW) is None
    assert not grants.granted("child", "games.example", Category.VIOLENCE, NOW)


def test_expired_forged_and_repeated_tokens_grant_nothing() -> None:
    grants = ContinueGrants()
    link = grants.continue_path("/", "child", "games.example", GAMES, NOW)
    assert grants.redeem(link, "child", "games.example", NOW + LINK_LIFETIME * 2) is None
    expiry = int((NOW + LINK_LIFETIME).timestamp())
    for token in (f"games~{expiry}.{'0' * 32}", "garbage", f"games~{expiry}", "", "nope~x.y.z"):
        assert grants.redeem(f"/?{TOKEN_PARAM}={token}", "child", "games.example", NOW) is None
    doubled = link + "&" + link.partition("?")[2]
    assert grants.redeem(doubled, "child", "games.example", NOW) is None
    other_key = ContinueGrants()  # its own signing key
    assert other_key.redeem(link, "child", "games.example", NOW) is None
    assert not grants.granted("child", "games.example", GAMES, NOW)
