"""Discord's web client: the messages the child sends, and the messages the child receives.

**Sending (REST).**  The web client sends a message with
``POST https://discord.com/api/v9/channels/{channel_id}/messages`` (older and newer clients use
another ``v<N>``, or none: ``/api/channels/...``).  The body is JSON,
``{"content": "<text>", "nonce": "...", "tts": false, ...}``; a message with files is
``multipart/form-data`` whose ``payload_json`` part holds the same JSON.  What this machine
sends is the child's, so the sender is "child" and the thread is the channel id.

**Receiving (the gateway WebSocket).**  The client opens
``wss://gateway.discord.gg/?encoding=json&v=9&compress=zlib-stream``.  Every payload the
server sends is one JSON object ``{"op": <int>, "t": <event name or null>, "s": <seq>,
"d": <data>}``; op 0 is an event ("dispatch").  Two events matter here:

- ``READY`` (op 0, first after the client identifies): ``d.user.id`` is the account logged in
  on this connection, the child;
- ``MESSAGE_CREATE`` (op 0): ``d.content`` the text, ``d.channel_id`` the thread,
  ``d.author.id`` who wrote it: "child" when it is READY's user, else "contact"; "unknown"
  while no READY was seen (a connection resumed after a drop gets ``RESUMED``, not READY).

Every other op and event (heartbeats, presence, typing, guild data) is ignored, and so is
everything the client sends on the socket (heartbeats, identify: its messages go by REST).

With ``compress=zlib-stream`` the server's payloads are binary WebSocket messages that
together form *one* zlib stream for the whole connection: each payload ends with a zlib
``Z_SYNC_FLUSH``, whose last four bytes are ``00 00 ff ff``, and a payload may be split over
several WebSocket messages.  So the messages are kept until one ends with that suffix, then
inflated with the connection's one ``zlib.decompressobj()`` (its window reaches back into
earlier payloads, so no payload can be inflated alone and none may be skipped).  Without
``compress``, payloads are JSON text messages; a client that asked for per-payload compression
(``compress: true`` in identify) gets binary messages that are each a whole zlib stream.

Bounds: in a zlib stream, a WebSocket message over `MAX_FRAME_BYTES`, a payload still
unfinished past it, or one that inflates past `MAX_INFLATED_BYTES`, ends the reading of that
connection (the stream cannot be followed after a gap; the traffic itself is never touched).
So does a stream that is not zlib.  Without the stream, such a message is skipped alone.
``compress=zstd-stream`` (which Discord has tried in its own client) and ``encoding=etf`` are
not read: such a connection is counted as unread, and its traffic passes.
"""

from __future__ import annotations

import email.errors
import re
import zlib
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qs

from abhaya.filters.chatwire.jsonread import Unreadable, id_text, load_json, member
from abhaya.filters.chatwire.message import NOTHING, Read, Sender, found, seen, skipped

MAX_FRAME_BYTES = 1024 * 1024
"""A gateway WebSocket message, or a payload split over several, larger than this is not read."""
MAX_INFLATED_BYTES = 8 * 1024 * 1024
"""A payload inflating past this is not read.  READY for an account in many servers runs to a
few MB; a message event is a few kB."""
SYNC_FLUSH_SUFFIX = b"\x00\x00\xff\xff"
_SEND_PATH = re.compile(r"^/api(?:/v\d+)?/channels/(\d{1,24})/messages/?$")
_WANTED = (b"MESSAGE_CREATE", b"READY")
"""A payload holding neither word is no event read here, and is not parsed at all."""


def read_rest_send(site: str, method: str, path: str, content_type: str, body: bytes) -> Read:
    """The message in a REST send (`path` without the query), or nothing for other requests."""
    found_path = _SEND_PATH.match(path)
    if method.upper() != "POST" or found_path is None:
        return NOTHING
    mime = content_type.partition(";")[0].strip().lower()
    try:
        if mime == "application/json":
            document = load_json(body)
        elif mime == "multipart/form-data":
            document = load_json(_payload_json(content_type, body))
        else:
            return skipped("not JSON")
    except Unreadable as err:
        return skipped(str(err))
    content = member(document, "content")
    if not isinstance(content, str):
        return NOTHING
    return found(seen(site, found_path.group(1), "child", content))


