"""Plain JSON and form chats read by common field names, without knowing the site."""

from __future__ import annotations

import json

import pytest

from abhaya.filters.chatwire.generic import (
    DEFAULT_FIELDS,
    MAX_MESSAGES,
    JsonFields,
    read_json_chat,
)
from abhaya.filters.chatwire.jsonread import MAX_JSON_BYTES
from abhaya.filters.chatwire.message import Read, SeenMessage, Sender

WHERE = "chat.example/socket"


def read(
    document: object,
    sender: Sender = "unknown",
    fields: JsonFields = DEFAULT_FIELDS,
) -> list[tuple[str, str, str]]:
    data = json.dumps(document).encode()
    result = read_json_chat("chat", fields, data, "", where=WHERE, default_sender=sender)
    assert result.skipped is None
    return [(m.thread, m.sender, m.text) for m in result.messages]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"type": "message", "room": "42", "text": "hi"}, [("42", "unknown", "hi")]),
        ({"channel_id": 77, "content": "hello"}, [("77", "unknown", "hello")]),
        ({"msg": "no thread here"}, [(WHERE, "unknown", "no thread here")]),
        # Wrappers: the thread around the message counts, the text is found further down.
        (
            {"conversation": "c1", "data": {"message": {"body": "wrapped"}}},
            [("c1", "unknown", "wrapped")],
        ),
        # A batch: each message with its own thread.
        (
            [{"thread": "a", "text": "one"}, {"thread": "b", "text": "two"}],
            [("a", "unknown", "one"), ("b", "unknown", "two")],
        ),
        # The sender said in a field wins over the direction.
        ({"room": "r", "from": "me", "text": "mine"}, [("r", "child", "mine")]),
        ({"room": "r", "direction": "incoming", "text": "theirs"}, [("r", "contact", "theirs")]),
        # Not a message: no text field, or an empty one; a bare string or number.
        ({"type": "typing", "room": "r"}, []),
        ({"text": "   "}, []),
        ("just a string", []),
        (12, []),
    ],
)
def test_common_fields(document: object, expected: list[tuple[str, str, str]]) -> None:
    assert read(document) == expected


def test_direction_gives_the_sender_when_no_field_does() -> None:
    assert read({"text": "sent by this machine"}, sender="child") == [
        (WHERE, "child", "sent by this machine")
    ]


def test_a_policy_can_name_other_fields() -> None:
    fields = JsonFields(text=("say",), thread=("group",), sender=("who",))
    assert read(
        {"group": "g7", "who": "outgoing", "say": "hey", "text": "not this"}, "unknown", fields
    ) == [("g7", "child", "hey")]


def test_messages_per_document_and_depth_are_bounded() -> None:
    many = [{"text": f"m{n}"} for n in range(500)]
    assert len(read(many)) == MAX_MESSAGES
    deep: object = {"text": "deep"}
    for _ in range(10):
        deep = {"data": deep}
    assert read(deep) == []


def test_form_bodies_are_read_as_one_object() -> None:
    result = read_json_chat(
        "chat",
        DEFAULT_FIELDS,
        b"room_id=5&message=meet+me+%40+park&token=x",
        "application/x-www-form-urlencoded; charset=UTF-8",
        where=WHERE,
        default_sender="child",
    )
    assert result.messages == (SeenMessage("chat", "5", "child", "meet me @ park"),)


@pytest.mark.parametrize(
    ("data", "content_type", "reason"),
    [
        (b"\xff\xfe\xfd", "", "not UTF-8"),
        (b'{"text": "unfinished', "", "not JSON"),
        (b"[" * 200_000, "", "too deep"),
        (b'"' + b"a" * MAX_JSON_BYTES + b'"', "", "too large"),
        (b"text=%FF\xff", "application/x-www-form-urlencoded", "not UTF-8"),
        (b"a=" * (MAX_JSON_BYTES // 2 + 1), "application/x-www-form-urlencoded", "too large"),
        (
            b"&".join(b"k%d=v" % n for n in range(1500)),
            "application/x-www-form-urlencoded",
            "not a form",
        ),
    ],
)
def test_hostile_input_is_skipped_with_a_reason(
    data: bytes, content_type: str, reason: str
) -> None:
    result = read_json_chat(
        "chat", DEFAULT_FIELDS, data, content_type, where=WHERE, default_sender="unknown"
    )
    assert result == Read((), reason)
