"""Discord's web client read from the bytes its REST sends and gateway frames carry.

Gateway frames are built as Discord's server builds them: one `zlib.compressobj` per
connection, each payload flushed with `Z_SYNC_FLUSH` (so each ends with 00 00 ff ff).
"""

from __future__ import annotations

import json
import os
import zlib

import pytest

from abhaya.filters.chatwire.discord import (
    MAX_FRAME_BYTES,
    MAX_INFLATED_BYTES,
    SYNC_FLUSH_SUFFIX,
    GatewayReader,
    read_rest_send,
)
from abhaya.filters.chatwire.message import MAX_TEXT_CHARS, SeenMessage

QUERY = "encoding=json&v=9&compress=zlib-stream"
CHILD = "80351110224678912"
FRIEND = "41771983423143937"


def dispatch(name: str, data: dict[str, object], seq: int = 1) -> bytes:
    return json.dumps({"op": 0, "t": name, "s": seq, "d": data}).encode()


def ready(user: str = CHILD) -> bytes:
    return dispatch("READY", {"v": 9, "user": {"id": user, "username": "kid"}, "guilds": []})


def message_create(author: str, text: str, channel: str = "1100") -> bytes:
    return dispatch(
        "MESSAGE_CREATE",
        {"id": "9", "channel_id": channel, "author": {"id": author}, "content": text},
    )


class Server:
    """Discord's side of one zlib-stream connection."""

    def __init__(self) -> None:
        self._deflate = zlib.compressobj()

    def frame(self, payload: bytes) -> bytes:
        return self._deflate.compress(payload) + self._deflate.flush(zlib.Z_SYNC_FLUSH)


def test_zlib_stream_tells_child_from_contact_after_ready() -> None:
    server, reader = Server(), GatewayReader("discord", QUERY)
    frames = [
        server.frame(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}).encode()),
        server.frame(message_create(FRIEND, "before ready")),
        server.frame(ready()),
        server.frame(message_create(FRIEND, "hi, how old are you?", "2200")),
        server.frame(message_create(CHILD, "twelve", "2200")),
        server.frame(dispatch("TYPING_START", {"channel_id": "2200", "user_id": FRIEND})),
    ]
    assert all(frame.endswith(SYNC_FLUSH_SUFFIX) for frame in frames)
    read = [reader.frame(frame, False, False) for frame in frames]
    assert [m for r in read for m in r.messages] == [
        SeenMessage("discord", "1100", "unknown", "before ready"),
        SeenMessage("discord", "2200", "contact", "hi, how old are you?"),
        SeenMessage("discord", "2200", "child", "twelve"),
    ]
    assert all(r.skipped is None for r in read)
    assert reader.child == CHILD


def test_a_payload_split_over_frames_is_kept_until_its_suffix() -> None:
    server, reader = Server(), GatewayReader("discord", QUERY)
    assert reader.frame(server.frame(ready()), False, False).skipped is None
    whole = server.frame(message_create(FRIEND, "split " * 200))
    pieces = [whole[:5], whole[5:40], whole[40:]]
    results = [reader.frame(piece, False, False) for piece in pieces]
    assert [r.messages for r in results[:-1]] == [(), ()]
    assert results[-1].messages == (
        SeenMessage("discord", "1100", "contact", ("split " * 200).strip()),
    )


def test_plain_json_text_frames_without_compression() -> None:
    reader = GatewayReader("discord", "encoding=json&v=9")
    reader.frame(ready(), True, False)
    read = reader.frame(message_create(CHILD, "mine"), True, False)
    assert read.messages == (SeenMessage("discord", "1100", "child", "mine"),)


def test_per_payload_compression_is_read_too() -> None:
    reader = GatewayReader("discord", "encoding=json&v=9")
    reader.frame(zlib.compress(ready()), False, False)
    read = reader.frame(zlib.compress(message_create(FRIEND, "packed")), False, False)
    assert read.messages == (SeenMessage("discord", "1100", "contact", "packed"),)


def test_what_the_client_sends_on_the_gateway_is_not_read() -> None:
    reader = GatewayReader("discord", "encoding=json&v=9")
    identify = json.dumps({"op": 2, "d": {"token": "t", "properties": {}}}).encode()
    assert reader.frame(identify, True, True).messages == ()
    assert reader.frame(message_create(CHILD, "from client?"), True, True).messages == ()


def test_other_ops_and_events_are_ignored_without_error() -> None:
    reader = GatewayReader("discord", "encoding=json&v=9")
    for payload in (
        json.dumps({"op": 11}).encode(),
        json.dumps({"op": 1, "d": 5}).encode(),
        dispatch("MESSAGE_UPDATE", {"content": "edited", "channel_id": "1"}),
        json.dumps({"op": 0, "t": "MESSAGE_CREATE", "d": {"content": 5}}).encode(),
        json.dumps({"op": 0, "t": "MESSAGE_CREATE", "d": "READY"}).encode(),
        json.dumps(["MESSAGE_CREATE"]).encode(),
        dispatch("MESSAGE_CREATE", {"channel_id": "1", "author": {"id": "2"}, "content": ""}),
    ):
        read = reader.frame(payload, True, False)
        assert read.messages == () and read.skipped is None