def _payload_json(content_type: str, body: bytes) -> bytes:
    """The ``payload_json`` part of a multipart body, read by the standard e-mail parser."""
    if len(body) > MAX_FRAME_BYTES:
        raise Unreadable("too large")
    head = b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n"
    try:
        message = BytesParser(policy=HTTP).parsebytes(head + body)
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == "payload_json":
                data = part.get_payload(decode=True)
                return data if isinstance(data, bytes) else b""
    except (email.errors.MessageError, ValueError, LookupError, TypeError):
        raise Unreadable("not multipart") from None
    raise Unreadable("no payload_json")


class GatewayReader:
    """One gateway connection: its zlib stream and who the child is.  Made at the WebSocket's
    start from its URL's query, dropped at its end."""

    __slots__ = ("_site", "_inflater", "_pending", "_child", "stopped")

    def __init__(self, site: str, query: str) -> None:
        self._site = site
        params = parse_qs(query, errors="replace")
        compress = params.get("compress", [""])[-1]
        encoding = params.get("encoding", ["json"])[-1]
        self._inflater = zlib.decompressobj() if compress == "zlib-stream" else None
        self._pending = bytearray()
        self._child: str | None = None
        self.stopped: str | None = None
        """Why this connection is no longer read, or None while it is."""
        if compress not in ("", "zlib-stream"):
            self.stopped = f"compress={compress[:20]} not read"
        elif encoding != "json":
            self.stopped = f"encoding={encoding[:20]} not read"

    @property
    def child(self) -> str | None:
        """The account id READY named, once it came."""
        return self._child

    def frame(self, data: bytes, is_text: bool, from_client: bool) -> Read:
        """Read one WebSocket message of this connection."""
        if from_client:
            return NOTHING
        if self.stopped is not None:
            return skipped("connection not read")
        if len(data) > MAX_FRAME_BYTES:
            # In a zlib stream a payload skipped loses the stream; a plain one loses itself.
            return self._stop("too large") if self._inflater is not None else skipped("too large")
        if self._inflater is not None:
            self._pending += data
            if len(self._pending) > MAX_FRAME_BYTES:
                return self._stop("too large")
            if not self._pending.endswith(SYNC_FLUSH_SUFFIX):
                return NOTHING
            payload = self._inflate(self._inflater, bytes(self._pending))
            self._pending.clear()
        elif not is_text:
            payload = self._inflate(zlib.decompressobj(), data)
        else:
            payload = data
        if payload is None:
            return skipped(self.stopped or "not zlib")
        return self._payload(payload)

    def _stop(self, reason: str) -> Read:
        self.stopped = reason
        self._inflater = None
        self._pending = bytearray()
        return skipped(reason)

    def _inflate(self, inflater: zlib._Decompress, data: bytes) -> bytes | None:
        try:
            out = inflater.decompress(data, MAX_INFLATED_BYTES + 1)
        except zlib.error:
            if inflater is self._inflater:
                self._stop("not zlib")
            return None
        if len(out) > MAX_INFLATED_BYTES or inflater.unconsumed_tail:
            if inflater is self._inflater:
                self._stop("inflates too large")
            return None
        return out

    def _payload(self, payload: bytes) -> Read:
        if not any(word in payload for word in _WANTED):
            return NOTHING
        try:
            event = load_json(payload, MAX_INFLATED_BYTES)
        except Unreadable as err:
            return skipped(str(err))
        if member(event, "op") != 0:
            return NOTHING
        name = member(event, "t")
        if name == "READY":
            self._child = id_text(member(event, "d", "user", "id"))
            return NOTHING
        if name != "MESSAGE_CREATE":
            return NOTHING
        content = member(event, "d", "content")
        channel = id_text(member(event, "d", "channel_id"))
        if not isinstance(content, str) or channel is None:
            return NOTHING
        return found(seen(self._site, channel, self._sender(event), content))

    def _sender(self, event: object) -> Sender:
        if self._child is None:
            return "unknown"
        author = id_text(member(event, "d", "author", "id"))
        return "child" if author == self._child else "contact"
