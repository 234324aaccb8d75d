"""Conversations judged by a given classifier, their file format and the report."""

from __future__ import annotations

import json

import pytest

from abhaya.models.chatthread import ConversationFileError, evaluate, judge, parse_conversations
from abhaya.models.conversation import Sender

# A pretend message model: labels by message text.
LABELS = {
    "how old r u": {"personal_info"},
    "dont tell ur parents": {"secrecy"},
    "ill get u a gift card": {"gifts"},
    "send a pic": {"image_request"},
    "i will leak your photos": {"sextortion"},
    "ur such a loser": {"bullying"},
}


def _classify(texts: list[str]) -> list[frozenset[str]]:
    return [frozenset(LABELS.get(text, set())) for text in texts]


def test_a_thread_is_alerted_at_the_message_that_crossed_and_named_by_its_gravest_risk() -> None:
    messages: list[tuple[Sender, str]] = [
        ("contact", "ur such a loser"),
        ("contact", "how old r u"),
        ("contact", "dont tell ur parents"),
        ("contact", "ill get u a gift card"),
        ("contact", "send a pic"),
    ]
    verdict = judge(messages, _classify)
    assert verdict.as_json() == {
        "risk": "grooming",  # graver than the bullying that alerted first
        "flagged": True,
        "first_alert_at": 0,
        "labels": ["bullying", "gifts", "image_request", "personal_info", "secrecy"],
    }
    assert [(a.risk, a.index) for a in verdict.alerts] == [("bullying", 0), ("grooming", 3)]
    assert verdict.first_late_request == 4


def _line(id: str, risk: str, texts: list[str]) -> str:
    return json.dumps(
        {"id": id, "risk": risk, "messages": [{"from": "contact", "text": t} for t in texts]}
    )


def test_the_report_counts_right_risks_and_early_alerts() -> None:
    text = "\n".join(
        [
            _line(
                "a",
                "grooming",
                ["how old r u", "dont tell ur parents", "ill get u a gift card", "send a pic"],
            ),
            _line("b", "grooming", ["send a pic", "how old r u"]),  # alerted only after it
            _line("c", "sextortion", ["i will leak your photos"]),
            _line("d", "none", ["hi", "see u at school"]),
        ]
    )
    report = evaluate(parse_conversations(text, "c.jsonl"), _classify)
    assert report.right("grooming") == (2, 2)
    assert report.right("none") == (1, 1)
    assert report.early() == (2, 3)  # a: before its photo request; c: a threat; b: after
    assert "| grooming | 2/2 |" in report.table()
    assert report.as_json()["early"] == {"right": 2, "total": 3}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("nope", "not JSON"),
        ('{"id": "x", "risk": "none"}', "'messages' list"),
        ('{"id": "x", "risk": "scary", "messages": []}', "needs an 'id' and a 'risk'"),
        ('{"id": "x", "risk": "none", "messages": [{"from": "bot", "text": "hi"}]}', "'from'"),
    ],
)
def test_a_bad_conversation_line_is_refused_with_file_and_line(line: str, message: str) -> None:
    with pytest.raises(ConversationFileError, match=message) as caught:
        parse_conversations(line, "c.jsonl")
    assert caught.value.problem.line == 1


def test_unlabelled_conversations_are_read_for_classify_chat() -> None:
    (conversation,) = parse_conversations(
        '{"messages": [{"from": "child", "text": "hi"}]}', "<stdin>", labelled=False
    )
    assert conversation.messages == (("child", "hi"),)