def test_text_is_cut_to_the_limit() -> None:
    reader = GatewayReader("discord", "encoding=json&v=9")
    read = reader.frame(message_create(FRIEND, "x" * (MAX_TEXT_CHARS + 50)), True, False)
    assert len(read.messages[0].text) == MAX_TEXT_CHARS


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("encoding=json&v=9&compress=zstd-stream", "compress=zstd-stream not read"),
        ("encoding=etf&v=9", "encoding=etf not read"),
    ],
)
def test_formats_not_read_are_said_so(query: str, reason: str) -> None:
    reader = GatewayReader("discord", query)
    assert reader.stopped == reason
    assert reader.frame(message_create(FRIEND, "x"), True, False).skipped == "connection not read"


def test_a_stream_that_is_not_zlib_stops_reading_that_connection() -> None:
    reader = GatewayReader("discord", QUERY)
    read = reader.frame(os.urandom(300) + SYNC_FLUSH_SUFFIX, False, False)
    assert read.skipped == "not zlib"
    # A real payload after the gap cannot be inflated: the stream is lost, and said so.
    later = reader.frame(Server().frame(message_create(FRIEND, "lost")), False, False)
    assert later.messages == () and later.skipped == "connection not read"


def test_a_payload_never_finished_is_not_buffered_without_bound() -> None:
    reader = GatewayReader("discord", QUERY)
    piece = b"\x78\x9c" + b"\x01" * (MAX_FRAME_BYTES // 2)
    assert reader.frame(piece, False, False).skipped is None
    assert reader.frame(piece, False, False).skipped == "too large"
    assert reader.stopped == "too large"


def test_a_payload_that_inflates_too_large_is_not_read() -> None:
    server, reader = Server(), GatewayReader("discord", QUERY)
    bomb = server.frame(b"[" + b" " * (MAX_INFLATED_BYTES + 10) + b"]")
    assert len(bomb) < MAX_FRAME_BYTES
    assert reader.frame(bomb, False, False).skipped == "inflates too large"


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"\xff\xfe MESSAGE_CREATE \x80", "not UTF-8"),
        (b'{"op": 0, "t": "MESSAGE_CREATE", "d": ', "not JSON"),
        (b"[" * 100_000 + b'"READY"' + b"]" * 100_000, "too deep"),
        (b"MESSAGE_CREATE" * 80_000, "too large"),
    ],
)
def test_hostile_text_frames_are_skipped_with_a_reason(frame: bytes, reason: str) -> None:
    reader = GatewayReader("discord", "encoding=json&v=9")
    read = reader.frame(frame, True, False)
    assert read == read.__class__((), reason)
    # The connection is still read after it.
    assert reader.frame(message_create(FRIEND, "still here"), True, False).messages


def test_rest_send_json_is_the_childs_message_in_its_channel() -> None:
    body = json.dumps({"content": "see you at 5", "nonce": "1", "tts": False}).encode()
    read = read_rest_send(
        "discord", "POST", "/api/v9/channels/3300/messages", "application/json", body
    )
    assert read.messages == (SeenMessage("discord", "3300", "child", "see you at 5"),)


def test_rest_send_multipart_payload_json() -> None:
    boundary = "----form42"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="payload_json"\r\n'
        "Content-Type: application/json\r\n\r\n"
        '{"content": "look at this", "attachments": [{"id": "0"}]}\r\n'
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="files[0]"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
        "\x89PNG...\r\n"
        f"--{boundary}--\r\n"
    ).encode("latin-1")
    read = read_rest_send(
        "discord",
        "POST",
        "/api/v9/channels/3300/messages",
        f"multipart/form-data; boundary={boundary}",
        body,
    )
    assert read.messages == (SeenMessage("discord", "3300", "child", "look at this"),)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v9/channels/3300/messages"),
        ("POST", "/api/v9/channels/3300/typing"),
        ("POST", "/api/v9/channels/3300/messages/77/ack"),
        ("PATCH", "/api/v9/channels/3300/messages/77"),
        ("POST", "/api/v9/science"),
    ],
)
def test_other_rest_calls_are_not_messages(method: str, path: str) -> None:
    body = json.dumps({"content": "not a send"}).encode()
    assert read_rest_send("discord", method, path, "application/json", body).messages == ()


@pytest.mark.parametrize(
    ("content_type", "body", "reason"),
    [
        ("application/json", b"\xc3\x28", "not UTF-8"),
        ("application/json", b"[" * 50_000, "too deep"),
        ("application/json", b"x" * (MAX_FRAME_BYTES + 1), "too large"),
        ("text/plain", b"hello", "not JSON"),
        ("multipart/form-data; boundary=zz", b"--zz\r\nnothing\r\n--zz--", "no payload_json"),
    ],
)
def test_hostile_rest_bodies_are_skipped(content_type: str, body: bytes, reason: str) -> None:
    read = read_rest_send("discord", "POST", "/api/v9/channels/1/messages", content_type, body)
    assert read.messages == () and read.skipped == reason
