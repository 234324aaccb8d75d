"""`abhaya eval queries`' pure part: reading a labelled file, judging verdicts, the tables."""

from __future__ import annotations

import json

import pytest

from abhaya.filters.decide import decide
from abhaya.filters.evaluate import (
    EvalQuery,
    QueryFileError,
    evaluate,
    is_right,
    parse_queries,
    search_url,
)
from abhaya.filters.policy.compile import load_policy
from abhaya.filters.verdict import ALLOW, Action, Category, Reason, RequestInfo, Verdict
from tests.conftest import MONDAY_MORNING


def _line(**fields: object) -> str:
    record: dict[str, object] = {"id": "g1", "q": "abc", "category": "none", "lang": "en"}
    record.update(fields)
    return json.dumps(record)


def test_parse_queries_reads_labelled_lines_and_skips_blank_ones() -> None:
    text = _line() + "\n\n" + _line(id="g2", q="xyz", category="adult", lang="hi") + "\n"
    assert parse_queries(text, "set.jsonl") == [
        EvalQuery("g1", "abc", "none", "en"),
        EvalQuery("g2", "xyz", "adult", "hi"),
    ]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (_line(q=5), "field 'q'"),
        (_line(category="spam"), "category must be one of"),
    ],
)
def test_a_bad_line_is_refused_with_file_line_and_reason(bad: str, reason: str) -> None:
    with pytest.raises(QueryFileError) as err:
        parse_queries(_line() + "\n" + bad + "\n", "set.jsonl")
    assert (err.value.problem.file, err.value.problem.line) == ("set.jsonl", 2)
    assert reason in str(err.value)


def _stop(action: Action, category: Category) -> Verdict:
    return Verdict(action, Reason.SEARCH_RULE, category=category)


@pytest.mark.parametrize(
    ("category", "verdict", "right"),
    [
        ("csam", _stop(Action.BLOCK, Category.CSAM), True),
        ("csam", _stop(Action.BLOCK, Category.ADULT), False),
        ("self_harm", _stop(Action.WARN, Category.SELF_HARM), True),
        ("self_harm", _stop(Action.BLOCK, Category.ADULT), False),
        ("adult", _stop(Action.BLOCK, Category.ADULT), True),
        ("adult", _stop(Action.WARN, Category.CSAM), True),
        ("adult", ALLOW, False),
        ("none", ALLOW, True),
        ("none", Verdict(Action.REWRITE, Reason.SAFE_SEARCH), True),
        ("none", _stop(Action.WARN, Category.ADULT), False),
    ],
)
def test_is_right(category: str, verdict: Verdict, right: bool) -> None:
    assert is_right(category, verdict) is right


def test_search_url_is_a_google_search() -> None:
    assert search_url("a b&c") == "https://www.google.com/search?q=a+b%26c"


def test_evaluate_with_the_default_policy_counts_per_category_and_language() -> None:
    profile = load_policy().profile()
    queries = [
        EvalQuery("g1", "k1d nud3s", "csam", "en"),
        EvalQuery("g2", "नाबालिग नंगी", "csam", "hi"),
        EvalQuery("g3", "weather today", "csam", "en"),  # a miss, on purpose
        EvalQuery("g4", "essex weather", "none", "en"),
    ]
    report = evaluate(queries, lambda url: decide(RequestInfo(url), profile, MONDAY_MORNING))
    assert (report.tally("csam").right, report.tally("csam").total) == (2, 3)
    assert report.tally("csam", "hi").share == 1.0
    assert report.tally("none").share == 1.0
    assert [o.query.id for o in report.wrong()] == ["g3"]
    table = report.table()
    assert "| csam | 2/3 (67%) | 1/2 (50%) | 1/1 (100%) |" in table
    assert "g3" in table and "Wrong: 1 of 4" in table
    data = report.as_json()
    assert data["wrong"] == [
        {
            "id": "g3",
            "q": "weather today",
            "category": "csam",
            "lang": "en",
            "action": "rewrite",
            "got": None,
            "reason": "safe_search",
            "rule": "google",
        }
    ]
