"""`abhaya eval chat`'s arithmetic and file reading, on small generated sets."""

from __future__ import annotations

import json

import pytest

from abhaya.models.chateval import ChatReport, MessageFileError, evaluate, parse_messages


def _line(id: str, text: str, lang: str, labels: list[str]) -> str:
    return json.dumps({"id": id, "text": text, "lang": lang, "labels": labels})


SET = "\n".join(
    [
        _line("m1", "where do you live", "en", ["personal_info"]),
        _line("m2", "dont tell your mom", "en", ["secrecy"]),
        _line("m3", "ghar pe koi hai", "hi-Latn", ["personal_info"]),
        _line("m4", "homework done?", "en", []),
        _line("m5", "match kab hai", "hi-Latn", []),
        _line("m6", "send a pic, keep it secret", "en", ["image_request", "secrecy"]),
    ]
)

# What a pretend classifier flags for each message, in order.
FLAGGED = {
    "where do you live": {"personal_info"},
    "dont tell your mom": set(),  # missed
    "ghar pe koi hai": {"personal_info"},
    "homework done?": {"secrecy"},  # a false positive
    "match kab hai": set(),
    "send a pic, keep it secret": {"image_request", "secrecy"},
}


def _report() -> ChatReport:
    messages = parse_messages(SET, "set.jsonl")
    return evaluate(messages, lambda texts: [frozenset(FLAGGED[t]) for t in texts])


def test_per_label_precision_recall_and_f1() -> None:
    report = _report()
    secrecy = report.label("secrecy")
    assert (secrecy.precision, secrecy.recall, secrecy.support) == (0.5, 0.5, 2)
    assert secrecy.f1 == pytest.approx(0.5)
    assert report.label("personal_info").f1 == 1.0
    assert report.label("personal_info", "hi-Latn").support == 1
    assert report.label("bullying").support == 0  # absent labels are not averaged in


def test_macro_f1_averages_the_labels_present() -> None:
    report = _report()
    assert report.macro_f1() == pytest.approx((1.0 + 0.5 + 1.0) / 3)
    assert report.macro_f1("hi-Latn") == 1.0


def test_risky_recall_and_benign_false_positives_per_language() -> None:
    report = _report()
    assert report.risky_recall() == (3, 4)
    assert report.benign_flagged() == (1, 2)
    assert report.benign_flagged("hi-Latn") == (0, 1)
    assert report.risky_recall("hi-Latn") == (1, 1)


def test_table_and_json_say_the_same() -> None:
    report = _report()
    table = report.table()
    assert "| secrecy | 0.50 (0.50 / 0.50) n=2 |" in table
    assert "| benign flagged (false positives) | 1/2 (50.0%) | 1/1 (100.0%) | 0/1 (0.0%) |" in table
    assert "m2 [en] 'dont tell your mom': secrecy -> nothing" in table
    data = report.as_json()
    assert data["all"]["risky_recall"] == {"flagged": 3, "total": 4}  # type: ignore[index]
    assert [w["id"] for w in data["wrong"]] == ["m2", "m4"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({"id": "x", "text": "t", "lang": "en"}), "'labels' must be a list"),
        (json.dumps({"id": "x", "text": 5, "lang": "en", "labels": []}), "field 'text'"),
        (json.dumps({"id": "x", "text": "t", "lang": "en", "labels": ["rude"]}), "unknown label"),
    ],
)
def test_a_bad_line_is_refused_with_file_and_line(line: str, message: str) -> None:
    with pytest.raises(MessageFileError, match=message) as caught:
        parse_messages(_line("ok", "fine", "en", []) + "\n\n" + line, "set.jsonl")
    assert caught.value.problem.line == 3 and "set.jsonl" in str(caught.value)
