"""Where the query model's second opinion sits in `decide()`, and how a policy sets it.

`TableScorer` is a test implementation of the `QueryScorer` protocol (scores by query, and a
record of what it was asked), so the precedence can be shown exactly; the real model's scores
are tested in tests/models and, end to end, in tests/agent.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote_plus

import pytest

from abhaya.filters.decide import decide
from abhaya.filters.policy.compile import CompiledPolicy, load_policy
from abhaya.filters.policy.load import PolicyError
from abhaya.filters.querymodel import MODEL_CATEGORIES, QueryModel
from abhaya.filters.verdict import Action, Category, Reason, RequestInfo
from tests.conftest import MONDAY_MORNING, POLICY, write_policy

QUIET = {category: 0.01 for category in MODEL_CATEGORIES}


class TableScorer:
    """Scores from a table (anything else scores low); remembers every query it was asked."""

    version = "table-scorer-1"
    thresholds: Mapping[Category, float] = {c: 0.8 for c in MODEL_CATEGORIES}

    def __init__(self, table: Mapping[str, Mapping[Category, float]]) -> None:
        self.table = table
        self.asked: list[str] = []

    def score(self, text: str) -> Mapping[Category, float]:
        self.asked.append(text)
        return {**QUIET, **self.table.get(text, {})}


class BrokenScorer(TableScorer):
    def score(self, text: str) -> Mapping[Category, float]:
        raise RuntimeError("the session failed")


TABLE = {
    "secret garden photos": {Category.CSAM: 0.93},
    "very sad riddle": {Category.SELF_HARM: 0.85},
    "spicy pictures": {Category.ADULT: 0.90},
    "borderline words": {Category.ADULT: 0.70},
}


def _compile(tmp_path: Path, scorer: TableScorer, extra: str = "") -> CompiledPolicy:
    return load_policy(write_policy(tmp_path, POLICY + extra), scorer=lambda: scorer)


def _search(query: str, host: str = "duckduckgo.com") -> RequestInfo:
    return RequestInfo(f"https://{host}/?q={quote_plus(query)}")


@pytest.mark.parametrize(
    ("query", "action", "category"),
    [
        ("secret garden photos", Action.BLOCK, Category.CSAM),
        ("very sad riddle", Action.WARN, Category.SELF_HARM),
        ("spicy pictures", Action.BLOCK, Category.ADULT),
    ],
)
def test_a_search_the_rules_leave_undecided_gets_the_models_judgement(
    tmp_path: Path, query: str, action: Action, category: Category
) -> None:
    scorer = TableScorer(TABLE)
    verdict = decide(_search(query), _compile(tmp_path, scorer).profile(), MONDAY_MORNING)
    assert (verdict.action, verdict.reason, verdict.category) == (action, Reason.MODEL, category)
    assert verdict.rule.startswith(f"model:{category}=0.")
    assert "threshold 0.80" in verdict.detail and verdict.source == "table-scorer-1"
    assert verdict.query == query
    assert scorer.asked == [query]


def test_under_the_threshold_the_search_goes_on_to_safe_search(tmp_path: Path) -> None:
    verdict = decide(
        _search("borderline words", "www.bing.com/search"),
        _compile(tmp_path, TableScorer(TABLE)).profile(),
        MONDAY_MORNING,
    )
    assert (verdict.action, verdict.reason) == (Action.REWRITE, Reason.SAFE_SEARCH)


@pytest.mark.parametrize(
    "query",
    [
        "zanzibar quokka",  # a csam keyword spoke
        "12yo nude pics",  # a csam rule spoke
        "secret garden photos helpline",  # a protective word the rules listen to
        "cp cerebral palsy photos",
    ],
)
def test_the_model_is_not_asked_after_csam_or_protective_words(tmp_path: Path, query: str) -> None:
    scorer = TableScorer({query: {c: 0.99 for c in MODEL_CATEGORIES}})
    verdict = decide(_search(query), _compile(tmp_path, scorer).profile(), MONDAY_MORNING)
    assert scorer.asked == []
    assert verdict.reason is not Reason.MODEL


def test_after_a_keyword_or_rule_short_of_csam_only_the_models_csam_counts(
    tmp_path: Path,
) -> None:
    """The model may raise what the lists found to csam, never replace it with its own adult
    or self-harm judgement."""
    scorer = TableScorer(
        {
            "online casino for kids": {Category.CSAM: 0.97},
            "online casino tonight": {Category.ADULT: 0.99, Category.SELF_HARM: 0.99},
        }
    )
    profile = _compile(tmp_path, scorer).profile()
    raised = decide(_search("online casino for kids"), profile, MONDAY_MORNING)
    assert (raised.reason, raised.category) == (Reason.MODEL, Category.CSAM)
    kept = decide(_search("online casino tonight"), profile, MONDAY_MORNING)
    assert (kept.reason, kept.category) == (Reason.KEYWORD, Category.GAMBLING)
    assert scorer.asked == ["online casino for kids", "online casino tonight"]


def test_a_one_word_query_is_never_scored(tmp_path: Path) -> None:
    """One word says too little for the model (and autocomplete sends one at every keystroke);
    the keyword lists judge single words."""
    scorer = TableScorer({"private": {Category.CSAM: 0.99}})
    verdict = decide(_search("  Private "), _compile(tmp_path, scorer).profile(), MONDAY_MORNING)
    assert verdict.reason is not Reason.MODEL and scorer.asked == []


def test_pages_that_are_not_searches_are_never_scored(tmp_path: Path) -> None:
    scorer = TableScorer(TABLE)
    profile = _compile(tmp_path, scorer).profile()
    for url in ("https://example.org/secret-garden-photos", "https://duckduckgo.com/about"):
        assert decide(RequestInfo(url), profile, MONDAY_MORNING).action is Action.ALLOW
    assert scorer.asked == []


def test_the_models_csam_is_zero_tolerance_but_other_categories_follow_the_allow_list(
    tmp_path: Path,
) -> None:
    """The child profile allows www.google.com: csam is blocked there all the same."""
    profile = _compile(tmp_path, TableScorer(TABLE)).profile("child")
    google = "www.google.com/search"
    csam = decide(_search("secret garden photos", google), profile, MONDAY_MORNING)
    assert (csam.action, csam.reason, csam.category) == (Action.BLOCK, Reason.MODEL, Category.CSAM)
    adult = decide(_search("spicy pictures", google), profile, MONDAY_MORNING)
    assert (adult.action, adult.reason) == (Action.ALLOW, Reason.ALLOW_LIST)


def test_a_category_the_profile_allows_is_not_warned_by_the_model(tmp_path: Path) -> None:
    teen = _compile(tmp_path, TableScorer(TABLE)).profile("teen")  # adult = "allow"
    assert decide(_search("spicy pictures"), teen, MONDAY_MORNING).action is Action.ALLOW


def test_a_policy_sets_thresholds_per_category(tmp_path: Path) -> None:
    extra = "\n[search_model]\nthresholds = { adult = 0.6 }\n"
    compiled = _compile(tmp_path, TableScorer(TABLE), extra)
    assert compiled.book.query_model is not None
    assert compiled.book.query_model.thresholds[Category.ADULT] == 0.6
    assert compiled.book.query_model.thresholds[Category.CSAM] == 0.8
    verdict = decide(_search("borderline words"), compiled.profile(), MONDAY_MORNING)
    assert (verdict.reason, verdict.category) == (Reason.MODEL, Category.ADULT)


def test_a_policy_can_turn_the_model_off_and_it_is_then_not_loaded(tmp_path: Path) -> None:
    def must_not_load() -> TableScorer:
        raise AssertionError("loaded although the policy turns the model off")

    extra = "\n[search_model]\nenabled = false\n"
    compiled = load_policy(write_policy(tmp_path, POLICY + extra), scorer=must_not_load)
    assert compiled.book.query_model is None
    verdict = decide(_search("secret garden photos"), compiled.profile(), MONDAY_MORNING)
    assert verdict.reason is not Reason.MODEL


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("thresholds = { gambling = 0.5 }", "scores only adult, csam, self_harm, not gambling"),
        ("thresholds = { csam = 0 }", "greater than 0"),
        ("thresholds = { adult = 1.5 }", "less than or equal to 1"),
        ("threshold = 0.5", "threshold"),
    ],
)
def test_bad_model_settings_are_refused_with_the_reason(
    tmp_path: Path, setting: str, message: str
) -> None:
    with pytest.raises(PolicyError, match=message):
        _compile(tmp_path, TableScorer(TABLE), f"\n[search_model]\n{setting}\n")


def test_a_model_that_cannot_be_loaded_refuses_the_policy(tmp_path: Path) -> None:
    def broken() -> TableScorer:
        raise OSError("weights missing")

    with pytest.raises(PolicyError, match="query model could not be loaded: weights missing"):
        load_policy(write_policy(tmp_path), scorer=broken)


def test_a_scorer_that_fails_is_not_a_pass(tmp_path: Path) -> None:
    """The error reaches the caller: the proxy's fail-closed pipeline blocks the request."""
    profile = _compile(tmp_path, BrokenScorer(TABLE)).profile()
    with pytest.raises(RuntimeError, match="the session failed"):
        decide(_search("anything at all"), profile, MONDAY_MORNING)


def test_judge_lists_every_category_over_its_threshold_highest_first() -> None:
    scorer = TableScorer({"two words": {Category.ADULT: 0.85, Category.CSAM: 0.95}})
    model = QueryModel.with_overrides(scorer, {Category.SELF_HARM: 0.005})
    found = model.judge("two words")
    assert [m.category for m in found] == [Category.CSAM, Category.ADULT, Category.SELF_HARM]
    assert found[0].describe() == "csam score 0.95, threshold 0.80"
