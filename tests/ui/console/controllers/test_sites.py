"""What an event's detail offers to do about its site, and the question asked before."""

from __future__ import annotations

import textwrap

import pytest

from abhaya.client import contract
from abhaya.ui.console.controllers.sites import (
    EVERY_CHILD,
    SiteChange,
    change_for,
    offer_of,
    site_of,
)
from abhaya.ui.console.policyedit import read_rules
from abhaya.ui.console.texts import Texts

RULES = read_rules(
    textwrap.dedent(
        """\
        version = 1
        [profiles.asha]
        [profiles.ravi]
        """
    )
)
EN = Texts("en")


def _event(**fields: object) -> contract.EventRecord:
    base: dict[str, object] = {
        "id": 1, "time": "2026-11-30T10:00:00+00:00", "kind": "verdict", "profile": "asha",
        "category": "gambling", "action": "block", "domain": "www.bet.example",
        "url": "https://www.bet.example/odds", "rule": "bet.example", "app": "",
        "detail": "", "reason": "list", "os_user": "", "process": "",
    }  # fmt: skip
    return contract.EventRecord(**(base | fields))  # type: ignore[typeddict-item]


@pytest.mark.parametrize(
    ("host", "site"),
    [
        ("www.bet.example", "bet.example"),
        ("Sports.Bet365.co.uk.", "bet365.co.uk"),
        ("a.github.io", "a.github.io"),  # someone's own site on a platform, not the platform
        ("127.0.0.1", "127.0.0.1"),
        ("", ""),
    ],
)
def test_the_site_is_the_hosts_registrable_domain(host: str, site: str) -> None:
    assert site_of(_event(domain=host)) == site


def test_the_events_child_is_offered_first_then_every_child() -> None:
    offer = offer_of(_event(), RULES, True, EN)
    assert offer is not None
    assert offer.site == "bet.example"
    assert offer.targets == (("asha", "asha"), (EVERY_CHILD, "Every child"))
    assert (offer.can_allow, offer.can_block, offer.note) == (True, True, "")


def test_a_child_no_longer_in_the_policy_leaves_every_child() -> None:
    offer = offer_of(_event(profile="gone"), RULES, True, EN)
    assert offer is not None and offer.targets == ((EVERY_CHILD, "Every child"),)


def test_abuse_material_is_never_offered_an_allow() -> None:
    offer = offer_of(_event(category="csam"), RULES, True, EN)
    assert offer is not None and not offer.can_allow and offer.can_block
    assert offer.note == EN("site_rules.never_allowed")
    assert change_for(offer, RULES, "allow", "asha", EN) is None


def test_a_policy_that_cannot_be_changed_offers_nothing_and_says_why() -> None:
    offer = offer_of(_event(), RULES, False, EN)
    assert offer is not None and not offer.can_allow and not offer.can_block
    assert offer.note == EN("rules.not_editable")
    assert change_for(offer, RULES, "block", "asha", EN) is None


def test_no_site_or_no_policy_yet_offers_nothing() -> None:
    assert offer_of(_event(domain="", kind="tamper"), RULES, True, EN) is None
    assert offer_of(_event(), None, True, EN) is None
    assert offer_of(None, RULES, True, EN) is None


@pytest.mark.parametrize(
    ("language", "listed", "target", "question", "profiles"),
    [
        ("en", "allow", "asha", "Always allow bet.example for asha?", ("asha",)),
        ("en", "block", EVERY_CHILD, "Always block bet.example for every child?",
         ("asha", "ravi")),
        ("hi", "allow", "asha", "क्या asha के लिए bet.example हमेशा खुलने दें?", ("asha",)),
        ("hi", "block", EVERY_CHILD, "क्या सभी बच्चों के लिए bet.example हमेशा रोकें?",
         ("asha", "ravi")),
    ],
)  # fmt: skip
def test_the_parent_is_asked_in_words(
    language: str, listed: str, target: str, question: str, profiles: tuple[str, ...]
) -> None:
    texts = Texts(language)
    offer = offer_of(_event(), RULES, True, texts)
    assert offer is not None
    change = change_for(offer, RULES, listed, target, texts)
    assert isinstance(change, SiteChange)
    assert (change.question, change.profiles, change.listed) == (question, profiles, listed)


def test_a_target_or_list_not_offered_is_no_change() -> None:
    offer = offer_of(_event(), RULES, True, EN)
    assert offer is not None
    assert change_for(offer, RULES, "allow", "ravi", EN) is None
    assert change_for(offer, RULES, "grey", "asha", EN) is None
