"""The verdict on one image: hash matches first, then what could not be checked, then the
classifier's score against the profile's threshold and action."""

from __future__ import annotations

import dataclasses

import pytest

from abhaya.filters.imagerules import ImageFindings, image_verdict
from abhaya.filters.pdqmatch import HashHit
from abhaya.filters.policy.compile import ImageScreening
from abhaya.filters.policy.model import ImageAction, UnscannableAction
from abhaya.filters.verdict import Action, Category, Reason

RULES = ImageScreening()
DEFAULT = 0.8


def test_a_known_image_is_blocked_whatever_the_profile_says() -> None:
    found = ImageFindings(
        score=0.0,
        match=HashHit("known-images", "3", Category.CSAM, "case-1", "ab" * 32, 7),
        unscannable="",
    )
    for rules in (RULES, ImageScreening(enabled=False, action=ImageAction.LOG)):
        verdict = image_verdict(found, rules, DEFAULT)
        assert (verdict.action, verdict.reason, verdict.category) == (
            Action.BLOCK,
            Reason.HASH_MATCH,
            Category.CSAM,
        )
        assert verdict.rule == "known-images" and "distance 7" in verdict.detail


@pytest.mark.parametrize(
    ("unscannable", "action"),
    [(UnscannableAction.BLOCK, Action.BLOCK), (UnscannableAction.ALLOW, Action.ALLOW)],
)
def test_an_image_that_could_not_be_checked_gets_the_policys_action(
    unscannable: UnscannableAction, action: Action
) -> None:
    rules = ImageScreening(unscannable=unscannable)
    verdict = image_verdict(ImageFindings(unscannable="truncated"), rules, DEFAULT)
    assert (verdict.action, verdict.reason) == (action, Reason.UNSCANNABLE)
    assert verdict.detail == "the image could not be checked: truncated"


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (ImageAction.BLUR, Action.BLUR),
        (ImageAction.BLOCK, Action.BLOCK),
        (ImageAction.LOG, Action.ALLOW),
    ],
)
def test_a_score_at_the_threshold_gets_the_profiles_action(
    action: ImageAction, expected: Action
) -> None:
    rules = ImageScreening(action=action)
    verdict = image_verdict(ImageFindings(score=DEFAULT, model="m-1"), rules, DEFAULT)
    assert (verdict.action, verdict.reason, verdict.category) == (
        expected,
        Reason.MODEL,
        Category.ADULT,
    )
    assert verdict.rule == "m-1" and "0.80 at threshold 0.80" in verdict.detail


def test_the_profiles_threshold_replaces_the_models() -> None:
    strict = dataclasses.replace(RULES, threshold=0.3)
    found = ImageFindings(score=0.4, model="m-1")
    assert image_verdict(found, RULES, DEFAULT).action is Action.ALLOW
    assert image_verdict(found, strict, DEFAULT).action is Action.BLUR


def test_a_profile_that_does_not_screen_allows_any_score() -> None:
    off = dataclasses.replace(RULES, enabled=False)
    verdict = image_verdict(ImageFindings(score=0.99, model="m-1"), off, DEFAULT)
    assert (verdict.action, verdict.reason) == (Action.ALLOW, Reason.NO_MATCH)


def test_an_image_without_a_score_is_allowed() -> None:
    verdict = image_verdict(ImageFindings(), RULES, DEFAULT)
    assert (verdict.action, verdict.reason) == (Action.ALLOW, Reason.NO_MATCH)
